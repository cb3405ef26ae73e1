"""JSON shapes of a roadmap, for the API and its OpenAPI description.

Generated from the planner's result types in app.roadmap.results: the fields, their types,
defaults and order are the results' own; only the descriptions are added here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.roadmap.results import (
    BaselineControl,
    Capacity,
    ChangeLine,
    CostBreakdown,
    DimensionProjection,
    DoItYourselfPath,
    Exposure,
    MembershipChoice,
    MonthLoad,
    Phase,
    PlannedAction,
    ResourceLine,
    Roadmap,
    ServiceLine,
    ServiceSummary,
    ThirdPartyLine,
    Unreachable,
    YearCost,
)
from app.schemas import ReadModel, read_model

# Each result's response schema, for the results that nest it (generated in order).
_GENERATED: dict[type, type[ReadModel]] = {}


def _read(
    result: type,
    name: str,
    descriptions: Mapping[str, str] | None = None,
    *,
    shapes: Mapping[str, Any] | None = None,
    doc: str | None = None,
) -> type[ReadModel]:
    model = read_model(
        result,
        name,
        module=__name__,
        nested=_GENERATED,
        descriptions=descriptions,
        shapes=shapes,
        doc=doc,
    )
    _GENERATED[result] = model
    return model


DimensionProjectionRead = _read(DimensionProjection, "DimensionProjectionRead")
ServiceLineRead = _read(
    ServiceLine,
    "ServiceLineRead",
    {
        "price": "List price for the organization's size band.",
        "charged": "0 when an earlier action in the plan already bought it, or the "
        "membership's points pay for it.",
        "recurring": "one_off, yearly or quarterly.",
        "seats": "Seats priced, for per-seat services.",
    },
)
ResourceLineRead = _read(ResourceLine, "ResourceLineRead")
DoItYourselfRead = _read(
    DoItYourselfPath,
    "DoItYourselfRead",
    {
        "how": "Can be done in-house: the steps.",
        "staff_hours": "Internal staff hours at this size band.",
    },
)
ChangeLineRead = _read(ChangeLine, "ChangeLineRead")
ThirdPartyLineRead = _read(
    ThirdPartyLine,
    "ThirdPartyLineRead",
    {
        "amount": "Whole currency units; per year when recurring.",
        "recurring": "one_off or yearly.",
        "estimate": "False only for a real product's published price.",
        "basis": "How the figure was arrived at, or where it is published.",
    },
)
YearCostRead = _read(
    YearCost,
    "YearCostRead",
    {
        "year": "1: months 1-12 of the plan; 2: months 13-24.",
        "center_recurring": "Yearly and quarterly services, and membership.",
        "third_party": "Costs paid to others; estimates.",
        "staff_cost": "Staff hours at the hourly rate; null without one.",
        "total": "Center fees, third-party costs and staff cost (if known).",
    },
)
CostBreakdownRead = _read(
    CostBreakdown,
    "CostBreakdownRead",
    {
        "center_recurring": "Recurring Center fees over both years.",
        "center_yearly": "Center fees that recur every year once started.",
        "third_party": "Both years; estimates.",
        "total": "year1.total + year2.total.",
    },
)
PlannedActionRead = _read(
    PlannedAction,
    "PlannedActionRead",
    {
        "staff_hours": "Internal staff hours on the Center path, at this size band.",
        "diy": "The do-it-yourself path, where a competent team can do it alone.",
        "baseline": "A missing baseline control, or what one needs first: phase 1.",
        "why": "Why the action is in the plan, in plain words.",
        "path": "center (the Center's services) or diy.",
        "path_reason": "Why that path was chosen.",
        "start_month": "1-based month of the plan it starts in.",
        "end_month": "1-based month it finishes in (inclusive).",
        "path_staff_hours": "Internal staff hours on the chosen path.",
        "third_party": "Costs paid to others than the Center.",
    },
)
PhaseRead = _read(
    Phase,
    "PhaseRead",
    {
        "projected": "Scores and levels once this phase and those before it are done.",
        "start_month": "First month of the phase (1-based).",
        "end_month": "Last month any of its actions runs in.",
        "baseline": "The phase of missing baseline controls.",
        "costs": "Its actions' cost of ownership, year 1 and year 2 (no membership).",
    },
)
ServiceSummaryRead = _read(
    ServiceSummary,
    "ServiceSummaryRead",
    {"yearly_cost": "Cost per year when the service recurs."},
)
MembershipRead = _read(MembershipChoice, "MembershipRead", {"price": "Per year."})
UnreachableRead = _read(Unreachable, "UnreachableRead")
BaselineControlRead = _read(
    BaselineControl,
    "BaselineControlRead",
    {
        "met": "The answers already meet it.",
        "exposures": "What in the answers made it urgent.",
        "action_ids": "The planned actions that put it in place.",
    },
)
ExposureRead = _read(Exposure, "ExposureRead")
CapacityRead = _read(
    Capacity,
    "CapacityRead",
    {
        "staff_hours_per_month": "Staff hours a month for the program; null when not limited.",
        "source": "Where each limit came from: settings, request or default.",
    },
)
MonthLoadRead = _read(MonthLoad, "MonthLoadRead")
RoadmapRead = _read(
    Roadmap,
    "RoadmapRead",
    {
        "projected_answers": "The answers after the plan, in the shape assessments take.",
        "membership": "The membership the plan buys because it is cheaper than the fees.",
        "yearly_cost": "What recurs every year.",
        "staff_hours": "Internal staff hours of the plan.",
        "costs": "Total cost of ownership: Center fees, staff, others; years 1 and 2.",
        "capacity": "The limits the schedule keeps to.",
        "budget_scope": "What the budget caps: center_fees or everything.",
        "baseline_shortfall": "Set when the budget cannot cover the baseline (which stays).",
        "total_months": "Months from the start to the last action's end.",
    },
    # Roadmap.to_dict() turns the answers by question into a list of
    # {question_id, value} or {question_id, na: true}, as assessments take them.
    shapes={"projected_answers": list[dict[str, Any]]},
    doc="A phased, costed plan; each projected level is the engine's verdict on the answers.",
)
