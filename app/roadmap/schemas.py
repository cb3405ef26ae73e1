"""JSON shapes of a roadmap, for the API and its OpenAPI description."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DimensionProjectionRead(_Read):
    dimension_id: str
    title: str
    score: float
    level: int
    level_name: str


class ServiceLineRead(_Read):
    service_id: str
    kind: str
    title: str
    duration: str
    price: int = Field(description="List price for the organization's size band.")
    charged: int = Field(
        description="0 when an earlier action in the plan already bought it, or the "
        "membership's points pay for it."
    )
    recurring: str = Field("one_off", description="one_off, yearly or quarterly.")
    seats: int | None = Field(None, description="Seats priced, for per-seat services.")
    paid_with_points: bool = False


class ResourceLineRead(_Read):
    service_id: str
    title: str
    price: int


class DoItYourselfRead(_Read):
    how: str = Field(description="Can be done in-house: the steps.")
    resources: list[ResourceLineRead]
    staff_hours: float = Field(description="Internal staff hours at this size band.")


class ChangeLineRead(_Read):
    question_id: str
    prompt: str
    before: str
    after: str


class PlannedActionRead(_Read):
    action_id: str
    dimension_id: str
    title: str
    rationale: str
    effort_weeks: int
    start_week: int
    end_week: int
    requires: list[str]
    services: list[ServiceLineRead]
    changes: list[ChangeLineRead]
    cost: int
    kind: str | None = None
    staff_hours: float | None = Field(
        None, description="Internal staff hours on the Center path, at this size band."
    )
    diy: DoItYourselfRead | None = Field(
        None, description="The do-it-yourself path, where a competent team can do it alone."
    )


class PhaseRead(_Read):
    phase_id: str
    title: str
    start_week: int
    end_week: int
    actions: list[PlannedActionRead]
    cost: int
    projected: list[DimensionProjectionRead] = Field(
        description="Scores and levels once this phase and those before it are done."
    )


class ServiceSummaryRead(_Read):
    service_id: str
    kind: str
    title: str
    description: str
    duration: str
    price: int
    action_ids: list[str]
    recurring: str = "one_off"
    yearly_cost: int = Field(0, description="Cost per year when the service recurs.")
    seats: int | None = None
    paid_with_points: bool = False
    points: int | None = None


class MembershipRead(_Read):
    service_id: str
    title: str
    price: int = Field(description="Per year.")
    points: int
    points_used: int
    covered: list[str]
    fees_without: int
    saving: int
    sentence: str


class UnreachableRead(_Read):
    dimension_id: str
    target: int
    planned_level: int
    reason: str


class RoadmapRead(BaseModel):
    """A phased, costed plan; each projected level is the engine's verdict on the answers."""

    questionnaire_id: str
    questionnaire_version: int
    size_band: str
    size_band_label: str
    currency: str
    budget: int | None
    excluded_services: list[str]
    targets: dict[str, int]
    current: list[DimensionProjectionRead]
    projected: list[DimensionProjectionRead]
    phases: list[PhaseRead]
    services: list[ServiceSummaryRead]
    total_cost: int
    total_weeks: int
    unreachable: list[UnreachableRead]
    projected_answers: list[dict[str, Any]] = Field(
        description="The answers after the plan, in the shape assessments take."
    )
    membership: MembershipRead | None = Field(
        None, description="The membership the plan buys because it is cheaper than the fees."
    )
    yearly_cost: int = Field(0, description="What recurs every year.")
    staff_hours: float | None = Field(None, description="Internal staff hours of the plan.")
