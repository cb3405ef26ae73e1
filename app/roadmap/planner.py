"""The roadmap planner: the cheapest set of actions whose projected answers reach the targets.

Pure: a definition, a catalogue, answers and options in; a Roadmap out. Every projected
level is the scoring engine's own verdict on the projected answers.

How it plans:
1. Targets default to one level up per dimension (capped at 5). A target no available
   action can reach is lowered to the best reachable level and reported with the reason.
2. For each dimension and each level up to its target, a branch-and-bound search finds the
   cheapest prerequisite-closed set of actions that reaches it. Cost is the sum of the
   distinct services bought, at the organization's size band.
3. With a budget, the combination of per-dimension levels that gains the most levels
   within the budget (then the cheapest) is chosen; without one, every target is planned.
4. Actions that can be dropped (with whatever requires them) without losing a planned
   level are dropped, and the rest are scheduled on the catalogue's parallel tracks,
   prerequisites first, into phases by start week.
5. Where the catalogue offers a membership, the plan buys it when the membership plus the
   services its points cannot pay for costs less than the services' fees, and says so.
   The points pay for the dearest services they can (a 0/1 knapsack over points).

Risk first: the catalogue's baseline controls (and those an exposure in the answers makes
urgent) that the answers show missing are planned before anything else, whatever the
targets and the budget: the cheapest prerequisite-closed set of actions that puts them in
place forms the first phase, and every other action starts after it. Their services are
then already bought when the search for the targets runs. A budget that cannot cover the
baseline is reported plainly; the baseline stays.

Where the catalogue gives capacity defaults, each action takes the do-it-yourself path
when the answers show an owner and its staff hours fit what the organization can give,
and the Center's path otherwise; the schedule then fills months within the organization's
staff hours a month and concurrent actions. Without them the plan keeps the catalogue's
parallel tracks, in weeks.

Costs are counted as the cost of ownership over the plan's first two years: one-off and
recurring Center fees, staff hours (and their cost at an hourly rate, when given) and the
costs paid to others, which the catalogue marks as estimates. The budget caps the Center's
fees, or everything when its scope says so.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.questionnaire.answers import NA, AnswerValue, describe_answer
from app.questionnaire.catalogue import Action, Catalogue, Condition, Requirement
from app.questionnaire.schemas import MultipleChoiceQuestion, QuestionnaireDefinition
from app.questionnaire.visibility import visible_questions
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
from app.scoring.engine import dimension_level, dimension_levels, question_score

# (id, title, first week, week after the last); an action belongs to the phase it starts in,
# and the last phase takes everything that starts later, however long it runs.
PHASES: tuple[tuple[str, str, int, int], ...] = (
    ("first_90_days", "First 90 days", 0, 13),
    ("months_3_to_6", "3-6 months", 13, 26),
    ("months_6_to_12", "6-12 months", 26, 52),
)

# Month windows of a month-by-month schedule: (id, title, first month, last month).
MONTH_PHASES: tuple[tuple[str, str, int, int], ...] = (
    ("first_90_days", "First 90 days", 1, 3),
    ("months_3_to_6", "3-6 months", 4, 6),
    ("months_6_to_12", "6-12 months", 7, 12),
    ("after_12_months", "After 12 months", 13, 10_000),
)
WEEKS_PER_MONTH = 52 / 12
BUDGET_SCOPES = ("center_fees", "everything")
# A do-it-yourself path is chosen when its staff hours fit in this many months of the
# organization's monthly hours (or the action's own duration, if longer).
DIY_MONTHS = 3


class PlanningError(ValueError):
    """Options that cannot be planned (unknown dimension, level out of range, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What the plan is for: the organization's size, targets, budget, excluded services.

    ``staff_hours_per_month`` and ``concurrent_actions`` override the catalogue's defaults
    (from the size band and the answers); ``hourly_rate`` prices staff hours;
    ``budget_scope`` says what the budget caps: the Center's fees (default) or everything.
    """

    licensed_beds: int
    targets: Mapping[str, int] = field(default_factory=dict)
    budget: int | None = None
    excluded_services: frozenset[str] = frozenset()
    staff_hours_per_month: float | None = None
    concurrent_actions: int | None = None
    hourly_rate: int | None = None
    budget_scope: str = "center_fees"


def plan_roadmap(
    definition: QuestionnaireDefinition,
    catalogue: Catalogue,
    answers: Mapping[str, AnswerValue],
    options: PlanOptions,
) -> Roadmap:
    """Plan the cheapest verified path from ``answers`` to the targets."""
    return _Planner(definition, catalogue, answers, options).plan()


class _Planner:
    def __init__(
        self,
        definition: QuestionnaireDefinition,
        catalogue: Catalogue,
        answers: Mapping[str, AnswerValue],
        options: PlanOptions,
    ) -> None:
        self.definition = definition
        self.catalogue = catalogue
        self.answers = dict(answers)
        self.options = options
        self.dimension_ids = [d.id for d in definition.dimensions]
        self.multiple_choice = {
            q.id: q for q in definition.questions if isinstance(q, MultipleChoiceQuestion)
        }
        self.band = catalogue.band_for(options.licensed_beds)
        self.services = {s.id: s for s in catalogue.services}
        self.prices = {s.id: s.price_for(self.band) for s in catalogue.services}
        self.actions = {a.id: a for a in catalogue.actions}
        self._check_options()
        self.current = dimension_levels(definition, self.answers)
        self.capacity = self._capacity()
        self.paths = {a.id: self._path(a) for a in catalogue.actions}
        self.path_services = {
            a.id: (tuple(a.diy.resources) if self.paths[a.id][0] == "diy" and a.diy else a.services)
            for a in catalogue.actions
        }
        self.gains = {a.id: self._gains(a) for a in catalogue.actions}
        self.done = {a for a, gains in self.gains.items() if not gains}
        self.available = self._available()
        self.closures = {a: self._closure(a) for a in self.available}
        self._projection_cache: dict[frozenset[str], tuple[tuple[float, int], ...]] = {}
        self._answers_cache: dict[frozenset[str], dict[str, AnswerValue]] = {}
        self._level_cache: dict[tuple[frozenset[str], int], int] = {}

    # -- options and the catalogue as seen from these answers ---------------------------

    def _check_options(self) -> None:
        for dimension, level in self.options.targets.items():
            if dimension not in self.dimension_ids:
                raise PlanningError("targets", f"{dimension!r} is not a dimension")
            if not 1 <= level <= 5:
                raise PlanningError("targets", f"{dimension}: level {level} is not 1 to 5")
        unknown = sorted(self.options.excluded_services - set(self.services))
        if unknown:
            raise PlanningError("exclude", f"unknown service(s): {', '.join(unknown)}")
        if self.options.budget is not None and self.options.budget < 0:
            raise PlanningError("budget", "cannot be negative")
        if self.options.budget_scope not in BUDGET_SCOPES:
            raise PlanningError("budget_scope", "is center_fees or everything")
        hours = self.options.staff_hours_per_month
        if hours is not None and not 1 <= hours <= 10_000:
            raise PlanningError("staff_hours_per_month", "is 1 to 10,000")
        concurrent = self.options.concurrent_actions
        if concurrent is not None and not 1 <= concurrent <= 20:
            raise PlanningError("concurrent_actions", "is 1 to 20")
        rate = self.options.hourly_rate
        if rate is not None and not 0 <= rate <= 10_000:
            raise PlanningError("hourly_rate", "is 0 to 10,000")

    def _meets(self, requirement: Requirement, answers: Mapping[str, AnswerValue]) -> bool:
        """Whether the answers meet a requirement; a question not applicable meets it."""
        value = answers.get(requirement.question)
        if value is NA:
            return True
        question = self.definition.question(requirement.question)
        if question is None or value is None:
            return False
        return (question_score(question, value) or 0.0) >= requirement.min_score

    def _holds(self, condition: Condition) -> bool:
        value = self.answers.get(condition.question)
        if value is None or value is NA:
            return False
        if condition.mentions_any is not None:
            text = str(value).casefold()
            return any(word.casefold() in text for word in condition.mentions_any)
        if condition.one_of is not None:
            values = value if isinstance(value, list) else [value]
            return any(v in condition.one_of for v in values)
        return bool(value == condition.equals)

    def _capacity(self) -> Capacity:
        """The organization's limits: the options where given, else the catalogue's defaults."""
        defaults = self.catalogue.capacity
        hours = self.options.staff_hours_per_month
        concurrent = self.options.concurrent_actions
        note = ""
        if defaults is None:
            default_hours: float | None = None
            default_concurrent = self.catalogue.parallel_tracks
        else:
            factor = 1.0
            if defaults.scale is not None:
                answer = self.answers.get(defaults.scale.question)
                if isinstance(answer, str):
                    factor = defaults.scale.factors.get(answer, 1.0)
            base = defaults.staff_hours_per_month[self.band.id]
            default_hours = max(1.0, round(base * factor))
            default_concurrent = defaults.concurrent_actions[self.band.id]
            note = (
                f"Default for the {self.band.label.split(':')[0]} band: {base:g} staff hours a "
                f"month and {default_concurrent} actions at once"
                + (f", times {factor:g} for who owns social media today" if factor != 1.0 else "")
                + "."
            )
        sources = [
            "set" if hours is not None else "default",
            "set" if concurrent is not None else "default",
        ]
        source = sources[0] if sources[0] == sources[1] else "mixed"
        return Capacity(
            staff_hours_per_month=hours if hours is not None else default_hours,
            concurrent_actions=concurrent if concurrent is not None else default_concurrent,
            source=source,
            hourly_rate=self.options.hourly_rate,
            note=note if source != "set" else "",
        )

    def _path(self, action: Action) -> tuple[str, str]:
        """The path an action takes (center or diy) and why."""
        defaults = self.catalogue.capacity
        if defaults is None:
            return "center", ""
        if action.diy is None:
            return "center", "The Center's services: this action has no do-it-yourself path."
        excluded = bool(self.options.excluded_services & set(action.services))
        if defaults.owner is not None and not self._meets(defaults.owner, self.answers):
            if excluded:
                return "diy", (
                    "Done in-house because the Center's services for it are excluded, though "
                    "the answers name nobody who owns social media to carry it."
                )
            return "center", (
                "The Center's services: the answers name nobody who owns social media, so "
                "an in-house path would have no one to carry it."
            )
        hours = action.diy.staff_hours.get(self.band.id, 0.0)
        monthly = self.capacity.staff_hours_per_month or 0.0
        months = max(DIY_MONTHS, math.ceil(action.effort_weeks / WEEKS_PER_MONTH))
        if hours > monthly * months and not excluded:
            return "center", (
                f"The Center's services: done in-house it would take {hours:g} staff hours, "
                f"more than {months} months of the {monthly:g} hours a month available."
            )
        resources = sum(self.prices[r] for r in action.diy.resources)
        money = self.catalogue.currency
        return "diy", (
            f"Done in-house: the answers show an owner, and its {hours:g} staff hours fit "
            f"within {months} months of the {monthly:g} hours a month available"
            + (
                f"; the Center's resources for it cost {money} {resources:,}."
                if resources
                else "; the Center's resources for it are free."
            )
        )

    def _gains(self, action: Action) -> dict[str, tuple[Any, float]]:
        """The changes that would improve today's answers: question -> (value, score)."""
        gains = {}
        for change in action.changes:
            question = self.definition.question(change.question)
            current = self.answers.get(change.question)
            if question is None or current is NA:
                continue  # "not applicable" stays so; an action cannot make it apply
            value: Any = list(change.to) if isinstance(change.to, tuple) else change.to
            if isinstance(question, MultipleChoiceQuestion) and isinstance(current, list):
                value = _merge_choices(question, [current, value])
            score = question_score(question, value) or 0.0
            before = -1.0 if current is None else (question_score(question, current) or 0.0)
            if score > before:
                gains[change.question] = (value, score)
        return gains

    def _available(self) -> set[str]:
        excluded = self.options.excluded_services
        usable = {
            a.id for a in self.catalogue.actions if not excluded & set(self.path_services[a.id])
        }
        changed = True
        while changed:  # an action whose prerequisite cannot happen cannot happen either
            changed = False
            for action_id in list(usable):
                for required in self.actions[action_id].requires:
                    if required not in self.done and required not in usable:
                        usable.discard(action_id)
                        changed = True
                        break
        return usable - self.done

    def _closure(self, action_id: str) -> frozenset[str]:
        result = {action_id}
        stack = [action_id]
        while stack:
            for required in self.actions[stack.pop()].requires:
                if required not in self.done and required not in result:
                    result.add(required)
                    stack.append(required)
        return frozenset(result)

    def _close(self, action_ids: Iterable[str]) -> frozenset[str]:
        result: set[str] = set()
        for action_id in action_ids:
            result |= self.closures[action_id]
        return frozenset(result)

    # -- projection and cost ------------------------------------------------------------

    def project(self, chosen: Iterable[str]) -> dict[str, AnswerValue]:
        """Today's answers with every chosen action's improvements applied."""
        key = chosen if isinstance(chosen, frozenset) else frozenset(chosen)
        cached = self._answers_cache.get(key)
        if cached is None:
            cached = self._answers_cache[key] = self._project(key)
        return cached

    def _project(self, chosen: frozenset[str]) -> dict[str, AnswerValue]:
        best: dict[str, tuple[Any, float]] = {}
        merged: dict[str, list[list[str]]] = {}
        for action_id in chosen:
            for qid, (value, score) in self.gains[action_id].items():
                if qid in self.multiple_choice:
                    merged.setdefault(qid, []).append(value)
                elif qid not in best or score > best[qid][1]:
                    best[qid] = (value, score)
        projected = dict(self.answers)
        projected.update({qid: value for qid, (value, _) in best.items()})
        for qid, values in merged.items():
            # Practices already in place stay: chosen options add up.
            projected[qid] = _merge_choices(self.multiple_choice[qid], values)
        shown = visible_questions(self.definition, projected)
        return {qid: value for qid, value in projected.items() if qid in shown}

    def levels(self, chosen: frozenset[str]) -> tuple[tuple[float, int], ...]:
        cached = self._projection_cache.get(chosen)
        if cached is None:
            cached = dimension_levels(self.definition, self.project(chosen))
            self._projection_cache[chosen] = cached
        return cached

    def level_of(self, chosen: frozenset[str], dimension: int) -> int:
        """One dimension's level once ``chosen`` is done."""
        key = (chosen, dimension)
        level = self._level_cache.get(key)
        if level is None:
            full = self._projection_cache.get(chosen)
            if full is not None:
                level = full[dimension][1]
            else:
                level = dimension_level(self.definition, self.project(chosen), dimension)[1]
            self._level_cache[key] = level
        return level

    def price(self, service_id: str) -> int:
        return self.prices[service_id]

    def cost(self, chosen: Iterable[str]) -> int:
        """The Center's fees for ``chosen``: each service on their paths, bought once."""
        services = {s for a in chosen for s in self.path_services[a]}
        return sum(self.prices[s] for s in services)

    def path_hours(self, action_id: str) -> float | None:
        """Internal staff hours of an action on its chosen path, when the catalogue says."""
        action = self.actions[action_id]
        if self.paths[action_id][0] == "diy" and action.diy is not None:
            return action.diy.staff_hours.get(self.band.id, 0.0)
        return (action.staff_hours or {}).get(self.band.id)

    def budget_cost(self, chosen: Iterable[str]) -> int:
        """What the budget counts: Center fees, or everything (a first year of it)."""
        chosen = list(chosen)
        cost = self.cost(chosen)
        if self.options.budget_scope == "everything":
            cost += sum(
                t.amounts[self.band.id] for a in chosen for t in self.actions[a].third_party
            )
            if self.options.hourly_rate is not None:
                hours = sum(self.path_hours(a) or 0.0 for a in chosen)
                cost += round(hours * self.options.hourly_rate)
        return cost

    # -- search -----------------------------------------------------------------------------

    def _cheapest_set(
        self,
        candidates: list[str],
        reaches_with: Callable[[frozenset[str]], bool],
        base: frozenset[str],
    ) -> frozenset[str] | None:
        """The cheapest closed set of ``candidates`` that, with ``base``, satisfies the test.

        Cost depends only on which services are bought, and buying a service makes every
        action it delivers free to add; adding an action never lowers a level. So the
        search runs over sets of services (far fewer than sets of actions): the cheapest
        set whose enabled actions pass wins. Services ``base`` already buys are free.
        """
        base_services = {s for a in base for s in self.path_services[a]}
        needs = {
            a: frozenset(
                s
                for b in self.closures[a]
                if b not in base
                for s in self.path_services[b]
                if s not in base_services
            )
            for a in candidates
        }
        services = sorted(
            {s for a in candidates for s in needs[a]}, key=lambda s: (-self.prices[s], s)
        )

        def enabled(bought: frozenset[str]) -> frozenset[str]:
            return self._close(a for a in candidates if needs[a] <= bought) - base

        enabled_cache: dict[frozenset[str], frozenset[str]] = {}

        def reaches(bought: frozenset[str]) -> bool:
            actions = enabled_cache.get(bought)
            if actions is None:
                actions = enabled_cache[bought] = enabled(bought)
            return reaches_with(actions | base)

        if not reaches(frozenset(services)):
            return None
        best = frozenset(services)
        best_cost = sum(self.prices[s] for s in best)

        def search(index: int, bought: frozenset[str], cost: int) -> None:
            nonlocal best, best_cost
            if cost >= best_cost or not reaches(bought | frozenset(services[index:])):
                return
            if reaches(bought):
                best, best_cost = bought, cost
                return
            if index == len(services):
                return
            service = services[index]
            search(index + 1, bought | {service}, cost + self.prices[service])
            search(index + 1, bought, cost)

        search(0, frozenset(), 0)
        return enabled(best)

    def cheapest(
        self, dimension: int, level: int, base: frozenset[str] = frozenset()
    ) -> frozenset[str] | None:
        """The cheapest action set that, with ``base``, brings one dimension to ``level``."""
        if self.level_of(base, dimension) >= level:
            return frozenset()
        dimension_id = self.dimension_ids[dimension]
        candidates = [
            a for a in self.available if self.actions[a].dimension == dimension_id and a not in base
        ]
        found = self._cheapest_set(
            candidates, lambda actions: self.level_of(actions, dimension) >= level, base
        )
        if found is None:
            return None
        return self._prune(found | base, {dimension: level}, keep=base) - base

    def _prune(
        self,
        chosen: frozenset[str],
        planned: Mapping[int, int],
        keep: frozenset[str] = frozenset(),
    ) -> frozenset[str]:
        """Drop actions (with what requires them) that no planned level needs.

        The most expensive go first; ties drop the longest effort first. Actions in
        ``keep`` (the baseline) and what they require are never dropped.
        """

        def keeps(candidate: frozenset[str]) -> bool:
            return all(self.level_of(candidate, d) >= lvl for d, lvl in planned.items())

        changed = True
        while changed:
            changed = False
            order = sorted(
                chosen - keep,
                key=lambda a: (-self.cost([a]), -self.actions[a].effort_weeks, a),
            )
            for action_id in order:
                dependants = {b for b in chosen if action_id in self.closures[b]}
                if dependants & keep:
                    continue
                candidate = chosen - dependants
                if keeps(candidate):
                    chosen, changed = candidate, True
                    break
        return chosen

    # -- the baseline ---------------------------------------------------------------------

    def _exposures(self) -> list[Exposure]:
        return [
            Exposure(rule.id, rule.title, tuple(rule.controls))
            for rule in self.catalogue.exposures
            if any(self._holds(condition) for condition in rule.when)
        ]

    def _baseline(
        self, exposures: list[Exposure]
    ) -> tuple[frozenset[str], list[tuple[Any, bool, bool, tuple[str, ...]]]]:
        """The cheapest closed action set that puts every missing baseline control in place.

        Returns the set and, per baseline control of this organization: (control, met
        today, reachable, exposure titles).
        """
        exposed: dict[str, list[str]] = {}
        for exposure in exposures:
            for control_id in exposure.controls:
                exposed.setdefault(control_id, []).append(exposure.title)
        controls = [c for c in self.catalogue.baseline_controls if c.always or c.id in exposed]
        missing = [c for c in controls if not all(self._meets(r, self.answers) for r in c.needs)]
        questions = {r.question for c in missing for r in c.needs}
        candidates = [
            a
            for a in sorted(self.available)
            if any(change.question in questions for change in self.actions[a].changes)
        ]
        everything = self.project(self._close(candidates))
        reachable = [c for c in missing if all(self._meets(r, everything) for r in c.needs)]
        requirements = [r for c in reachable for r in c.needs]
        found = self._cheapest_set(
            candidates,
            lambda actions: all(self._meets(r, self.project(actions)) for r in requirements),
            frozenset(),
        )
        chosen = self._close(found or ())
        # Keep only what some control needs (cheapest first search may enable extras).
        chosen = self._prune_baseline(chosen, requirements)
        rows = [
            (c, c not in missing, c not in missing or c in reachable, tuple(exposed.get(c.id, ())))
            for c in controls
        ]
        return chosen, rows

    def _prune_baseline(
        self, chosen: frozenset[str], requirements: list[Requirement]
    ) -> frozenset[str]:
        changed = True
        while changed:
            changed = False
            for action_id in sorted(chosen, key=lambda a: (-self.cost([a]), a)):
                dependants = {b for b in chosen if action_id in self.closures[b]}
                candidate = chosen - dependants
                projected = self.project(candidate)
                if all(self._meets(r, projected) for r in requirements):
                    chosen, changed = candidate, True
                    break
        return chosen

    # -- the plan ---------------------------------------------------------------------------

    def plan(self) -> Roadmap:
        dimensions = len(self.dimension_ids)
        targets = [
            self.options.targets.get(d, min(5, self.current[i][1] + 1))
            for i, d in enumerate(self.dimension_ids)
        ]
        exposures = self._exposures()
        base, controls = self._baseline(exposures)
        ladders: list[dict[int, frozenset[str]]] = []
        reachable: list[int] = []
        for d in range(dimensions):
            start = max(self.current[d][1], self.level_of(base, d))
            ladder = {start: frozenset[str]()}
            for level in range(start + 1, targets[d] + 1):
                found = self.cheapest(d, level, base)
                if found is None:
                    break
                ladder[level] = found
            ladders.append(ladder)
            reachable.append(max(ladder))
        planned, shortfall = self._choose_levels(ladders, reachable, base)
        chosen = base | self._close(a for d in range(dimensions) for a in ladders[d][planned[d]])
        chosen = self._prune(chosen, dict(enumerate(planned)), keep=base)
        achieved = [lvl for _, lvl in self.levels(chosen)]
        unreachable = self._unreachable(targets, reachable, planned, ladders, base)
        return self._roadmap(
            chosen, base, targets, achieved, unreachable, ladders, exposures, controls, shortfall
        )

    def _choose_levels(
        self,
        ladders: list[dict[int, frozenset[str]]],
        reachable: list[int],
        base: frozenset[str],
    ) -> tuple[list[int], str | None]:
        budget = self.options.budget
        if budget is None:
            return reachable, None
        money = self.catalogue.currency
        base_cost = self.budget_cost(base)
        shortfall = None
        if base_cost > budget:
            shortfall = (
                f"The budget of {money} {budget:,} does not cover the baseline controls, which "
                f"cost {money} {base_cost:,}"
                + (
                    " counting everything"
                    if self.options.budget_scope == "everything"
                    else " in Center fees"
                )
                + f"; the plan keeps them, {money} {base_cost - budget:,} over the budget, "
                "and adds nothing else."
            )
            return [min(ladder) for ladder in ladders], shortfall
        best: tuple[int, int, tuple[int, ...]] | None = None
        for combination in itertools.product(*(sorted(ladder) for ladder in ladders)):
            chosen = base | self._close(
                a for d, level in enumerate(combination) for a in ladders[d][level]
            )
            cost = self.budget_cost(chosen)
            if cost > budget:
                continue
            key = (-sum(combination), cost, combination)
            if best is None or key < best:
                best = key
        assert best is not None  # noqa: S101 - the baseline alone fits
        return list(best[2]), shortfall

    def _unreachable(
        self,
        targets: list[int],
        reachable: list[int],
        planned: list[int],
        ladders: list[dict[int, frozenset[str]]],
        base: frozenset[str],
    ) -> list[Unreachable]:
        result = []
        for d, dimension_id in enumerate(self.dimension_ids):
            target = targets[d]
            if planned[d] >= target:
                continue
            title = self.definition.dimensions[d].title
            name = self.definition.level_name(target)
            if reachable[d] < target:
                reason = (
                    f"{title} cannot reach level {target} ({name}) with the available actions: "
                    + self._why_unreachable(d, reachable[d] + 1)
                )
            else:
                needed = (
                    self.budget_cost(base | self._close(ladders[d][target]))
                    if target in ladders[d]
                    else 0
                )
                reason = (
                    f"{title} could reach level {target} ({name}) for about "
                    f"{self.catalogue.currency} {needed:,}, which does not fit the budget of "
                    f"{self.catalogue.currency} {self.options.budget:,} with the other "
                    "dimensions' steps; the plan stops at level "
                    f"{planned[d]} ({self.definition.level_name(planned[d])})."
                )
            result.append(Unreachable(dimension_id, target, planned[d], reason))
        return result

    def _why_unreachable(self, dimension: int, level: int) -> str:
        dimension_id = self.dimension_ids[dimension]
        everything = self._close(
            a for a in self.available if self.actions[a].dimension == dimension_id
        )
        projected = self.project(everything)
        reasons = []
        for question in self.definition.questions_in(dimension_id):
            value = projected.get(question.id)
            for gate in question.gates:
                if gate.level > level or value is NA:
                    continue
                score = None if value is None else question_score(question, value)
                if score is None or score < gate.min_score:
                    reasons.append(
                        f"the level {gate.level} gate on \u201c{question.prompt}\u201d needs "
                        f"a score of {gate.min_score:g}, and no available action reaches it"
                    )
        threshold = self.definition.dimensions[dimension].thresholds.as_tuple()[level - 1]
        best_score = self.levels(everything)[dimension][0]
        if best_score < threshold:
            reasons.append(
                f"the best reachable score is {best_score:g}, "
                f"short of the {threshold:g} level {level} needs"
            )
        if self.options.excluded_services:
            reasons.append(
                f"excluded services: {', '.join(sorted(self.options.excluded_services))}"
            )
        return "; ".join(reasons) + "."

    # -- the schedule -----------------------------------------------------------------------

    def _order(
        self, chosen: frozenset[str], base: frozenset[str], ladders: list[dict[int, frozenset[str]]]
    ) -> list[str]:
        """Baseline first, then by the lowest planned level that needs each action."""

        def needed_for(action_id: str) -> int:
            levels = [level for ladder in ladders for level, s in ladder.items() if action_id in s]
            return min(levels, default=5)

        # Within the baseline, what more of it waits for goes first.
        waiting = {a: sum(1 for b in base if b != a and a in self.closures[b]) for a in base}
        return sorted(
            chosen,
            key=lambda a: (
                a not in base,
                -waiting.get(a, 0),
                needed_for(a),
                self.dimension_ids.index(self.actions[a].dimension),
                a,
            ),
        )

    def _next(self, order: list[str], placed: Mapping[str, Any], chosen: frozenset[str]) -> str:
        return next(
            a
            for a in order
            if a not in placed and all(r in placed for r in self.actions[a].requires if r in chosen)
        )

    def _schedule_weeks(
        self, chosen: frozenset[str], base: frozenset[str], order: list[str]
    ) -> dict[str, tuple[int, int]]:
        """Weeks on the catalogue's parallel tracks, prerequisites first, baseline first."""
        tracks = [0] * self.capacity.concurrent_actions
        times: dict[str, tuple[int, int]] = {}
        while len(times) < len(order):
            action_id = self._next(order, times, chosen)
            action = self.actions[action_id]
            ready = max((times[r][1] for r in action.requires if r in times), default=0)
            if action_id not in base:
                ready = max([ready] + [times[b][1] for b in base if b in times])
            track = min(range(len(tracks)), key=lambda t: (max(tracks[t], ready), t))
            start = max(tracks[track], ready)
            times[action_id] = (start, start + action.effort_weeks)
            tracks[track] = start + action.effort_weeks
        return times

    def _schedule_months(
        self, chosen: frozenset[str], base: frozenset[str], order: list[str]
    ) -> dict[str, tuple[int, int]]:
        """Months (first, last; 1-based) within the staff hours a month and concurrent actions.

        Each action runs for its effort in months, longer when its staff hours do not fit
        one month's capacity; its hours are spread evenly over its months. Prerequisites
        finish before dependants start, and the baseline before any other action starts.
        """
        limit_hours = self.capacity.staff_hours_per_month
        limit_count = self.capacity.concurrent_actions
        hours_in: dict[int, float] = {}
        count_in: dict[int, int] = {}
        months: dict[str, tuple[int, int]] = {}
        while len(months) < len(order):
            action_id = self._next(order, months, chosen)
            action = self.actions[action_id]
            hours = self.path_hours(action_id) or 0.0
            length = max(1, math.ceil(action.effort_weeks / WEEKS_PER_MONTH - 1e-9))
            if limit_hours:
                length = max(length, math.ceil(hours / limit_hours - 1e-9))
            per_month = hours / length
            earliest = 1 + max((months[r][1] for r in action.requires if r in months), default=0)
            if action_id not in base:
                earliest = max([earliest] + [months[b][1] + 1 for b in base if b in months])

            def fits(first: int, length: int = length, per_month: float = per_month) -> bool:
                return all(
                    count_in.get(m, 0) < limit_count
                    and (
                        limit_hours is None
                        or hours_in.get(m, 0.0) + per_month <= limit_hours + 1e-9
                    )
                    for m in range(first, first + length)
                )

            first = earliest
            while not fits(first):
                first += 1
            for m in range(first, first + length):
                hours_in[m] = hours_in.get(m, 0.0) + per_month
                count_in[m] = count_in.get(m, 0) + 1
            months[action_id] = (first, first + length - 1)
        return months

    # -- the roadmap ------------------------------------------------------------------------

    def _roadmap(
        self,
        chosen: frozenset[str],
        base: frozenset[str],
        targets: list[int],
        achieved: list[int],
        unreachable: list[Unreachable],
        ladders: list[dict[int, frozenset[str]]],
        exposures: list[Exposure],
        controls: list[tuple[Any, bool, bool, tuple[str, ...]]],
        shortfall: str | None,
    ) -> Roadmap:
        order = self._order(chosen, base, ladders)
        by_month = self.catalogue.capacity is not None
        if by_month:
            months = self._schedule_months(chosen, base, order)
            times = {a: (_week_of(m[0]), _week_of(m[1] + 1)) for a, m in months.items()}
        else:
            times = self._schedule_weeks(chosen, base, order)
            months = {
                a: (_month_of(t[0]), max(_month_of(t[0]), _month_of(t[1] - 1)))
                for a, t in times.items()
            }
        ordered = sorted(chosen, key=lambda a: (a not in base, times[a][0], times[a][1], a))
        membership = self._membership(chosen)
        covered = frozenset(membership.covered) if membership else frozenset[str]()
        whys = self._whys(chosen, base, ladders, controls)
        bought: set[str] = set()
        planned_actions: dict[str, PlannedAction] = {}
        for action_id in ordered:
            planned_actions[action_id] = self._planned_action(
                action_id,
                times[action_id],
                months[action_id],
                bought,
                covered,
                action_id in base,
                whys[action_id],
            )
        phases = self._phases(ordered, base, planned_actions, times, months, by_month)
        summaries = self._service_summaries(ordered, covered)
        hours = [a.staff_hours for a in planned_actions.values()]
        membership_fee = membership.price if membership else 0
        costs = _sum_costs(
            [p.costs for p in phases if p.costs is not None],
            membership_fee,
            self.options.hourly_rate,
        )
        total_months = max((m[1] for m in months.values()), default=0)
        loads = self._loads(months, total_months)
        baseline = tuple(
            BaselineControl(
                control_id=control.id,
                title=control.title,
                why=control.why,
                met=met,
                exposures=titles,
                action_ids=tuple(
                    a for a in ordered if a in base and self._serves(a, control.needs)
                ),
                reachable=reach,
            )
            for control, met, reach, titles in controls
        )
        return Roadmap(
            questionnaire_id=self.definition.id,
            questionnaire_version=self.definition.version,
            size_band=self.band.id,
            size_band_label=self.band.label,
            currency=self.catalogue.currency,
            budget=self.options.budget,
            excluded_services=tuple(sorted(self.options.excluded_services)),
            targets=dict(zip(self.dimension_ids, targets, strict=True)),
            current=self._projection(self.current),
            projected=self._projection(self.levels(chosen)),
            phases=tuple(phases),
            services=summaries,
            total_cost=sum(a.cost for a in planned_actions.values()) + membership_fee,
            total_weeks=max((t[1] for t in times.values()), default=0),
            unreachable=tuple(unreachable),
            projected_answers=self.project(chosen),
            membership=membership,
            yearly_cost=sum(s.yearly_cost for s in summaries if not s.paid_with_points)
            + membership_fee,
            staff_hours=sum(h for h in hours if h is not None)
            if hours and all(h is not None for h in hours)
            else None,
            costs=costs,
            capacity=self.capacity,
            budget_scope=self.options.budget_scope,
            baseline_shortfall=shortfall,
            baseline=baseline,
            exposures=tuple(exposures),
            total_months=total_months,
            beyond_12_months=total_months > 12,
            schedule_note=self._schedule_note(total_months, loads, base, months),
            months=loads,
        )

    def _serves(self, action_id: str, needs: Iterable[Requirement]) -> bool:
        return any(r.question in self.gains[action_id] for r in needs)

    def _whys(
        self,
        chosen: frozenset[str],
        base: frozenset[str],
        ladders: list[dict[int, frozenset[str]]],
        controls: list[tuple[Any, bool, bool, tuple[str, ...]]],
    ) -> dict[str, str]:
        """Why each action is in the plan, in plain words."""
        whys: dict[str, str] = {}
        missing = [(c, titles) for c, met, reach, titles in controls if not met and reach]
        for action_id in chosen:
            if action_id in base:
                served = [(c, t) for c, t in missing if self._serves(action_id, c.needs)]
                if served:
                    control, titles = served[0]
                    whys[action_id] = (
                        f"baseline: required before any other work ({control.title})"
                        + (f"; the answers show: {titles[0]}" if titles else "")
                        + "."
                    )
                else:
                    dependants = sorted(
                        self.actions[b].title
                        for b in base
                        if b != action_id and action_id in self.closures[b]
                    )
                    first = dependants[0] if dependants else "the baseline"
                    whys[action_id] = f"baseline: needed first for \u201c{first}\u201d."
                continue
            steps = [
                (level, d)
                for d, ladder in enumerate(ladders)
                for level, found in ladder.items()
                if action_id in found
            ]
            if steps:
                level, d = min(steps)
                whys[action_id] = (
                    f"cheapest way to reach {self.definition.dimensions[d].title} level "
                    f"{level} ({self.definition.level_name(level)})."
                )
            else:
                dependants = sorted(
                    self.actions[b].title
                    for b in chosen
                    if b != action_id and action_id in self.closures[b]
                )
                whys[action_id] = (
                    f"needed first for \u201c{dependants[0]}\u201d."
                    if dependants
                    else "part of the cheapest way to the targets."
                )
        return whys

    def _phases(
        self,
        ordered: list[str],
        base: frozenset[str],
        planned_actions: dict[str, PlannedAction],
        times: dict[str, tuple[int, int]],
        months: dict[str, tuple[int, int]],
        by_month: bool,
    ) -> list[Phase]:
        groups: list[tuple[str, str, int, int, bool, list[str]]] = []
        if base:
            last = max(months[a][1] for a in base)
            groups.append(
                (
                    "baseline",
                    f"Baseline controls first (months 1-{last})"
                    if last > 1
                    else "Baseline controls first (month 1)",
                    0,
                    _week_of(last + 1),
                    True,
                    [a for a in ordered if a in base],
                )
            )
        rest = [a for a in ordered if a not in base]
        if by_month:
            for phase_id, title, first, last_month in MONTH_PHASES:
                members = [a for a in rest if first <= months[a][0] <= last_month]
                groups.append(
                    (
                        phase_id,
                        title,
                        _week_of(first),
                        _week_of(min(last_month, 10_000) + 1) if last_month < 10_000 else 0,
                        False,
                        members,
                    )
                )
        else:
            for number, (phase_id, title, start, end) in enumerate(PHASES):
                final = number == len(PHASES) - 1
                members = [a for a in rest if start <= times[a][0] and (final or times[a][0] < end)]
                groups.append((phase_id, title, start, end, final, members))
        phases = []
        done_so_far: set[str] = set()
        for phase_id, title, start, end, flag, members in groups:
            if not members:
                continue
            in_phase = [planned_actions[a] for a in members]
            done_so_far |= set(members)
            is_baseline = phase_id == "baseline"
            open_ended = (not by_month and flag and not is_baseline) or (by_month and end == 0)
            end_week = (
                max([end] + [a.end_week for a in in_phase]) if open_ended or is_baseline else end
            )
            if by_month:
                end_week = max([end_week] + [a.end_week for a in in_phase])
            first_month = min(a.start_month for a in in_phase)
            phases.append(
                Phase(
                    phase_id=phase_id,
                    title=title,
                    start_week=min(start, min(a.start_week for a in in_phase)),
                    end_week=end_week,
                    actions=tuple(in_phase),
                    cost=sum(a.cost for a in in_phase),
                    projected=self._projection(self.levels(frozenset(done_so_far))),
                    start_month=first_month,
                    end_month=max(a.end_month for a in in_phase),
                    baseline=is_baseline,
                    costs=self._costs(in_phase, months),
                )
            )
        return phases

    def _costs(
        self, actions: list[PlannedAction], months: dict[str, tuple[int, int]]
    ) -> CostBreakdown:
        """Cost of ownership of some planned actions over the plan's first two years."""
        one_off = [0, 0]
        recurring = [0, 0]
        third = [0, 0]
        hours = [0.0, 0.0]
        third_yearly = 0
        center_yearly = 0
        for action in actions:
            first, last = months[action.action_id]
            year = 0 if first <= 12 else 1
            for line in action.services:
                if line.recurring == "one_off":
                    if first <= 24:
                        one_off[year] += line.charged
                    continue
                per_year = line.charged * (4 if line.recurring == "quarterly" else 1)
                center_yearly += per_year
                if first <= 12:
                    if line.recurring == "quarterly":
                        recurring[0] += line.charged * math.ceil((13 - first) / 3)
                    else:
                        recurring[0] += line.charged
                    recurring[1] += per_year
                elif first <= 24:
                    if line.recurring == "quarterly":
                        recurring[1] += line.charged * math.ceil((25 - first) / 3)
                    else:
                        recurring[1] += line.charged
            for cost in action.third_party:
                if cost.recurring == "yearly":
                    third_yearly += cost.amount
                    if first <= 12:
                        third[0] += cost.amount
                    if first <= 24:
                        third[1] += cost.amount
                elif first <= 24:
                    third[year] += cost.amount
            total_hours = action.path_staff_hours or 0.0
            span = last - first + 1
            for m in range(first, last + 1):
                if m <= 24:
                    hours[0 if m <= 12 else 1] += total_hours / span
        rate = self.options.hourly_rate
        years = [
            _year_cost(n + 1, one_off[n], recurring[n], third[n], hours[n], rate) for n in range(2)
        ]
        return _breakdown(years[0], years[1], center_yearly, third_yearly, rate)

    def _loads(self, months: dict[str, tuple[int, int]], total: int) -> tuple[MonthLoad, ...]:
        hours: dict[int, float] = {}
        running: dict[int, list[str]] = {}
        for action_id, (first, last) in sorted(months.items(), key=lambda i: (i[1], i[0])):
            per_month = (self.path_hours(action_id) or 0.0) / (last - first + 1)
            for m in range(first, last + 1):
                hours[m] = hours.get(m, 0.0) + per_month
                running.setdefault(m, []).append(action_id)
        return tuple(
            MonthLoad(m, round(hours.get(m, 0.0), 2), tuple(running.get(m, ())))
            for m in range(1, total + 1)
        )

    def _schedule_note(
        self,
        total: int,
        loads: tuple[MonthLoad, ...],
        base: frozenset[str],
        months: dict[str, tuple[int, int]],
    ) -> str:
        if total == 0:
            return "Nothing needs to be planned."
        capacity = self.capacity
        limits = f"at most {capacity.concurrent_actions} actions at once"
        if capacity.staff_hours_per_month is not None:
            limits = f"{capacity.staff_hours_per_month:g} staff hours a month and " + limits
        length = (
            f"The plan runs {total} months, beyond the first year,"
            if total > 12
            else f"The plan runs {total} month{'s' if total != 1 else ''}"
        )
        text = f"{length} within {limits}."
        if base:
            last = max(months[a][1] for a in base)
            text += (
                f" The baseline controls come first and are done by the end of month {last};"
                " everything else starts after them."
            )
        return text

    def _membership(self, chosen: frozenset[str]) -> MembershipChoice | None:
        """The cheapest membership that costs less than the fees of ``chosen``'s services."""
        services = sorted({s for a in chosen for s in self.path_services[a]})
        fees = sum(self.prices[s] for s in services)
        payable = [s for s in services if self.services[s].points is not None]
        best: MembershipChoice | None = None
        for membership in self.catalogue.memberships():
            if membership.id in self.options.excluded_services or not payable:
                continue
            points = (membership.grants_points or {}).get(self.band.id, 0)
            covered = _most_value_for_points(
                [(s, self.services[s].points or 0, self.prices[s]) for s in payable], points
            )
            cost = self.prices[membership.id] + sum(
                self.prices[s] for s in services if s not in covered
            )
            if cost >= fees or (best is not None and cost >= fees - best.saving):
                continue
            money = self.catalogue.currency
            best = MembershipChoice(
                service_id=membership.id,
                title=membership.title,
                price=self.prices[membership.id],
                points=points,
                points_used=sum(self.services[s].points or 0 for s in covered),
                covered=tuple(covered),
                fees_without=fees,
                saving=fees - cost,
                sentence=(
                    f"The plan buys the {membership.title} ({money} "
                    f"{self.prices[membership.id]:,} a year, {points:,} points) and pays for "
                    f"{len(covered)} of its services with points: {money} {cost:,} instead of "
                    f"{money} {fees:,} in separate fees, a saving of {money} {fees - cost:,}."
                ),
            )
        return best

    def _projection(self, levels: tuple[tuple[float, int], ...]) -> tuple[DimensionProjection, ...]:
        return tuple(
            DimensionProjection(d.id, d.title, score, level, self.definition.level_name(level))
            for d, (score, level) in zip(self.definition.dimensions, levels, strict=True)
        )

    def _planned_action(
        self,
        action_id: str,
        time: tuple[int, int],
        month: tuple[int, int],
        bought: set[str],
        covered: frozenset[str],
        baseline: bool,
        why: str,
    ) -> PlannedAction:
        action = self.actions[action_id]
        lines = []
        for service_id in self.path_services[action_id]:
            service = self.services[service_id]
            price = self.price(service_id)
            free = service_id in bought or service_id in covered
            lines.append(
                ServiceLine(
                    service.id,
                    service.kind.value,
                    service.title,
                    service.duration,
                    price,
                    0 if free else price,
                    recurring=service.recurring.value,
                    seats=service.seats_for(self.band),
                    paid_with_points=service_id in covered,
                )
            )
            bought.add(service_id)
        changes = []
        for qid, (value, _) in self.gains[action_id].items():
            question = self.definition.question(qid)
            assert question is not None  # noqa: S101 - the catalogue was checked against it
            current = self.answers.get(qid)
            before = "Not answered" if current is None else describe_answer(question, current)
            changes.append(
                ChangeLine(qid, question.prompt, before, describe_answer(question, value))
            )
        path, path_reason = self.paths[action_id]
        return PlannedAction(
            action_id=action.id,
            dimension_id=action.dimension,
            title=action.title,
            rationale=action.rationale,
            effort_weeks=action.effort_weeks,
            start_week=time[0],
            end_week=time[1],
            requires=tuple(r for r in action.requires if r not in self.done),
            services=tuple(lines),
            changes=tuple(changes),
            cost=sum(line.charged for line in lines),
            kind=action.kind.value if action.kind else None,
            staff_hours=(action.staff_hours or {}).get(self.band.id),
            diy=self._diy(action),
            baseline=baseline,
            why=why,
            path=path,
            path_reason=path_reason,
            start_month=month[0],
            end_month=month[1],
            path_staff_hours=self.path_hours(action_id),
            third_party=tuple(
                ThirdPartyLine(
                    item=t.item,
                    amount=t.amounts[self.band.id],
                    recurring=t.recurring,
                    estimate=t.estimate,
                    basis=t.basis,
                )
                for t in action.third_party
            ),
        )

    def _diy(self, action: Action) -> DoItYourselfPath | None:
        if action.diy is None:
            return None
        return DoItYourselfPath(
            how=action.diy.how,
            resources=tuple(
                ResourceLine(r, self.services[r].title, self.prices[r])
                for r in action.diy.resources
            ),
            staff_hours=action.diy.staff_hours.get(self.band.id, 0.0),
        )

    def _service_summaries(
        self, ordered: list[str], covered: frozenset[str]
    ) -> tuple[ServiceSummary, ...]:
        users: dict[str, list[str]] = {}
        for action_id in ordered:
            for service_id in self.path_services[action_id]:
                users.setdefault(service_id, []).append(action_id)
        return tuple(
            ServiceSummary(
                service_id=service_id,
                kind=self.services[service_id].kind.value,
                title=self.services[service_id].title,
                description=self.services[service_id].description,
                duration=self.services[service_id].duration,
                price=self.price(service_id),
                action_ids=tuple(action_ids),
                recurring=self.services[service_id].recurring.value,
                yearly_cost=self.services[service_id].yearly_cost(self.band),
                seats=self.services[service_id].seats_for(self.band),
                paid_with_points=service_id in covered,
                points=self.services[service_id].points,
            )
            for service_id, action_ids in users.items()
        )


def _week_of(month: int) -> int:
    """The week (0-based) a 1-based month starts in; month 13 starts at week 52."""
    return round((month - 1) * WEEKS_PER_MONTH)


def _month_of(week: int) -> int:
    """The 1-based month a 0-based week falls in."""
    return int(week // WEEKS_PER_MONTH) + 1


def _year_cost(
    year: int, one_off: int, recurring: int, third: int, hours: float, rate: int | None
) -> YearCost:
    staff_cost = None if rate is None else round(hours * rate)
    return YearCost(
        year=year,
        center_one_off=one_off,
        center_recurring=recurring,
        third_party=third,
        staff_hours=round(hours, 2),
        staff_cost=staff_cost,
        total=one_off + recurring + third + (staff_cost or 0),
    )


def _breakdown(
    year1: YearCost, year2: YearCost, center_yearly: int, third_yearly: int, rate: int | None
) -> CostBreakdown:
    staff_cost = None if rate is None else (year1.staff_cost or 0) + (year2.staff_cost or 0)
    return CostBreakdown(
        year1=year1,
        year2=year2,
        center_one_off=year1.center_one_off + year2.center_one_off,
        center_recurring=year1.center_recurring + year2.center_recurring,
        center_yearly=center_yearly,
        third_party=year1.third_party + year2.third_party,
        third_party_yearly=third_yearly,
        staff_hours=round(year1.staff_hours + year2.staff_hours, 2),
        staff_cost=staff_cost,
        total=year1.total + year2.total,
    )


def _sum_costs(parts: list[CostBreakdown], membership_fee: int, rate: int | None) -> CostBreakdown:
    """The plan's cost of ownership: its phases' added up, and the membership each year."""
    years = []
    for n in (0, 1):
        rows = [p.year1 if n == 0 else p.year2 for p in parts]
        staff_cost = None if rate is None else sum(r.staff_cost or 0 for r in rows)
        one_off = sum(r.center_one_off for r in rows)
        recurring = sum(r.center_recurring for r in rows) + membership_fee
        third = sum(r.third_party for r in rows)
        years.append(
            YearCost(
                year=n + 1,
                center_one_off=one_off,
                center_recurring=recurring,
                third_party=third,
                staff_hours=round(sum(r.staff_hours for r in rows), 2),
                staff_cost=staff_cost,
                total=one_off + recurring + third + (staff_cost or 0),
            )
        )
    return _breakdown(
        years[0],
        years[1],
        sum(p.center_yearly for p in parts) + membership_fee,
        sum(p.third_party_yearly for p in parts),
        rate,
    )


def _merge_choices(question: MultipleChoiceQuestion, values: list[list[str]]) -> list[str]:
    """The union of several multiple-choice answers; an exclusive "none" gives way."""
    chosen = {v for value in values for v in value}
    exclusive = {o.value for o in question.options if o.exclusive}
    if chosen - exclusive:
        chosen -= exclusive
    return [o.value for o in question.options if o.value in chosen]


def _most_value_for_points(services: list[tuple[str, int, int]], points: int) -> tuple[str, ...]:
    """The services (id, points, price) whose prices add up most within ``points``."""
    # best[p] = (value, ids) using at most p points; ties keep the earlier (sorted) choice.
    best: list[tuple[int, tuple[str, ...]]] = [(0, ())] * (points + 1)
    for service_id, cost, price in services:
        for budget in range(points, cost - 1, -1):
            value, ids = best[budget - cost]
            if value + price > best[budget][0]:
                best[budget] = (value + price, (*ids, service_id))
    return best[points][1]
