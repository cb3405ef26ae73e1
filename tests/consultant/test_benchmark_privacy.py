"""An attacker who controls some organizations of a peer group tries to trace a hidden peer.

The attack that worked on live percentiles: submit chosen scores for one's own
organizations and read their benchmarks after each, narrowing where a hidden peer's score
lies from the moves. Against snapshots published in quarters, everything the attacker
reads between two snapshots is what it read first: one quarter per organization and
dimension, whatever it submits and however often it asks.
"""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from app.benchmarks.percentile import BANDS_BY_ID
from app.benchmarks.service import BenchmarkRead, organization_benchmark
from app.db import utcnow
from app.intake.models import Assessment, AssessmentStatus
from app.organizations.models import Organization
from tests.conftest import bearer
from tests.reports.conftest import flat_text

SCORE = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda s: round(s, 1))
QUESTIONNAIRE = "hospital-social-media"


def _organization(db, name: str) -> Organization:
    organization = Organization(name=name, type="community_hospital", licensed_beds=50, state="MN")
    db.add(organization)
    db.flush()
    return organization


def _submit(db, organization: Organization, score: float, minutes: int) -> None:
    db.add(
        Assessment(
            organization_id=organization.id,
            questionnaire_id=QUESTIONNAIRE,
            questionnaire_version=1,
            status=AssessmentStatus.SUBMITTED.value,
            submitted_at=utcnow() - timedelta(days=1) + timedelta(minutes=minutes),
            engine_version="test",
            scores={
                "dimensions": [
                    {"dimension_id": "presence", "title": "Presence", "score": score, "level": 1}
                ]
            },
        )
    )
    db.flush()


def _read(db, registry, organization: Organization) -> dict[str, Any]:
    body = BenchmarkRead.model_validate(organization_benchmark(db, registry, organization))
    return body.model_dump(mode="json")


def _attack(db, registry, hidden: float, others: list[float], plan: dict[str, Any]) -> list[Any]:
    """Run the attack in a world where the hidden peer scored ``hidden``; its transcript."""
    savepoint = db.begin_nested()
    try:
        target = _organization(db, "Hidden Peer")
        _submit(db, target, hidden, 0)
        for n, score in enumerate(others):
            _submit(db, _organization(db, f"Other Peer {n}"), score, n + 1)
        mine = [_organization(db, f"Attacker {n}") for n in range(len(plan["own"]))]
        for n, (organization, score) in enumerate(zip(mine, plan["own"], strict=True)):
            _submit(db, organization, score, 100 + n)
        transcript = [[_read(db, registry, organization) for organization in mine]]
        for step, (which, score) in enumerate(plan["moves"]):
            # A new submission with a chosen score, then every benchmark read again.
            _submit(db, mine[which % len(mine)], score, 200 + step)
            transcript.append([_read(db, registry, organization) for organization in mine])
        return transcript
    finally:
        savepoint.rollback()


PLANS = st.fixed_dictionaries(
    {
        "own": st.lists(SCORE, min_size=1, max_size=4),
        "moves": st.lists(st.tuples(st.integers(0, 3), SCORE), min_size=1, max_size=8),
    }
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    hidden=SCORE,
    others=st.lists(SCORE, min_size=4, max_size=8),
    plan=PLANS,
)
def test_an_attackers_submissions_reveal_nothing_beyond_the_published_quarter(
    db, registry, hidden, others, plan
):
    transcript = _attack(db, registry, hidden, others, plan)

    first = transcript[0]
    # Differencing gets nothing: every read after any submission is the first read.
    assert all(reads == first for reads in transcript)
    for body in first:
        assert body["available"] is True
        for dimension in body["dimensions"]:
            # What a read says about peers is a quarter and a count: no exact percentile.
            assert set(dimension) == {
                "dimension_id",
                "title",
                "score",
                "percentile_band",
                "peer_count",
            }
            assert dimension["percentile_band"]["id"] in BANDS_BY_ID


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    hidden=SCORE,
    other_hidden=SCORE,
    others=st.lists(SCORE, min_size=4, max_size=8),
    plan=PLANS,
)
def test_two_hidden_scores_the_published_quarters_cannot_tell_apart_look_the_same(
    db, registry, hidden, other_hidden, others, plan
):
    one = _attack(db, registry, hidden, others, plan)
    other = _attack(db, registry, other_hidden, others, plan)

    # Whatever the attacker does, it sees a difference between the two worlds only
    # where the quarters published at the snapshot differ; never through its moves.
    if one[0] == other[0]:
        assert one == other


def test_a_new_submission_shows_in_the_benchmark_only_after_the_next_snapshot(
    client, make_key, make_organization, submit, next_snapshot
):
    org = make_organization("Lakeside", beds=60)
    first = submit(org, "community-hospital")
    for n in range(5):
        submit(make_organization(f"Peer Hospital {n}", beds=50), "community-hospital")
    consultant = bearer(make_key("consultant", [org.id]))
    url = f"/v1/organizations/{org.id}/benchmarks"

    before = client.get(url, headers=consultant).json()
    second = submit(org, "academic-medical-center")
    submit(make_organization("Peer Hospital 5", beds=50), "academic-medical-center")
    again = client.get(url, headers=consultant).json()
    next_snapshot()
    after = client.get(url, headers=consultant).json()

    assert before == again
    assert before["assessment_id"] == first["id"]
    assert {d["percentile_band"]["id"] for d in before["dimensions"]} == {"third_quarter"}
    assert after["assessment_id"] == second["id"]
    assert after["peer_count"] == 6
    assert {d["percentile_band"]["id"] for d in after["dimensions"]} == {"top_quarter"}
    assert after["taken_at"] > before["taken_at"]


def test_the_report_of_an_assessment_newer_than_the_snapshot_says_when_it_is_compared(
    client, admin_headers, make_organization, submit
):
    org = make_organization("Lakeside", beds=60)
    submit(org, "community-hospital")
    for n in range(5):
        submit(make_organization(f"Peer Hospital {n}", beds=50), "community-hospital")
    client.get(f"/v1/organizations/{org.id}/benchmarks", headers=admin_headers)
    newer = submit(org, "academic-medical-center")

    body = client.get(f"/v1/organizations/{org.id}/benchmarks", headers=admin_headers).json()
    report = client.get(f"/v1/assessments/{newer['id']}/report.pdf", headers=admin_headers)

    assert body["assessment_id"] != newer["id"]
    assert report.status_code == 200
    text = flat_text(PdfReader(BytesIO(report.content)))
    assert "compared at the next snapshot" in text
