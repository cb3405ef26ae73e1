"""Peer benchmarks: an organization's percentile quarter per dimension among organizations its size.

Peers are every other organization in the database (not only those the caller may see)
whose licensed beds fall in the same size band of the questionnaire's catalogue, each with
its latest submitted assessment of the same questionnaire. That is why only the band, the
peer count and percentile quarters ever leave this module.

Benchmarks resist differencing. Were they computed live, one could submit chosen scores
for one's own organizations and read the percentile after each: every step a peer's score
is passed moves it, which traces the peer's score. So a peer group (questionnaire and size
band) is ranked in a stored snapshot, taken again only when the last one is older than
SMM_BENCHMARK_SNAPSHOT_HOURS; every benchmark reads that snapshot, and only the quarter of
the percentile scale each organization fell in. Between two snapshots nothing anyone
submits changes what anyone sees, and each snapshot tells an organization one quarter per
dimension: no finer than that, however often it is asked.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.benchmarks.percentile import (
    BANDS_BY_ID,
    MINIMUM_PEERS,
    Benchmark,
    DimensionBenchmark,
    benchmark,
)
from app.config import get_settings
from app.db import utcnow
from app.history.service import submitted_assessments
from app.intake.models import Assessment, AssessmentStatus
from app.organizations.models import BenchmarkSnapshot, Organization
from app.questionnaire.catalogue import Catalogue, SizeBand
from app.questionnaire.registry import QuestionnaireRegistry
from app.schemas import ReadModel


def _unavailable(
    reason: str, questionnaire_id: str = "", band: SizeBand | None = None
) -> Benchmark:
    return Benchmark(
        available=False,
        reason=reason,
        questionnaire_id=questionnaire_id,
        band_id=band.id if band else "",
        band_label=band.label if band else "",
        peer_count=0,
        minimum_peers=MINIMUM_PEERS,
        dimensions=(),
    )


def _catalogue(registry: QuestionnaireRegistry, assessment: Assessment) -> Catalogue | None:
    """The catalogue of the assessment's version, else the newest one that has bands."""
    loaded = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
    if loaded.catalogue is not None:
        return loaded.catalogue
    for version in reversed(registry.versions(assessment.questionnaire_id)):
        if version.catalogue is not None:
            return version.catalogue
    return None


def _band_bounds(catalogue: Catalogue, band: SizeBand) -> tuple[int, int | None]:
    """[low, high) licensed beds of a band; high is None for the largest band."""
    higher = sorted(b.min_beds for b in catalogue.size_bands if b.min_beds > band.min_beds)
    return band.min_beds, (higher[0] if higher else None)


def member_scores(
    session: Session, questionnaire_id: str, low: int, high: int | None
) -> dict[str, tuple[str, list[tuple[str, str, float]]]]:
    """Each organization of the peer group: its latest submitted assessment's id and scores."""
    latest = (
        select(
            Assessment.organization_id,
            Assessment.id,
            Assessment.scores,
            func.row_number()
            .over(
                partition_by=Assessment.organization_id,
                order_by=(Assessment.submitted_at.desc(), Assessment.id.desc()),
            )
            .label("recency"),
        )
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(
            Assessment.status == AssessmentStatus.SUBMITTED.value,
            Assessment.questionnaire_id == questionnaire_id,
            Organization.licensed_beds >= low,
        )
    )
    if high is not None:
        latest = latest.where(Organization.licensed_beds < high)
    ranked = latest.subquery()
    rows = session.execute(
        select(ranked.c.organization_id, ranked.c.id, ranked.c.scores).where(ranked.c.recency == 1)
    )
    return {
        str(organization_id): (
            str(assessment_id),
            [(d["dimension_id"], d["title"], float(d["score"])) for d in scores["dimensions"]],
        )
        for organization_id, assessment_id, scores in rows
    }


