"""Peer benchmarks over the API: percentile quarters among anonymous organizations of a size."""

from __future__ import annotations

from tests.conftest import bearer
from tests.consultant.conftest import day


def _benchmarks(client, headers, org):
    response = client.get(f"/v1/organizations/{org.id}/benchmarks", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _peers(make_organization, submit, answers: list[str], beds: int = 50):
    peers = []
    for n, name in enumerate(answers):
        peer = make_organization(f"Peer Hospital {n}", beds=beds)
        peers.append((peer, submit(peer, name, on=day(2 + n))))
    return peers


def test_with_fewer_than_five_peers_there_are_no_percentiles_and_it_says_so(
    client, admin_headers, make_organization, submit
):
    org = make_organization("Lakeside", beds=60)
    submit(org)
    _peers(make_organization, submit, ["community-hospital"] * 4)

    body = _benchmarks(client, admin_headers, org)

    assert body["available"] is False
    assert body["peer_count"] == 4
    assert body["minimum_peers"] == 5
    assert body["dimensions"] == []
    assert "at least 5" in body["reason"]
    assert body["band_id"] == "small"


def test_percentiles_rank_the_organization_among_peers_of_its_band_only(
    client, admin_headers, make_organization, submit
):
    org = make_organization("Lakeside", beds=60)
    submit(org, "community-hospital")
    # Three peers tie with Lakeside and two score higher in every dimension: (0 + 3/2) / 5,
    # the 30th percentile, published as its quarter only.
    _peers(make_organization, submit, ["community-hospital"] * 3 + ["academic-medical-center"] * 2)
    # Larger hospitals are in another band, and do not count.
    _peers(make_organization, submit, ["academic-medical-center"] * 3, beds=450)

    body = _benchmarks(client, admin_headers, org)

    assert body["available"] is True
    assert body["reason"] is None
    assert body["peer_count"] == 5
    assert {d["dimension_id"]: d["percentile_band"]["id"] for d in body["dimensions"]} == {
        "presence": "second_quarter",
        "consistency": "second_quarter",
        "security": "second_quarter",
    }
    assert body["dimensions"][0]["percentile_band"] == {
        "id": "second_quarter",
        "label": "25th to 50th percentile",
        "low": 25,
        "high": 50,
    }
    assert "percentile" not in body["dimensions"][0]


def test_each_peer_counts_once_with_its_latest_submitted_assessment(
    client, admin_headers, make_organization, submit
):
    org = make_organization("Lakeside", beds=60)
    submit(org, "academic-medical-center", on=day(1))
    submit(org, "community-hospital", on=day(11))  # the organization's own latest counts
    peers = _peers(make_organization, submit, ["community-hospital"] * 5)
    # One peer improved later; an older and a draft assessment of another do not count.
    submit(peers[0][0], "academic-medical-center", on=day(12))
    submit(peers[1][0], "academic-medical-center", on=day(1, year=2024))
    submit(peers[2][0], "academic-medical-center", status="draft")

    body = _benchmarks(client, admin_headers, org)

    assert body["peer_count"] == 5
    # Four ties and one peer above: (0 + 4/2) / 5, the 40th percentile.
    assert {d["percentile_band"]["id"] for d in body["dimensions"]} == {"second_quarter"}


def test_no_peer_is_named_or_identifiable_in_the_benchmark(
    client, admin_headers, make_organization, submit
):
    org = make_organization("Lakeside", beds=60)
    submit(org)
    peers = _peers(make_organization, submit, ["academic-medical-center"] * 6)

    response = client.get(f"/v1/organizations/{org.id}/benchmarks", headers=admin_headers)

    text = response.text
    for peer, assessment in peers:
        assert peer.name not in text
        assert str(peer.id) not in text
        assert assessment["id"] not in text
    peer_scores = {str(d["score"]) for _, a in peers for d in a["scores"]["dimensions"]}
    assert not any(score in text for score in peer_scores)
    assert set(response.json()) == {
        "available",
        "reason",
        "questionnaire_id",
        "band_id",
        "band_label",
        "peer_count",
        "minimum_peers",
        "dimensions",
        "assessment_id",
        "taken_at",
        "next_snapshot_after",
    }


def test_peers_outside_the_callers_scope_still_count(client, make_key, make_organization, submit):
    org = make_organization("Lakeside", beds=60)
    submit(org)
    _peers(make_organization, submit, ["community-hospital"] * 5)
    consultant = bearer(make_key("consultant", [org.id]))

    body = _benchmarks(client, consultant, org)

    assert body["available"] is True
    assert body["peer_count"] == 5


def test_an_organization_without_a_submission_has_no_benchmark(
    client, admin_headers, make_organization
):
    org = make_organization("Lakeside", beds=60)

    body = _benchmarks(client, admin_headers, org)

    assert body["available"] is False
    assert "no submitted assessment" in body["reason"]
