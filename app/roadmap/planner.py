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

Catalogues from version 2 also give each action's staff hours and do-it-yourself path;
the plan reports both (it does not yet choose between the paths). Recurring services are
marked and their yearly cost totalled.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.questionnaire.answers import NA, AnswerValue, describe_answer
from app.questionnaire.catalogue import Action, Catalogue
from app.questionnaire.schemas import MultipleChoiceQuestion, QuestionnaireDefinition
from app.questionnaire.visibility import visible_questions
from app.roadmap.results import (
    ChangeLine,
    DimensionProjection,
    DoItYourselfPath,
    MembershipChoice,
    Phase,
    PlannedAction,
    ResourceLine,
    Roadmap,
    ServiceLine,
    ServiceSummary,
    Unreachable,
)
from app.scoring.engine import dimension_level, dimension_levels, question_score

# (id, title, first week, week after the last); an action belongs to the phase it starts in,
# and the last phase takes everything that starts later, however long it runs.
PHASES: tuple[tuple[str, str, int, int], ...] = (
    ("first_90_days", "First 90 days", 0, 13),
    ("months_3_to_6", "3-6 months", 13, 26),
    ("months_6_to_12", "6-12 months", 26, 52),
)


class PlanningError(ValueError):
    """Options that cannot be planned (unknown dimension, level out of range, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """What the plan is for: the organization's size, targets, budget, excluded services."""

    licensed_beds: int
    targets: Mapping[str, int] = field(default_factory=dict)
    budget: int | None = None
    excluded_services: frozenset[str] = frozenset()


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
        usable = {a.id for a in self.catalogue.actions if not excluded & set(a.services)}
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
        services = {s for a in chosen for s in self.actions[a].services}
        return sum(self.prices[s] for s in services)

    def _rank(self, chosen: frozenset[str]) -> tuple[int, int, int, tuple[str, ...]]:
        effort = sum(self.actions[a].effort_weeks for a in chosen)
        return (self.cost(chosen), effort, len(chosen), tuple(sorted(chosen)))

    # -- search -----------------------------------------------------------------------------

    def cheapest(self, dimension: int, level: int) -> frozenset[str] | None:
        """The cheapest action set that brings one dimension to ``level``, or None.

        Cost depends only on which services are bought, and buying a service makes every
        action it delivers free to add; adding an action never lowers a level. So the
        search runs over sets of services (far fewer than sets of actions): the cheapest
        set whose enabled actions reach the level wins, and its superfluous actions are
        pruned afterwards.
        """
        if self.current[dimension][1] >= level:
            return frozenset()
        dimension_id = self.dimension_ids[dimension]
        candidates = [a for a in self.available if self.actions[a].dimension == dimension_id]
        needs = {
            a: frozenset(s for b in self.closures[a] for s in self.actions[b].services)
            for a in candidates
        }
        services = sorted(
            {s for a in candidates for s in needs[a]}, key=lambda s: (-self.prices[s], s)
        )

        def enabled(bought: frozenset[str]) -> frozenset[str]:
            return self._close(a for a in candidates if needs[a] <= bought)

        enabled_cache: dict[frozenset[str], frozenset[str]] = {}

        def reaches(bought: frozenset[str]) -> bool:
            actions = enabled_cache.get(bought)
            if actions is None:
                actions = enabled_cache[bought] = enabled(bought)
            return self.level_of(actions, dimension) >= level

        if not reaches(frozenset(services)):
            return None
        best = frozenset(services)
        best_cost = self.cost(enabled(best))

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
        return self._prune(enabled(best), {dimension: level})

    def _prune(self, chosen: frozenset[str], planned: Mapping[int, int]) -> frozenset[str]:
        """Drop actions (with what requires them) that no planned level needs.

        The most expensive go first; ties drop the longest effort first.
        """

        def keeps(candidate: frozenset[str]) -> bool:
            return all(self.level_of(candidate, d) >= lvl for d, lvl in planned.items())

        changed = True
        while changed:
            changed = False
            order = sorted(
                chosen, key=lambda a: (-self.cost([a]), -self.actions[a].effort_weeks, a)
            )
            for action_id in order:
                dependants = {b for b in chosen if action_id in self.closures[b]}
                candidate = chosen - dependants
                if keeps(candidate):
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
        ladders: list[dict[int, frozenset[str]]] = []
        reachable: list[int] = []
        for d in range(dimensions):
            ladder = {self.current[d][1]: frozenset[str]()}
            for level in range(self.current[d][1] + 1, targets[d] + 1):
                found = self.cheapest(d, level)
                if found is None:
                    break
                ladder[level] = found
            ladders.append(ladder)
            reachable.append(max(ladder))
        planned = self._choose_levels(ladders, reachable)
        chosen = self._close(a for d in range(dimensions) for a in ladders[d][planned[d]])
        chosen = self._prune(chosen, dict(enumerate(planned)))
        achieved = [lvl for _, lvl in self.levels(chosen)]
        unreachable = self._unreachable(targets, reachable, planned, ladders)
        return self._roadmap(chosen, targets, achieved, unreachable, ladders)

    def _choose_levels(
        self, ladders: list[dict[int, frozenset[str]]], reachable: list[int]
    ) -> list[int]:
        if self.options.budget is None:
            return reachable
        best: tuple[int, int, tuple[int, ...]] | None = None
        for combination in itertools.product(*(sorted(ladder) for ladder in ladders)):
            chosen = self._close(
                a for d, level in enumerate(combination) for a in ladders[d][level]
            )
            cost = self.cost(chosen)
            if cost > self.options.budget:
                continue
            key = (-sum(combination), cost, combination)
            if best is None or key < best:
                best = key
        assert best is not None  # noqa: S101 - today's levels cost nothing
        return list(best[2])

    def _unreachable(
        self,
        targets: list[int],
        reachable: list[int],
        planned: list[int],
        ladders: list[dict[int, frozenset[str]]],
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
                needed = self.cost(self._close(ladders[d][target])) if target in ladders[d] else 0
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

    def _schedule(
        self, chosen: frozenset[str], ladders: list[dict[int, frozenset[str]]]
    ) -> dict[str, tuple[int, int]]:
        def needed_for(action_id: str) -> int:
            levels = [level for ladder in ladders for level, s in ladder.items() if action_id in s]
            return min(levels, default=5)

        order = sorted(
            chosen,
            key=lambda a: (needed_for(a), self.dimension_ids.index(self.actions[a].dimension), a),
        )
        tracks = [0] * self.catalogue.parallel_tracks
        times: dict[str, tuple[int, int]] = {}
        while len(times) < len(order):
            action_id = next(
                a
                for a in order
                if a not in times
                and all(r in times for r in self.actions[a].requires if r in chosen)
            )
            action = self.actions[action_id]
            ready = max((times[r][1] for r in action.requires if r in times), default=0)
            track = min(range(len(tracks)), key=lambda t: (max(tracks[t], ready), t))
            start = max(tracks[track], ready)
            times[action_id] = (start, start + action.effort_weeks)
            tracks[track] = start + action.effort_weeks
        return times

    def _roadmap(
        self,
        chosen: frozenset[str],
        targets: list[int],
        achieved: list[int],
        unreachable: list[Unreachable],
        ladders: list[dict[int, frozenset[str]]],
    ) -> Roadmap:
        times = self._schedule(chosen, ladders)
        ordered = sorted(chosen, key=lambda a: (times[a][0], times[a][1], a))
        membership = self._membership(chosen)
        covered = frozenset(membership.covered) if membership else frozenset[str]()
        bought: set[str] = set()
        planned_actions: dict[str, PlannedAction] = {}
        for action_id in ordered:
            planned_actions[action_id] = self._planned_action(
                action_id, times[action_id], bought, covered
            )
        phases = []
        done_so_far: set[str] = set()
        for number, (phase_id, title, start, end) in enumerate(PHASES):
            last = number == len(PHASES) - 1
            in_phase = [
                planned_actions[a]
                for a in ordered
                if start <= times[a][0] and (last or times[a][0] < end)
            ]
            if not in_phase:
                continue
            done_so_far |= {a.action_id for a in in_phase}
            phases.append(
                Phase(
                    phase_id=phase_id,
                    title=title,
                    start_week=start,
                    end_week=max([end] + [a.end_week for a in in_phase]) if last else end,
                    actions=tuple(in_phase),
                    cost=sum(a.cost for a in in_phase),
                    projected=self._projection(self.levels(frozenset(done_so_far))),
                )
            )
        summaries = self._service_summaries(ordered, covered)
        hours = [a.staff_hours for a in planned_actions.values()]
        membership_fee = membership.price if membership else 0
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
        )

    def _membership(self, chosen: frozenset[str]) -> MembershipChoice | None:
        """The cheapest membership that costs less than the fees of ``chosen``'s services."""
        services = sorted({s for a in chosen for s in self.actions[a].services})
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
        self, action_id: str, time: tuple[int, int], bought: set[str], covered: frozenset[str]
    ) -> PlannedAction:
        action = self.actions[action_id]
        lines = []
        for service_id in action.services:
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
            for service_id in self.actions[action_id].services:
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
