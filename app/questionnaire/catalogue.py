"""The catalogue format: size bands, the Center's services and improvement actions.

A catalogue is data beside the questionnaire version it serves
(``questionnaires/<id>/catalogue-v<N>.yaml``) and is checked as strictly: unknown keys,
unknown ids, prices missing for a band, answers the question does not offer, and
prerequisite cycles are all errors naming the file, line and path.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from app.questionnaire.answers import check_value
from app.questionnaire.rules import Problem, is_scored
from app.questionnaire.schemas import (
    DefinitionModel,
    ExtendedModel,
    Identifier,
    OptionValue,
    Prose,
    QuestionnaireDefinition,
)

Money = Annotated[int, Field(ge=0, le=10_000_000, description="Whole US dollars.")]
AnswerValue = bool | int | float | OptionValue | tuple[OptionValue, ...]
Hours = Annotated[float, Field(ge=0, le=10_000)]

# Catalogue versions from this one on must say what each service delivers, what kind of
# work each action is and how many staff hours it takes.
DETAILED_FROM_VERSION = 2


class ServiceKind(StrEnum):
    IN_PERSON_TRAINING = "in_person_training"
    ONLINE_TRAINING = "online_training"
    CONSULTING = "consulting"
    CONFERENCE = "conference"
    RESOURCE = "resource"
    MEMBERSHIP = "membership"


class ActionKind(StrEnum):
    """What kind of work an action is; a service ``delivers`` the kinds it can carry out."""

    POLICY = "policy"
    TRAINING = "training"
    ACCOUNT_SECURITY = "account_security"
    PROCESS = "process"
    EXERCISE = "exercise"
    REVIEW = "review"
    CONTENT = "content"
    STRATEGY = "strategy"
    VENDOR = "vendor"
    MONITORING = "monitoring"
    STAFFING = "staffing"


class Recurrence(StrEnum):
    """How often a service is paid for."""

    ONE_OFF = "one_off"
    YEARLY = "yearly"
    QUARTERLY = "quarterly"

    @property
    def times_a_year(self) -> int:
        """Payments in a year: 0 for a one-off purchase."""
        return {"one_off": 0, "yearly": 1, "quarterly": 4}[self.value]


class SizeBand(ExtendedModel):
    """Organizations with at least ``min_beds`` licensed beds (up to the next band)."""

    ADDITIONS = frozenset({"staff"})

    id: Identifier
    label: Prose
    min_beds: Annotated[int, Field(ge=0)]
    # Typical workforce headcount of the band, for services priced per 100 staff.
    staff: Annotated[int, Field(ge=1, le=10_000_000)] | None = None


class Service(ExtendedModel):
    """One of the Center's services and its list price, in exactly one of three forms.

    ``prices`` gives a flat price per size band; ``per_seat`` with ``seats`` a price per
    seat and the seats each band needs; ``per_100_staff`` a price per started hundred of
    the band's staff.
    """

    ADDITIONS = frozenset(
        {"prices", "per_seat", "seats", "per_100_staff", "delivers", "recurring", "points"}
        | {"grants_points"}
    )

    id: Identifier
    kind: ServiceKind
    title: Prose
    description: Prose
    duration: Prose
    prices: dict[Identifier, Money] | None = None
    per_seat: Money | None = None
    seats: dict[Identifier, Annotated[int, Field(ge=1, le=100_000)]] | None = None
    per_100_staff: Money | None = None
    delivers: tuple[ActionKind, ...] | None = None
    recurring: Recurrence = Recurrence.ONE_OFF
    # Membership points this service costs when paid for with a membership's points.
    points: Annotated[int, Field(ge=1, le=100_000)] | None = None
    # For a membership: the points it grants per year, per size band.
    grants_points: dict[Identifier, Annotated[int, Field(ge=0, le=100_000)]] | None = None

    def price_for(self, band: SizeBand) -> int:
        """The list price at a size band (per year for yearly services, per quarter for
        quarterly ones); the catalogue check guarantees the form is complete."""
        if self.prices is not None:
            return self.prices[band.id]
        if self.per_seat is not None:
            return self.per_seat * (self.seats or {})[band.id]
        if self.per_100_staff is not None:
            return math.ceil((band.staff or 0) / 100) * self.per_100_staff
        raise ValueError(f"service {self.id!r} has no price")

    def yearly_cost(self, band: SizeBand) -> int:
        """What the service costs per year when it recurs; 0 for a one-off purchase."""
        return self.price_for(band) * self.recurring.times_a_year

    def seats_for(self, band: SizeBand) -> int | None:
        """The seats priced for a band, for per-seat services."""
        return self.seats.get(band.id) if self.per_seat is not None and self.seats else None


class Change(DefinitionModel):
    """After the action, ``question`` is answered ``to`` (if that is better than today)."""

    question: Identifier
    to: AnswerValue


class DoItYourself(DefinitionModel):
    """How a competent team can carry out an action alone, and what it takes."""

    how: Prose
    resources: tuple[Identifier, ...] = ()
    staff_hours: dict[Identifier, Hours]


class ThirdPartyCost(DefinitionModel):
    """A cost an action brings that the hospital pays to someone other than the Center.

    ``amounts`` is per size band (per year when ``recurring`` is yearly). ``estimate`` stays
    true unless the amount is a real product's published price; ``basis`` says how the
    figure was arrived at, or which price list it comes from.
    """

    item: Prose
    amounts: dict[Identifier, Money]
    recurring: Annotated[str, StringConstraints(pattern=r"^(one_off|yearly)$")] = "one_off"
    estimate: bool = True
    basis: Prose


class Action(ExtendedModel):
    """An improvement a hospital can make, what it changes, and who can deliver it."""

    ADDITIONS = frozenset({"kind", "staff_hours", "diy", "third_party"})

    id: Identifier
    dimension: Identifier
    title: Prose
    rationale: Prose
    changes: tuple[Change, ...] = Field(min_length=1)
    requires: tuple[Identifier, ...] = ()
    effort_weeks: Annotated[int, Field(ge=1, le=52)]
    services: tuple[Identifier, ...] = Field(min_length=1)
    kind: ActionKind | None = None
    # Internal staff time the Center path takes, per size band.
    staff_hours: dict[Identifier, Hours] | None = None
    diy: DoItYourself | None = None
    third_party: tuple[ThirdPartyCost, ...] = ()


class Requirement(DefinitionModel):
    """An answer that shows a control is in place: ``question`` scores at least ``min_score``."""

    question: Identifier
    min_score: Annotated[float, Field(ge=0, le=100)]


class BaselineControl(DefinitionModel):
    """A control every plan puts in place first, before any other work, when it is missing.

    ``always`` controls are baseline whatever the answers (the catalogue's tests check that
    they cover every gate up to the level the questionnaire calls baseline); the others only
    when an exposure in the answers names them.
    """

    id: Identifier
    title: Prose
    why: Prose
    needs: tuple[Requirement, ...] = Field(min_length=1)
    always: bool = True


class Condition(DefinitionModel):
    """A test on one answer, in exactly one form.

    ``equals``: the answer is this value; ``one_of``: a single-choice answer is one of these
    options (or a multiple-choice answer includes one); ``mentions_any``: a free-text
    answer contains one of these words or word beginnings (case-insensitive), used only to
    notice that an incident was described, never to quote it.
    """

    question: Identifier
    equals: bool | int | float | OptionValue | None = None
    one_of: tuple[OptionValue, ...] | None = None
    mentions_any: tuple[Annotated[str, StringConstraints(min_length=3)], ...] | None = None


class ExposureRule(DefinitionModel):
    """Answers that show an active exposure, and the controls it makes baseline.

    The exposure applies when any of ``when`` holds; ``title`` is the plain sentence the
    plan and the report use for it.
    """

    id: Identifier
    title: Prose
    when: tuple[Condition, ...] = Field(min_length=1)
    controls: tuple[Identifier, ...] = Field(min_length=1)


class CapacityScale(DefinitionModel):
    """A factor on the default staff hours from one single-choice answer (e.g. who owns it)."""

    question: Identifier
    factors: dict[OptionValue, Annotated[float, Field(ge=0, le=10)]]


class CapacityDefaults(DefinitionModel):
    """What an organization can run at once when its settings do not say.

    Staff hours a month for the program and concurrent actions per size band, scaled by an
    answer; ``owner`` is the answer that shows someone can carry do-it-yourself paths.
    """

    staff_hours_per_month: dict[Identifier, Hours]
    concurrent_actions: dict[Identifier, Annotated[int, Field(ge=1, le=20)]]
    scale: CapacityScale | None = None
    owner: Requirement | None = None


class Catalogue(ExtendedModel):
    """Services and actions for one questionnaire version."""

    ADDITIONS = frozenset({"baseline_controls", "exposures", "capacity"})

    questionnaire: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]
    version: Annotated[int, Field(ge=1)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    parallel_tracks: Annotated[int, Field(ge=1, le=10)] = 2
    size_bands: tuple[SizeBand, ...] = Field(min_length=1)
    services: tuple[Service, ...] = Field(min_length=1)
    actions: tuple[Action, ...] = Field(min_length=1)
    baseline_controls: tuple[BaselineControl, ...] = ()
    exposures: tuple[ExposureRule, ...] = ()
    capacity: CapacityDefaults | None = None

    def service(self, service_id: str) -> Service:
        """A service by id (KeyError when unknown)."""
        return next(s for s in self.services if s.id == service_id)

    def memberships(self) -> tuple[Service, ...]:
        """The membership services, which pay for other services with points."""
        return tuple(s for s in self.services if s.kind is ServiceKind.MEMBERSHIP)

    def band_for(self, licensed_beds: int) -> SizeBand:
        """The size band an organization of this many licensed beds falls in."""
        band = self.size_bands[0]
        for candidate in self.size_bands:
            if licensed_beds >= candidate.min_beds:
                band = candidate
        return band


def check_catalogue(catalogue: Catalogue, definition: QuestionnaireDefinition) -> list[Problem]:
    """Every cross-reference problem between a catalogue and its questionnaire version."""
    problems: list[Problem] = []
    if (catalogue.questionnaire, catalogue.version) != (definition.id, definition.version):
        problems.append(
            (
                ("questionnaire",),
                f"this catalogue is for {catalogue.questionnaire!r} v{catalogue.version}, "
                f"but sits beside {definition.id!r} v{definition.version}",
            )
        )
    problems += _check_bands(catalogue)
    problems += _check_services(catalogue)
    problems += _check_actions(catalogue, definition)
    problems += _check_baseline(catalogue, definition)
    problems += _check_capacity(catalogue, definition)
    return problems


def _check_requirement(
    requirement: Requirement, definition: QuestionnaireDefinition, at: tuple[str | int, ...]
) -> Iterator[Problem]:
    question = definition.question(requirement.question)
    if question is None:
        yield (*at, "question"), f"{requirement.question!r} is not a question"
    elif not is_scored(question):
        yield (*at, "question"), f"{requirement.question!r} is not scored"


def _check_baseline(catalogue: Catalogue, definition: QuestionnaireDefinition) -> Iterator[Problem]:
    """Baseline controls name scored questions; exposures test answers the question can take."""
    yield from _duplicates(catalogue.baseline_controls, "baseline_controls")
    yield from _duplicates(catalogue.exposures, "exposures")
    controls = {c.id: c for c in catalogue.baseline_controls}
    changed = {change.question for a in catalogue.actions for change in a.changes}
    for index, control in enumerate(catalogue.baseline_controls):
        for n, requirement in enumerate(control.needs):
            at: tuple[str | int, ...] = ("baseline_controls", index, "needs", n)
            yield from _check_requirement(requirement, definition, at)
            if requirement.question not in changed:
                yield (
                    (*at, "question"),
                    f"no action changes {requirement.question!r}, so a plan could never "
                    "put this control in place",
                )
    named = {c for e in catalogue.exposures for c in e.controls}
    for index, control in enumerate(catalogue.baseline_controls):
        if not control.always and control.id not in named:
            yield (
                ("baseline_controls", index, "always"),
                f"{control.id!r} is baseline only through an exposure, but no exposure names it",
            )
    for index, exposure in enumerate(catalogue.exposures):
        for c, control_id in enumerate(exposure.controls):
            if control_id not in controls:
                yield ("exposures", index, "controls", c), f"unknown control {control_id!r}"
        for w, condition in enumerate(exposure.when):
            yield from _check_condition(condition, definition, ("exposures", index, "when", w))


def _check_condition(
    condition: Condition, definition: QuestionnaireDefinition, at: tuple[str | int, ...]
) -> Iterator[Problem]:
    forms = [
        name
        for name in ("equals", "one_of", "mentions_any")
        if getattr(condition, name) is not None
    ]
    if len(forms) != 1:
        found = f"found {', '.join(forms)}" if forms else "found none"
        yield at, f"give exactly one test: equals, one_of or mentions_any ({found})"
        return
    question = definition.question(condition.question)
    if question is None:
        yield (*at, "question"), f"{condition.question!r} is not a question"
        return
    kind = question.type.value
    if condition.mentions_any is not None and kind != "text":
        yield (*at, "mentions_any"), f"{condition.question!r} is not a free-text question"
    if condition.one_of is not None:
        options = {o.value for o in getattr(question, "options", ())}
        if not options:
            yield (*at, "one_of"), f"{condition.question!r} has no options"
        for v, value in enumerate(condition.one_of):
            if options and value not in options:
                yield (*at, "one_of", v), f"{condition.question!r} has no option {value!r}"
    if condition.equals is not None:
        if kind == "text":
            yield (*at, "equals"), "test a free-text answer with mentions_any"
        else:
            _, problem = check_value(question, condition.equals)
            if problem is not None:
                yield (*at, "equals"), f"{condition.question}: {problem}"


def _check_capacity(catalogue: Catalogue, definition: QuestionnaireDefinition) -> Iterator[Problem]:
    bands = [b.id for b in catalogue.size_bands]
    for index, action in enumerate(catalogue.actions):
        for t, cost in enumerate(action.third_party):
            yield from _check_per_band(
                cost.amounts, bands, ("actions", index, "third_party", t, "amounts"), "amount"
            )
    capacity = catalogue.capacity
    if capacity is None:
        return
    yield from _check_per_band(
        capacity.staff_hours_per_month,
        bands,
        ("capacity", "staff_hours_per_month"),
        "staff hours",
    )
    yield from _check_per_band(
        capacity.concurrent_actions, bands, ("capacity", "concurrent_actions"), "limit"
    )
    if capacity.owner is not None:
        yield from _check_requirement(capacity.owner, definition, ("capacity", "owner"))
    if capacity.scale is not None:
        question = definition.question(capacity.scale.question)
        if question is None:
            yield (
                ("capacity", "scale", "question"),
                f"{capacity.scale.question!r} is not a question",
            )
            return
        options = [o.value for o in getattr(question, "options", ())]
        for value in capacity.scale.factors:
            if value not in options:
                yield (
                    ("capacity", "scale", "factors", value),
                    f"{capacity.scale.question!r} has no option {value!r}",
                )
        missing = [o for o in options if o not in capacity.scale.factors]
        if missing:
            yield ("capacity", "scale", "factors"), f"no factor for option(s) {', '.join(missing)}"


def _duplicates(items: tuple[Any, ...], section: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            yield (section, index, "id"), f"duplicate id {item.id!r}"
        seen.add(item.id)


def _check_bands(catalogue: Catalogue) -> Iterator[Problem]:
    yield from _duplicates(catalogue.size_bands, "size_bands")
    if catalogue.size_bands[0].min_beds != 0:
        yield ("size_bands", 0, "min_beds"), "the first band must start at 0 beds"
    for index in range(1, len(catalogue.size_bands)):
        if catalogue.size_bands[index].min_beds <= catalogue.size_bands[index - 1].min_beds:
            yield ("size_bands", index, "min_beds"), "bands must be in increasing order of beds"


def _check_per_band(
    values: dict[str, Any] | None, bands: list[str], at: tuple[str | int, ...], what: str
) -> Iterator[Problem]:
    """A per-band table names every band, and no other."""
    if values is None:
        return
    missing = [b for b in bands if b not in values]
    if missing:
        yield at, f"no {what} for band(s) {', '.join(missing)}"
    for band in values:
        if band not in bands:
            yield (*at, band), f"unknown size band {band!r}"


def _check_services(catalogue: Catalogue) -> Iterator[Problem]:
    yield from _duplicates(catalogue.services, "services")
    bands = [b.id for b in catalogue.size_bands]
    detailed = catalogue.version >= DETAILED_FROM_VERSION
    for index, service in enumerate(catalogue.services):
        at: tuple[str | int, ...] = ("services", index)
        yield from _check_price_form(catalogue, service, at)
        yield from _check_per_band(service.prices, bands, (*at, "prices"), "price")
        yield from _check_per_band(service.seats, bands, (*at, "seats"), "seat count")
        yield from _check_per_band(
            service.grants_points, bands, (*at, "grants_points"), "points granted"
        )
        if detailed and service.delivers is None:
            yield (
                (*at, "delivers"),
                "say which kinds of action this service really delivers "
                "(delivers: [...]; [] for a membership)",
            )
        membership = service.kind is ServiceKind.MEMBERSHIP
        if membership and service.grants_points is None:
            yield (*at, "grants_points"), "a membership must say the points it grants per band"
        if not membership and service.grants_points is not None:
            yield (*at, "grants_points"), "only a membership grants points"
        if membership and service.points is not None:
            yield (*at, "points"), "a membership cannot be bought with points"
        if membership and service.delivers:
            yield (
                (*at, "delivers"),
                "a membership delivers nothing by itself; it pays for services with points",
            )


def _check_price_form(
    catalogue: Catalogue, service: Service, at: tuple[str | int, ...]
) -> Iterator[Problem]:
    forms = [
        name
        for name in ("prices", "per_seat", "per_100_staff")
        if getattr(service, name) is not None
    ]
    if len(forms) != 1:
        found = f"found {', '.join(forms)}" if forms else "found none"
        yield at, f"give exactly one price form: prices, per_seat or per_100_staff ({found})"
    if service.per_seat is not None and service.seats is None:
        yield (*at, "seats"), "a per-seat price needs the seats for every size band"
    if service.seats is not None and service.per_seat is None:
        yield (*at, "seats"), "seats are given but there is no per_seat price"
    if service.per_100_staff is not None:
        for b, band in enumerate(catalogue.size_bands):
            if band.staff is None:
                yield (
                    ("size_bands", b, "staff"),
                    f"service {service.id!r} is priced per 100 staff, so every size band "
                    "needs its typical staff count",
                )


def _check_actions(catalogue: Catalogue, definition: QuestionnaireDefinition) -> Iterator[Problem]:
    yield from _duplicates(catalogue.actions, "actions")
    action_ids = {a.id for a in catalogue.actions}
    service_ids = {s.id for s in catalogue.services}
    dimensions = {d.id for d in definition.dimensions}
    for index, action in enumerate(catalogue.actions):
        at: tuple[str | int, ...] = ("actions", index)
        if action.dimension not in dimensions:
            yield (*at, "dimension"), f"unknown dimension {action.dimension!r}"
        yield from _check_action_details(catalogue, action, at)
        for c, change in enumerate(action.changes):
            question = definition.question(change.question)
            if question is None:
                yield (*at, "changes", c, "question"), f"{change.question!r} is not a question"
                continue
            if question.dimension != action.dimension:
                yield (
                    (*at, "changes", c, "question"),
                    (
                        f"{change.question!r} belongs to {question.dimension!r}, not to the "
                        f"action's dimension {action.dimension!r}"
                    ),
                )
            if not is_scored(question):
                yield (*at, "changes", c, "question"), f"{change.question!r} is not scored"
                continue
            target = list(change.to) if isinstance(change.to, tuple) else change.to
            _, problem = check_value(question, target)
            if problem is not None:
                yield (*at, "changes", c, "to"), f"{change.question}: {problem}"
        for r, required in enumerate(action.requires):
            if required not in action_ids:
                yield (*at, "requires", r), f"unknown action {required!r}"
            elif required == action.id:
                yield (*at, "requires", r), "an action cannot require itself"
        for s, service in enumerate(action.services):
            if service not in service_ids:
                yield (*at, "services", s), f"unknown service {service!r}"
    yield from _check_cycles(catalogue)


def _check_action_details(
    catalogue: Catalogue, action: Action, at: tuple[str | int, ...]
) -> Iterator[Problem]:
    """Kind, staff hours and the do-it-yourself path (required from version 2)."""
    bands = [b.id for b in catalogue.size_bands]
    services = {s.id: s for s in catalogue.services}
    if catalogue.version >= DETAILED_FROM_VERSION:
        if action.kind is None:
            yield (*at, "kind"), "say what kind of work this action is (kind: ...)"
        if action.staff_hours is None:
            yield (*at, "staff_hours"), "give the internal staff hours for every size band"
    yield from _check_per_band(action.staff_hours, bands, (*at, "staff_hours"), "staff hours")
    if action.kind is not None:
        delivered = [
            s
            for s in action.services
            if s in services and action.kind in (services[s].delivers or ())
        ]
        known = [s for s in action.services if s in services]
        if known and not delivered and any(services[s].delivers is not None for s in known):
            yield (
                (*at, "services"),
                f"none of the services delivers {action.kind.value!r} work "
                f"(their delivers lists do not include it)",
            )
    for s, service_id in enumerate(action.services):
        if service_id in services and services[service_id].kind is ServiceKind.MEMBERSHIP:
            yield (
                (*at, "services", s),
                f"{service_id!r} is a membership; list the services it pays for instead",
            )
    if action.diy is not None:
        yield from _check_per_band(
            action.diy.staff_hours, bands, (*at, "diy", "staff_hours"), "staff hours"
        )
        for r, resource in enumerate(action.diy.resources):
            found = services.get(resource)
            if found is None:
                yield (*at, "diy", "resources", r), f"unknown service {resource!r}"
            elif found.kind is not ServiceKind.RESOURCE:
                yield (
                    (*at, "diy", "resources", r),
                    f"{resource!r} is {found.kind.value}, not a resource",
                )


def _check_cycles(catalogue: Catalogue) -> Iterator[Problem]:
    requires = {a.id: [r for r in a.requires if r != a.id] for a in catalogue.actions}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(action_id: str, trail: list[str]) -> list[str] | None:
        if state.get(action_id) == 2:
            return None
        if state.get(action_id) == 1:
            return [*trail[trail.index(action_id) :], action_id]
        state[action_id] = 1
        for required in requires.get(action_id, []):
            cycle = visit(required, [*trail, action_id])
            if cycle:
                return cycle
        state[action_id] = 2
        return None

    for index, action in enumerate(catalogue.actions):
        cycle = visit(action.id, [])
        if cycle:
            yield (
                ("actions", index, "requires"),
                f"prerequisites form a cycle: {' -> '.join(cycle)}",
            )
            return
