"""What the planner returns: plain frozen dataclasses, ready for JSON and for the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from app.questionnaire.answers import NA


@dataclass(frozen=True, slots=True)
class DimensionProjection:
    """A dimension's score and level at some point of the plan."""

    dimension_id: str
    title: str
    score: float
    level: int
    level_name: str


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """A service delivering an action; ``charged`` is 0 when an earlier action bought it."""

    service_id: str
    kind: str
    title: str
    duration: str
    price: int
    charged: int
    recurring: str = "one_off"  # one_off | yearly | quarterly: how often the price is paid
    seats: int | None = None  # the seats priced, for per-seat services
    paid_with_points: bool = False  # covered by the membership the plan buys


@dataclass(frozen=True, slots=True)
class ResourceLine:
    """A free or low-cost Center resource a do-it-yourself path uses."""

    service_id: str
    title: str
    price: int


@dataclass(frozen=True, slots=True)
class DoItYourselfPath:
    """How the organization's own team can carry out an action without a paid service."""

    how: str
    resources: tuple[ResourceLine, ...]
    staff_hours: float


@dataclass(frozen=True, slots=True)
class ChangeLine:
    """One answer an action improves: from what it is today to what it will be."""

    question_id: str
    prompt: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class ThirdPartyLine:
    """A cost the hospital pays someone other than the Center (a tool, a paid badge, ...).

    ``estimate`` is True unless ``amount`` is a real product's published price (``source``
    then says where); recurring costs are per year.
    """

    item: str
    amount: int
    recurring: str = "one_off"  # one_off | yearly
    estimate: bool = True
    basis: str = ""  # how the figure was arrived at, or the published price list it is from


@dataclass(frozen=True, slots=True)
class YearCost:
    """What the plan (or one phase of it) costs in one year of the plan.

    Year 1 is months 1-12 from the plan's start, year 2 months 13-24. One-off Center fees
    and one-off third-party costs fall in the year the action starts; recurring ones in
    every year from then on; staff hours in the months the action runs.
    """

    year: int
    center_one_off: int
    center_recurring: int  # yearly and quarterly services, and the membership
    third_party: int  # estimates, see ThirdPartyLine
    staff_hours: float
    staff_cost: int | None  # staff_hours at the hourly rate; None without a rate
    total: int  # center_one_off + center_recurring + third_party + (staff_cost or 0)


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Total cost of ownership over the plan's first two years, by who is paid.

    ``year1`` and ``year2`` add up to the totals: center_one_off + center_recurring ==
    year1.center_one_off + year1.center_recurring + year2.center_one_off +
    year2.center_recurring, and so on for each part.
    """

    year1: YearCost
    year2: YearCost
    center_one_off: int  # one-off Center fees, both years
    center_recurring: int  # recurring Center fees paid over both years
    center_yearly: int  # what recurs every year once everything has started
    third_party: int  # both years, estimates
    third_party_yearly: int  # third-party costs that recur every year
    staff_hours: float  # both years
    staff_cost: int | None
    total: int  # year1.total + year2.total


@dataclass(frozen=True, slots=True)
class PlannedAction:
    """An action in the plan, when it runs, what it changes and what it costs."""

    action_id: str
    dimension_id: str
    title: str
    rationale: str
    effort_weeks: int
    start_week: int
    end_week: int
    requires: tuple[str, ...]
    services: tuple[ServiceLine, ...]
    changes: tuple[ChangeLine, ...]
    cost: int
    kind: str | None = None
    staff_hours: float | None = None  # internal time on the Center path, at this size band
    diy: DoItYourselfPath | None = None  # "can be done in-house": the steps and the time
    baseline: bool = False  # a missing baseline control (or what one needs first)
    why: str = ""  # why it is in the plan, in plain words
    path: str = "center"  # center (the Center's services) | diy (the team itself)
    path_reason: str = ""  # why that path was chosen
    start_month: int = 1  # 1-based month of the plan it starts in
    end_month: int = 1  # 1-based month it finishes in (inclusive)
    path_staff_hours: float | None = None  # internal time on the chosen path
    third_party: tuple[ThirdPartyLine, ...] = ()  # costs paid to others, estimates


@dataclass(frozen=True, slots=True)
class Phase:
    """A stretch of the plan (first 90 days, 3-6 months, 6-12 months) and where it leads."""

    phase_id: str
    title: str
    start_week: int
    end_week: int
    actions: tuple[PlannedAction, ...]
    cost: int
    projected: tuple[DimensionProjection, ...]
    start_month: int = 1  # first month of the phase (1-based)
    end_month: int = 3  # last month any of its actions runs in (inclusive)
    baseline: bool = False  # the phase of missing baseline controls, always first
    costs: CostBreakdown | None = None  # its actions' cost of ownership (no membership)


@dataclass(frozen=True, slots=True)
class ServiceSummary:
    """A service the plan recommends, once, with its price for the organization's size."""

    service_id: str
    kind: str
    title: str
    description: str
    duration: str
    price: int
    action_ids: tuple[str, ...]
    recurring: str = "one_off"
    yearly_cost: int = 0  # what it costs per year when it recurs
    seats: int | None = None
    paid_with_points: bool = False
    points: int | None = None