def rank_peer_group(
    members: dict[str, tuple[str, list[tuple[str, str, float]]]],
    *,
    questionnaire_id: str,
    band: SizeBand,
) -> dict[str, Any]:
    """Every member's benchmark among the others, as stored in a snapshot."""
    ranks: dict[str, Any] = {}
    for organization_id, (assessment_id, own) in members.items():
        others = [
            {dimension_id: score for dimension_id, _, score in scores}
            for other, (_, scores) in members.items()
            if other != organization_id
        ]
        result = benchmark(
            own,
            others,
            questionnaire_id=questionnaire_id,
            band_id=band.id,
            band_label=band.label,
        )
        ranks[organization_id] = {
            "assessment_id": assessment_id,
            "peer_count": result.peer_count,
            "dimensions": [
                {
                    "dimension_id": dimension_id,
                    "title": title,
                    "score": score,
                    "quarter": _quarter_of(result, dimension_id),
                    "peer_count": sum(1 for other in others if dimension_id in other),
                }
                for dimension_id, title, score in own
            ],
        }
    return ranks


def _quarter_of(result: Benchmark, dimension_id: str) -> str | None:
    for dimension in result.dimensions:
        if dimension.dimension_id == dimension_id and dimension.percentile_band is not None:
            return dimension.percentile_band.id
    return None


def snapshot_age() -> timedelta:
    """How old a peer group's snapshot may get before the next benchmark takes a new one."""
    return timedelta(hours=get_settings().benchmark_snapshot_hours)


def _latest_snapshot(session: Session, group: str) -> BenchmarkSnapshot | None:
    return session.scalar(
        select(BenchmarkSnapshot)
        .where(BenchmarkSnapshot.peer_group == group)
        .order_by(BenchmarkSnapshot.taken_at.desc())
        .limit(1)
    )


