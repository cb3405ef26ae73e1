"""What consultants follow over time: history, comparisons, roadmap settings, peer benchmarks."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends

from app.api.responses import errors
from app.benchmarks.service import BenchmarkRead, organization_benchmark
from app.history.service import Comparison, History, compare, organization_history
from app.http.deps import (
    AssessmentDep,
    LookupDep,
    OrganizationDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    reject_unknown_query_parameters,
)
from app.organizations import roadmap_settings
from app.organizations.roadmap_settings import RoadmapSettingsRead, RoadmapSettingsUpdate

router = APIRouter(
    tags=["history, settings and peers"],
    dependencies=[Depends(reject_unknown_query_parameters)],
)


@router.get(
    "/v1/organizations/{organization_id}/history",
    operation_id="getOrganizationHistory",
    responses=errors(404),
)
def get_history(organization: OrganizationDep, session: SessionDep) -> History:
    """The organization's submitted assessments, oldest first, with their scores and levels."""
    return organization_history(session, organization)


@router.get("/v1/assessments/{assessment_id}/compare/{other_id}", responses=errors(404, 409))
def compare_assessments(
    assessment: AssessmentDep,
    other_id: uuid.UUID,
    lookup: LookupDep,
    registry: RegistryDep,
) -> Comparison:
    """The change from this assessment to the other, per dimension and per question.

    Both must be visible to the key (404 otherwise) and answer the same questionnaire
    (409 otherwise); their versions may differ, and a question asked in only one is marked.
    """
    other = lookup.assessment(other_id)
    return compare(registry, assessment, other)


@router.get("/v1/organizations/{organization_id}/roadmap-settings", responses=errors(404))
def get_roadmap_settings(organization: OrganizationDep) -> RoadmapSettingsRead:
    """Targets, budget, exclusions, capacity, hourly rate and notes every roadmap starts from."""
    return roadmap_settings.read_settings(organization)


@router.put(
    "/v1/organizations/{organization_id}/roadmap-settings",
    operation_id="replaceRoadmapSettings",
    responses=errors(400, 403, 404, 413, 422),
)
def put_roadmap_settings(
    body: RoadmapSettingsUpdate,
    organization: OrganizationDep,
    session: SessionDep,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> RoadmapSettingsRead:
    """Replace the roadmap settings (admin or consultant); a field left out is cleared."""
    return roadmap_settings.replace_settings(session, registry, principal, organization, body)


@router.get(
    "/v1/organizations/{organization_id}/benchmarks",
    operation_id="getOrganizationBenchmarks",
    responses=errors(404),
)
def get_benchmarks(
    organization: OrganizationDep, session: SessionDep, registry: RegistryDep
) -> BenchmarkRead:
    """Percentile per dimension among peers of the same size band (at least five), unnamed."""
    return BenchmarkRead.model_validate(organization_benchmark(session, registry, organization))
