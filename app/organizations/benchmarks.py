"""Peer benchmarks: an organization's percentile per dimension among organizations its size.

Peers are every other organization in the database (not only those the caller may see)
whose licensed beds fall in the same size band of the questionnaire's catalogue, each with
its latest submitted assessment of the same questionnaire. That is why only the band, the
peer count and percentiles ever leave this module.
"""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.intake.models import Assessment, AssessmentStatus
from app.organizations.history import submitted_assessments
from app.organizations.models import Organization
from app.organizations.percentile import MINIMUM_PEERS, Benchmark, benchmark
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


def peer_scores(
    session: Session,
    organization_id: object,
    questionnaire_id: str,
    low: int,
    high: int | None,
) -> list[dict[str, float]]:
    """Dimension scores of each peer's latest submitted assessment of the questionnaire."""
    latest = (
        select(
            Assessment.organization_id,
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
            Assessment.organization_id != organization_id,
            Organization.licensed_beds >= low,
        )
    )
    if high is not None:
        latest = latest.where(Organization.licensed_beds < high)
    ranked = latest.subquery()
    rows = session.execute(select(ranked.c.scores).where(ranked.c.recency == 1))
    return [
        {d["dimension_id"]: float(d["score"]) for d in scores["dimensions"]} for (scores,) in rows
    ]


def assessment_benchmark(
    session: Session,
    registry: QuestionnaireRegistry,
    organization: Organization,
    assessment: Assessment,
) -> Benchmark:
    """How this assessment's dimension scores rank among the peers' latest ones."""
    catalogue = _catalogue(registry, assessment)
    if catalogue is None:
        return _unavailable(
            "The questionnaire has no catalogue of size bands to find peers by.",
            assessment.questionnaire_id,
        )
    band = catalogue.band_for(organization.licensed_beds)
    low, high = _band_bounds(catalogue, band)
    peers = peer_scores(session, organization.id, assessment.questionnaire_id, low, high)
    own = [
        (d["dimension_id"], d["title"], float(d["score"])) for d in assessment.scores["dimensions"]
    ]
    return benchmark(
        own,
        peers,
        questionnaire_id=assessment.questionnaire_id,
        band_id=band.id,
        band_label=band.label,
    )


def organization_benchmark(
    session: Session, registry: QuestionnaireRegistry, organization: Organization
) -> Benchmark:
    """The benchmark of the organization's latest submitted assessment."""
    assessments = submitted_assessments(session, organization.id)
    if not assessments:
        return _unavailable(
            "The organization has no submitted assessment to compare with its peers."
        )
    return assessment_benchmark(session, registry, organization, assessments[-1])


class DimensionBenchmarkRead(ReadModel):
    dimension_id: str
    title: str
    score: float = Field(description="The organization's own score (0-100).")
    percentile: float | None = Field(
        description="Mid-rank percentile among peers (% below + half of ties); null when "
        "fewer than the minimum of peers scored this dimension."
    )
    peer_count: int = Field(description="Peers that scored this dimension.")


class BenchmarkRead(ReadModel):
    """Percentiles among anonymous peers of the same size band; no peer value ever leaves."""

    available: bool
    reason: str | None = Field(description="Why there are no percentiles, when there are none.")
    questionnaire_id: str
    band_id: str = Field(description="The catalogue's size band for the licensed beds.")
    band_label: str
    peer_count: int = Field(description="Other organizations in the band with a submission.")
    minimum_peers: int
    dimensions: list[DimensionBenchmarkRead]