def _lock_key(group: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory lock on a peer group."""
    digest = hashlib.blake2b(f"smm.benchmark:{group}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def current_snapshot(
    session: Session,
    questionnaire_id: str,
    band: SizeBand,
    bounds: tuple[int, int | None],
    *,
    now: datetime | None = None,
    max_age: timedelta | None = None,
) -> BenchmarkSnapshot:
    """The peer group's latest snapshot; a new one when there is none or it is too old."""
    now = now or utcnow()
    max_age = max_age if max_age is not None else snapshot_age()
    low, high = bounds
    group = f"{questionnaire_id}|{band.id}|{low}|{'' if high is None else high}"
    latest = _latest_snapshot(session, group)
    if latest is not None and now - latest.taken_at < max_age:
        return latest
    if session.get_bind().dialect.name == "postgresql":
        # Two renders of the same peer group at once would each take a snapshot, and the
        # report keyed on the one deleted would be rendered again: the first to get here
        # takes it, the others wait for its transaction and then read it.
        session.execute(select(func.pg_advisory_xact_lock(_lock_key(group))))
        latest = _latest_snapshot(session, group)
        if latest is not None and now - latest.taken_at < max_age:
            return latest
    members = member_scores(session, questionnaire_id, low, high)
    # Only the latest snapshot of a group is ever read: the older ones go.
    session.execute(delete(BenchmarkSnapshot).where(BenchmarkSnapshot.peer_group == group))
    snapshot = BenchmarkSnapshot(
        peer_group=group,
        taken_at=now,
        ranks=rank_peer_group(members, questionnaire_id=questionnaire_id, band=band),
    )
    session.add(snapshot)
    session.flush()
    return snapshot


def assessment_benchmark(
    session: Session,
    registry: QuestionnaireRegistry,
    organization: Organization,
    assessment: Assessment,
) -> Benchmark:
    """Where this assessment ranked among its peers, if the current snapshot ranked it."""
    return _benchmark(session, registry, organization, assessment, require_assessment=True)


def _benchmark(
    session: Session,
    registry: QuestionnaireRegistry,
    organization: Organization,
    assessment: Assessment,
    *,
    require_assessment: bool,
) -> Benchmark:
    catalogue = _catalogue(registry, assessment)
    if catalogue is None:
        return _unavailable(
            "The questionnaire has no catalogue of size bands to find peers by.",
            assessment.questionnaire_id,
        )
    band = catalogue.band_for(organization.licensed_beds)
    snapshot = current_snapshot(
        session, assessment.questionnaire_id, band, _band_bounds(catalogue, band)
    )
    taken_at = snapshot.taken_at
    next_after = taken_at + snapshot_age()
    entry = snapshot.ranks.get(str(organization.id))
    stamp, following = _moment(taken_at), _moment(next_after)
    if entry is None or (require_assessment and entry["assessment_id"] != str(assessment.id)):
        which = "its latest submitted assessment" if entry is None else "this assessment"
        newer = entry is None or (
            assessment.submitted_at is not None and assessment.submitted_at >= taken_at
        )
        reason = (
            f"Peers are compared in snapshots; the one of {stamp} was taken before "
            f"{which} was submitted. It is compared at the next snapshot, after {following}."
            if newer
            else f"The peer snapshot of {stamp} compares a later assessment of the organization."
        )
        return replace(
            _unavailable(reason, assessment.questionnaire_id, band),
            taken_at=taken_at,
            next_snapshot_after=next_after,
        )
    dimensions = tuple(
        DimensionBenchmark(
            dimension_id=d["dimension_id"],
            title=d["title"],
            score=float(d["score"]),
            percentile_band=BANDS_BY_ID[d["quarter"]] if d["quarter"] else None,
            peer_count=int(d["peer_count"]),
        )
        for d in entry["dimensions"]
    )
    peer_count = int(entry["peer_count"])
    available = peer_count >= MINIMUM_PEERS and any(
        d.percentile_band is not None for d in dimensions
    )
    shortfall = None
    if not available:
        shortfall = (
            f"Peer benchmarks need at least {MINIMUM_PEERS} other organizations of the same "
            f"size band with a submitted assessment; there {'is' if peer_count == 1 else 'are'} "
            f"{peer_count}."
        )
    return Benchmark(
        available=available,
        reason=shortfall,
        questionnaire_id=assessment.questionnaire_id,
        band_id=band.id,
        band_label=band.label,
        peer_count=peer_count,
        minimum_peers=MINIMUM_PEERS,
        dimensions=dimensions if available else (),
        assessment_id=entry["assessment_id"],
        taken_at=taken_at,
        next_snapshot_after=next_after,
    )


def _moment(moment: datetime) -> str:
    return f"{moment:%b} {moment.day}, {moment:%Y %H:%M} UTC"


def organization_benchmark(
    session: Session, registry: QuestionnaireRegistry, organization: Organization
) -> Benchmark:
    """The benchmark of the organization's assessment that the current snapshot ranked."""
    assessments = submitted_assessments(session, organization.id)
    if not assessments:
        return _unavailable(
            "The organization has no submitted assessment to compare with its peers."
        )
    return _benchmark(session, registry, organization, assessments[-1], require_assessment=False)


class PercentileBandRead(ReadModel):
    id: str = Field(
        description="`bottom_quarter`, `second_quarter`, `third_quarter`, `top_quarter`."
    )
    label: str
    low: int = Field(description="Lowest percentile of the quarter (inclusive).")
    high: int = Field(description="Highest percentile of the quarter (exclusive, but 100).")


class DimensionBenchmarkRead(ReadModel):
    dimension_id: str
    title: str
    score: float = Field(description="The organization's own score (0-100).")
    percentile_band: PercentileBandRead | None = Field(
        description="The quarter of the mid-rank percentile among peers (% below + half of "
        "ties) the score fell in at the snapshot; null when fewer than the minimum of peers "
        "scored this dimension. Exact percentiles are never published."
    )
    peer_count: int = Field(description="Peers that scored this dimension.")


class BenchmarkRead(ReadModel):
    """Percentile quarters among anonymous peers of the same size band, from a snapshot."""

    available: bool
    reason: str | None = Field(description="Why there are no percentiles, when there are none.")
    questionnaire_id: str
    band_id: str = Field(description="The catalogue's size band for the licensed beds.")
    band_label: str
    peer_count: int = Field(description="Other organizations in the band with a submission.")
    minimum_peers: int
    dimensions: list[DimensionBenchmarkRead]
    assessment_id: uuid.UUID | None = Field(
        description="The organization's assessment the snapshot ranked (its latest then)."
    )
    taken_at: datetime | None = Field(description="When the peer snapshot was taken.")
    next_snapshot_after: datetime | None = Field(
        description="From then on, the next benchmark read takes a new snapshot."
    )