@dataclass(frozen=True, slots=True)
class MembershipChoice:
    """The membership the plan buys because it costs less than paying each service's fee."""

    service_id: str
    title: str
    price: int  # per year
    points: int  # granted per year
    points_used: int
    covered: tuple[str, ...]  # services paid with its points
    fees_without: int  # what the same services cost at list prices
    saving: int
    sentence: str


@dataclass(frozen=True, slots=True)
class Unreachable:
    """A target the plan cannot reach, and why."""

    dimension_id: str
    target: int
    planned_level: int
    reason: str


@dataclass(frozen=True, slots=True)
class BaselineControl:
    """A control every plan puts first when it is missing, and whether it is missing here.

    ``exposures`` name what in the answers made it urgent (shared logins, an incident
    described, no authorization process); for a control that is baseline only because of
    an exposure they are why it is here at all.
    """

    control_id: str
    title: str
    why: str
    met: bool  # the answers already meet it
    exposures: tuple[str, ...]  # plain sentences, never the respondent's own words
    action_ids: tuple[str, ...]  # the planned actions that put it in place
    reachable: bool = True  # False when no available action can put it in place


@dataclass(frozen=True, slots=True)
class Exposure:
    """Something the answers show that is a risk today, and the controls it makes baseline."""

    exposure_id: str
    title: str  # a plain sentence ("Several people sign in with one shared password.")
    controls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Capacity:
    """How much the organization can run at once: the limits the schedule keeps to."""

    staff_hours_per_month: float | None  # None: not limited (catalogue without staff hours)
    concurrent_actions: int
    source: str  # "settings", "request" or "default" (size band and answers), per field
    hourly_rate: int | None = None  # cost of an internal staff hour, when set
    note: str = ""  # how the default was arrived at


@dataclass(frozen=True, slots=True)
class MonthLoad:
    """One month of the schedule: the staff hours and the actions running in it."""

    month: int
    staff_hours: float
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Roadmap:
    """The phased, costed plan from the current levels towards the targets."""

    questionnaire_id: str
    questionnaire_version: int
    size_band: str
    size_band_label: str
    currency: str
    budget: int | None
    excluded_services: tuple[str, ...]
    targets: dict[str, int]
    current: tuple[DimensionProjection, ...]
    projected: tuple[DimensionProjection, ...]
    phases: tuple[Phase, ...]
    services: tuple[ServiceSummary, ...]
    total_cost: int
    total_weeks: int
    unreachable: tuple[Unreachable, ...]
    projected_answers: dict[str, Any]
    membership: MembershipChoice | None = None
    yearly_cost: int = 0  # what recurs every year: yearly and quarterly services, membership
    staff_hours: float | None = None  # internal time of the whole plan, when the catalogue says
    costs: CostBreakdown | None = None  # total cost of ownership, year 1 and year 2
    capacity: Capacity | None = None  # the limits the schedule keeps to
    budget_scope: str = "center_fees"  # what the budget caps: center_fees | everything
    baseline_shortfall: str | None = None  # set when the budget cannot cover the baseline
    baseline: tuple[BaselineControl, ...] = ()
    exposures: tuple[Exposure, ...] = ()
    total_months: int = 0  # months from the plan's start to the end of its last action
    beyond_12_months: bool = False
    schedule_note: str = ""  # a plain sentence on the schedule's length and limits
    months: tuple[MonthLoad, ...] = ()  # month by month load, 1..total_months

    @property
    def by_month(self) -> bool:
        """Whether the plan was scheduled in months within a staff-hour capacity (v2)."""
        return self.capacity is not None and self.capacity.staff_hours_per_month is not None

    @property
    def length(self) -> str:
        """How long the plan runs, in the unit it was scheduled in: "11 months", "18 weeks"."""
        count, unit = (self.total_months, "month") if self.by_month else (self.total_weeks, "week")
        return f"{count} {unit}{'' if count == 1 else 's'}"

    @property
    def actions(self) -> tuple[PlannedAction, ...]:
        """Every planned action, in order."""
        return tuple(a for phase in self.phases for a in phase.actions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; projected answers in the shape the API accepts answers in."""
        data = asdict(self)
        data["projected_answers"] = [
            {"question_id": qid, "na": True}
            if value is NA
            else {"question_id": qid, "value": value}
            for qid, value in self.projected_answers.items()
        ]
        return data
