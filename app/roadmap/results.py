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
