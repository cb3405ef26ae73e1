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


class ThirdPartyLineRead(_Read):
    item: str
    amount: int = Field(description="Whole currency units; per year when recurring.")
    recurring: str = Field("one_off", description="one_off or yearly.")
    estimate: bool = Field(True, description="False only for a real product's published price.")
    basis: str = Field("", description="How the figure was arrived at, or where it is published.")


class YearCostRead(_Read):
    year: int = Field(description="1: months 1-12 of the plan; 2: months 13-24.")
    center_one_off: int
    center_recurring: int = Field(description="Yearly and quarterly services, and membership.")
    third_party: int = Field(description="Costs paid to others; estimates.")
    staff_hours: float
    staff_cost: int | None = Field(description="Staff hours at the hourly rate; null without one.")
    total: int = Field(description="Center fees, third-party costs and staff cost (if known).")


class CostBreakdownRead(_Read):
    year1: YearCostRead
    year2: YearCostRead
    center_one_off: int
    center_recurring: int = Field(description="Recurring Center fees over both years.")
    center_yearly: int = Field(description="Center fees that recur every year once started.")
    third_party: int = Field(description="Both years; estimates.")
    third_party_yearly: int
    staff_hours: float
    staff_cost: int | None
    total: int = Field(description="year1.total + year2.total.")


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
    baseline: bool = Field(
        False, description="A missing baseline control, or what one needs first: phase 1."
    )
    why: str = Field("", description="Why the action is in the plan, in plain words.")
    path: str = Field("center", description="center (the Center's services) or diy.")
    path_reason: str = Field("", description="Why that path was chosen.")
    start_month: int = Field(1, description="1-based month of the plan it starts in.")
    end_month: int = Field(1, description="1-based month it finishes in (inclusive).")
    path_staff_hours: float | None = Field(
        None, description="Internal staff hours on the chosen path."
    )
    third_party: list[ThirdPartyLineRead] = Field(
        default_factory=list, description="Costs paid to others than the Center."
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
    start_month: int = Field(1, description="First month of the phase (1-based).")
    end_month: int = Field(3, description="Last month any of its actions runs in.")
    baseline: bool = Field(False, description="The phase of missing baseline controls.")
    costs: CostBreakdownRead | None = Field(
        None, description="Its actions' cost of ownership, year 1 and year 2 (no membership)."
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


class BaselineControlRead(_Read):
    control_id: str
    title: str
    why: str
    met: bool = Field(description="The answers already meet it.")
    exposures: list[str] = Field(description="What in the answers made it urgent.")
    action_ids: list[str] = Field(description="The planned actions that put it in place.")
    reachable: bool = True


class ExposureRead(_Read):
    exposure_id: str
    title: str
    controls: list[str]


class CapacityRead(_Read):
    staff_hours_per_month: float | None = Field(
        description="Staff hours a month for the program; null when not limited."
    )
    concurrent_actions: int
    source: str = Field(description="Where each limit came from: settings, request or default.")
    hourly_rate: int | None = None
    note: str = ""


class MonthLoadRead(_Read):
    month: int
    staff_hours: float
    actions: list[str]


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
    costs: CostBreakdownRead | None = Field(
        None, description="Total cost of ownership: Center fees, staff, others; years 1 and 2."
    )
    capacity: CapacityRead | None = Field(None, description="The limits the schedule keeps to.")
    budget_scope: str = Field(
        "center_fees", description="What the budget caps: center_fees or everything."
    )
    baseline_shortfall: str | None = Field(
        None, description="Set when the budget cannot cover the baseline (which stays)."
    )
    baseline: list[BaselineControlRead] = Field(default_factory=list)
    exposures: list[ExposureRead] = Field(default_factory=list)
    total_months: int = Field(0, description="Months from the start to the last action's end.")
    beyond_12_months: bool = False
    schedule_note: str = ""
    months: list[MonthLoadRead] = Field(default_factory=list)
