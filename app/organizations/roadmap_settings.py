"""Roadmap settings per organization: targets, budget, exclusions, capacity, notes.

A consultant sets them once; every roadmap, report and results page of the organization
then uses them, and a request's own options override them field by field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import Principal, require_role
from app.db import utcnow
from app.errors import FieldError, InvalidRequest
from app.organizations.models import Organization
from app.questionnaire.registry import QuestionnaireRegistry
from app.schemas import WHOLE_NUMBER, ReadModel, RequestModel
from app.text import CHECKED_TEXT

NOTES_MAX_LENGTH = 5000

DimensionId = Annotated[str, StringConstraints(min_length=1, max_length=64), CHECKED_TEXT]
ServiceId = Annotated[str, StringConstraints(min_length=1, max_length=64), CHECKED_TEXT]
Level = Annotated[int, Field(strict=True, ge=1, le=5), WHOLE_NUMBER]
BudgetScope = Literal["center_fees", "everything"]


class RoadmapSettingsUpdate(RequestModel):
    """The whole settings: a field left out is cleared (targets {}, budget null, ...)."""

    targets: dict[DimensionId, Level] = Field(
        default_factory=dict,
        max_length=20,
        description="Target level (1-5) per dimension id; others default to one level up.",
        examples=[{"security": 4}],
    )
    budget: Annotated[int, Field(strict=True, ge=0, le=100_000_000), WHOLE_NUMBER] | None = Field(
        default=None, description="The most a roadmap may cost, in whole currency units."
    )
    excluded_services: list[ServiceId] = Field(
        default_factory=list, max_length=50, description="Service ids roadmaps must not use."
    )
    notes: Annotated[str, StringConstraints(max_length=NOTES_MAX_LENGTH), CHECKED_TEXT] | None = (
        Field(default=None, description="Consultant's notes, printed (as text) in the PDF.")
    )
    staff_hours_per_month: (
        Annotated[int, Field(strict=True, ge=1, le=10_000), WHOLE_NUMBER] | None
    ) = Field(
        default=None,
        description="Staff hours a month the organization gives the program; null: the "
        "default from its size band and answers.",
    )
    concurrent_actions: Annotated[int, Field(strict=True, ge=1, le=20), WHOLE_NUMBER] | None = (
        Field(default=None, description="Most actions run at once; null: the size default.")
    )
    hourly_rate: Annotated[int, Field(strict=True, ge=0, le=10_000), WHOLE_NUMBER] | None = Field(
        default=None,
        description="Cost of an internal staff hour, in whole currency units; null: staff "
        "time is counted in hours only.",
    )
    budget_scope: BudgetScope = Field(
        default="center_fees",
        description="What the budget caps: the Center's fees (center_fees) or everything, "
        "staff time and third-party costs included (everything).",
    )


class RoadmapSettingsRead(ReadModel):
    targets: dict[str, int]
    budget: int | None
    excluded_services: list[str]
    notes: str | None
    staff_hours_per_month: int | None = None
    concurrent_actions: int | None = None
    hourly_rate: int | None = None
    budget_scope: str = "center_fees"


def read_settings(organization: Organization) -> RoadmapSettingsRead:
    """The organization's roadmap settings as stored."""
    return RoadmapSettingsRead(
        targets=dict(organization.roadmap_targets or {}),
        budget=organization.roadmap_budget,
        excluded_services=list(organization.roadmap_excluded_services or []),
        notes=organization.consultant_notes,
        staff_hours_per_month=organization.roadmap_staff_hours_per_month,
        concurrent_actions=organization.roadmap_concurrent_actions,
        hourly_rate=organization.roadmap_hourly_rate,
        budget_scope=organization.roadmap_budget_scope or "center_fees",
    )


def _known_ids(registry: QuestionnaireRegistry) -> tuple[set[str], set[str]]:
    """Every dimension id of every served questionnaire, and every catalogue's service ids."""
    dimensions: set[str] = set()
    services: set[str] = set()
    for latest in registry.latest():
        for loaded in registry.versions(latest.definition.id):
            dimensions |= {d.id for d in loaded.definition.dimensions}
            if loaded.catalogue is not None:
                services |= {s.id for s in loaded.catalogue.services}
    return dimensions, services


def check_settings(registry: QuestionnaireRegistry, data: RoadmapSettingsUpdate) -> None:
    """InvalidRequest (422) naming each unknown dimension or service id."""
    dimensions, services = _known_ids(registry)
    problems = [
        FieldError(field=f"targets.{d}", message=f"{d!r} is not a dimension of any questionnaire")
        for d in data.targets
        if d not in dimensions
    ]
    problems += [
        FieldError(
            field=f"excluded_services[{i}]", message=f"{s!r} is not a service of any catalogue"
        )
        for i, s in enumerate(data.excluded_services)
        if s not in services
    ]
    if problems:
        raise InvalidRequest(
            "The roadmap settings are not valid.", errors=[p.model_dump() for p in problems]
        )


def replace_settings(
    session: Session,
    registry: QuestionnaireRegistry,
    principal: Principal,
    organization: Organization,
    data: RoadmapSettingsUpdate,
) -> RoadmapSettingsRead:
    """Store new settings (admin or consultant, or the operator)."""
    require_role(principal, Role.ADMIN, Role.CONSULTANT, action="change roadmap settings")
    check_settings(registry, data)
    notes = data.notes.strip() if data.notes else None
    organization.roadmap_targets = dict(sorted(data.targets.items()))
    organization.roadmap_budget = data.budget
    organization.roadmap_excluded_services = sorted(set(data.excluded_services))
    organization.consultant_notes = notes or None
    organization.roadmap_staff_hours_per_month = data.staff_hours_per_month
    organization.roadmap_concurrent_actions = data.concurrent_actions
    organization.roadmap_hourly_rate = data.hourly_rate
    organization.roadmap_budget_scope = data.budget_scope
    organization.updated_at = utcnow()
    session.flush()
    return read_settings(organization)


def settings_update(current: RoadmapSettingsRead, **changes: Any) -> RoadmapSettingsUpdate:
    """Current settings with some fields changed, validated as a PUT body would be."""
    return RoadmapSettingsUpdate.model_validate({**current.model_dump(), **changes})
