"""The board brief: two pages a CFO and a privacy officer can decide on.

Where the organization stands (one sentence per dimension), the top three risks, the
decision asked of the board, what it costs in year 1 and year 2, and what changes by
90 days, 6 months and 12 months. Every sentence is built from the scores, the plan and
the definition; free-text answers are never quoted (a reported incident is named, not
retold).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from app.questionnaire.answers import AnswerValue
from app.questionnaire.schemas import QuestionnaireDefinition
from app.reports.requirements import OpenGate, open_gates
from app.roadmap.results import PlannedAction, Roadmap
from app.scoring.results import AssessmentScore

Money = Callable[[int], str]

EN_DASH = "\u2013"
EM_DASH = "\u2014"

# The levels a baseline control guards: below level 3 nothing is written down or enforced.
BASELINE_LEVEL = 3

# The windows the brief reports on, as (label, last month inside).
MILESTONES = (("By 90 days", 3), ("By 6 months", 6), ("By 12 months", 12))

DISCLAIMER = (
    "This report is not legal advice. It describes the organization's social media "
    "program against a maturity model and the regulations it cites; decisions about HIPAA, "
    "state law and employment law belong with the organization's own counsel and privacy "
    "officer."
)


@dataclass(frozen=True, slots=True)
class StandingRow:
    """One dimension in one sentence: level today, target, and what holds it back."""

    title: str
    color: str
    level: str
    target: str
    sentence: str


@dataclass(frozen=True, slots=True)
class RiskRow:
    """A risk in plain words: what is wrong today, what is required, when the plan fixes it."""

    title: str
    today: str
    required: str
    fix: str


@dataclass(frozen=True, slots=True)
class CostRow:
    """One line of the cost table: what it is, year 1 and year 2."""

    label: str
    year_one: str
    year_two: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Milestone:
    """What is in place by a date: the levels reached and the actions finished."""

    title: str
    levels: str
    finished: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BoardBrief:
    """Everything the two-page brief prints."""

    standing: tuple[StandingRow, ...]
    risks: tuple[RiskRow, ...]
    risk_heading: str
    risk_intro: str
    decision: str
    costs: tuple[CostRow, ...]
    year_one_total: str
    year_two_total: str
    cost_note: str
    milestones: tuple[Milestone, ...]
    disclaimer: str


@dataclass(frozen=True, slots=True)
class Costs:
    """The plan's cost in the brief's terms: fees by year and staff time."""

    one_off: int
    yearly: int
    yearly_two: int
    one_off_two: int
    staff_hours_year_one: float
    staff_hours_year_two: float
    staff_cost_year_one: int | None
    staff_cost_year_two: int | None
    others_year_one: int
    others_year_two: int

    @property
    def year_one(self) -> int:
        return self.one_off + self.yearly + (self.staff_cost_year_one or 0) + self.others_year_one

    @property
    def year_two(self) -> int:
        return (
            self.one_off_two
            + self.yearly_two
            + (self.staff_cost_year_two or 0)
            + self.others_year_two
        )


def plan_costs(roadmap: Roadmap) -> Costs:
    """Year 1 and year 2 as the planner counts them (a plan without them: fees only)."""
    costs = roadmap.costs
    if costs is not None:
        one, two = costs.year1, costs.year2
        return Costs(
            one_off=one.center_one_off,
            yearly=one.center_recurring,
            yearly_two=two.center_recurring,
            one_off_two=two.center_one_off,
            staff_hours_year_one=one.staff_hours,
            staff_hours_year_two=two.staff_hours,
            staff_cost_year_one=one.staff_cost,
            staff_cost_year_two=two.staff_cost,
            others_year_one=one.third_party,
            others_year_two=two.third_party,
        )
    yearly = roadmap.yearly_cost
    return Costs(
        one_off=max(0, roadmap.total_cost - yearly),
        yearly=yearly,
        yearly_two=yearly,
        one_off_two=0,
        staff_hours_year_one=roadmap.staff_hours or 0.0,
        staff_hours_year_two=0.0,
        staff_cost_year_one=None,
        staff_cost_year_two=None,
        others_year_one=0,
        others_year_two=0,
    )


def build_brief(
    definition: QuestionnaireDefinition,
    score: AssessmentScore,
    roadmap: Roadmap,
    answers: Mapping[str, AnswerValue],
    colors: Mapping[str, str],
    organization_name: str,
    money: Money,
) -> BoardBrief:
    """The brief's sentences, risks, costs and milestones, worked out from the results."""
    targets = {
        d.dimension_id: roadmap.targets.get(d.dimension_id, d.level) for d in score.dimensions
    }
    after = {p.dimension_id: p.level for p in roadmap.projected}
    standing = tuple(
        _standing(
            definition,
            d.dimension_id,
            d.title,
            d.level,
            d.level_name,
            d.score,
            targets[d.dimension_id],
            after.get(d.dimension_id, d.level),
            open_gates(definition, d.failed_gates),
            colors[d.dimension_id],
        )
        for d in score.dimensions
    )
    risks = _risks(definition, score, roadmap)
    costs = plan_costs(roadmap)
    return BoardBrief(
        standing=standing,
        risks=risks,
        risk_heading={0: "Risks", 1: "The top risk"}.get(
            len(risks), f"The top {_count(len(risks), 'risk')}"
        ),
        risk_intro=_risk_intro(risks, organization_name),
        decision=_decision(roadmap, costs, organization_name, money),
        costs=_cost_rows(costs, money),
        year_one_total=money(costs.year_one),
        year_two_total=money(costs.year_two),
        cost_note=(
            "Center fees are list prices for an organization of this size. Yearly fees "
            "(course licences, renewals) are paid again in year 2. Staff time is the "
            "organization's own people working on the plan."
        ),
        milestones=_milestones(score, roadmap, definition),
        disclaimer=DISCLAIMER,
    )


def _standing(
    definition: QuestionnaireDefinition,
    dimension_id: str,
    title: str,
    level: int,
    level_name: str,
    score: float,
    target: int,
    after: int,
    gates: Sequence[OpenGate],
    color: str,
) -> StandingRow:
    dimension = definition.dimension(dimension_id)
    thresholds = dimension.thresholds.as_tuple() if dimension else (0, 25, 45, 65, 85)
    holding = sum(1 for g in gates if g.level == level + 1)
    if level >= 5:
        sentence = f"{title} is at the top level: every requirement of the model is met."
    elif holding:
        sentence = (
            f"{title} is at level {level} ({level_name}): "
            f"{_count(holding, 'required answer')} "
            f"{'stands' if holding == 1 else 'stand'} between it and level {level + 1}."
        )
    else:
        needed = thresholds[level]
        sentence = (
            f"{title} is at level {level} ({level_name}): its score of {_fmt(score)} "
            f"must reach {_fmt(needed)} for level {level + 1}."
        )
    if after > level:
        sentence += f" The plan takes it to level {after}."
    elif target > level:
        sentence += " The plan does not raise it yet."
    return StandingRow(
        title=title,
        color=color,
        level=f"{level} of 5 {EM_DASH} {level_name}",
        target=f"{target} (plan: {after})",
        sentence=sentence,
    )


def _fixing_actions(roadmap: Roadmap) -> dict[str, PlannedAction]:
    """For each question the plan changes, the first action that changes it."""
    fixes: dict[str, PlannedAction] = {}
    for action in roadmap.actions:
        for change in action.changes:
            fixes.setdefault(change.question_id, action)
    return fixes


def _risks(
    definition: QuestionnaireDefinition,
    score: AssessmentScore,
    roadmap: Roadmap,
) -> tuple[RiskRow, ...]:
    """Three risks: missing baseline controls (those the answers show exposed first),
    then reported exposures whose controls are in place, then the lowest failed gates."""
    planned = {a.action_id: a for a in roadmap.actions}
    risks: list[RiskRow] = []
    missing = sorted((c for c in roadmap.baseline if not c.met), key=lambda c: -len(c.exposures))
    for control in missing[:3]:
        actions = [planned[a] for a in control.action_ids if a in planned]
        if actions:
            fix = "; ".join(f"{a.title} ({_months(a)})" for a in actions) + "."
        elif control.reachable:
            fix = "Not in this plan."
        else:
            fix = "No available action puts this in place; the roadmap says why."
        risks.append(
            RiskRow(
                title=control.title,
                today=" ".join(control.exposures) or "Not in place today.",
                required=control.why,
                fix=fix,
            )
        )
    named = {e for risk in risks for e in risk.today.split(". ")}
    for exposure in roadmap.exposures:
        if len(risks) >= 3:
            break
        if exposure.title.rstrip(".") in {n.rstrip(".") for n in named}:
            continue
        risks.append(
            RiskRow(
                title=exposure.title,
                today="Reported in the answers; the details stay with the consultant.",
                required="The baseline controls that limit a repeat.",
                fix="The baseline controls this calls for are in place already.",
            )
        )
    fixes = _fixing_actions(roadmap)
    gates = sorted(
        (g for d in score.dimensions for g in open_gates(definition, d.failed_gates)),
        key=lambda g: (g.level, -g.weight),
    )
    for gate in gates:
        if len(risks) >= 3:
            break
        action = fixes.get(gate.question_id)
        risks.append(
            RiskRow(
                title=gate.prompt,
                today=gate.today,
                required=f"For level {gate.level}: {gate.needs}",
                fix=f"{action.title} ({_months(action)})." if action else "Not in this plan.",
            )
        )
    return tuple(risks[:3])


def _risk_intro(risks: Sequence[RiskRow], name: str) -> str:
    if not risks:
        return f"No baseline control is missing at {name} and no incident was reported."
    return (
        "From the incidents the answers report and the baseline requirements they do not "
        "meet: what the model asks before a program counts as defined (level 3)."
    )


def _decision(roadmap: Roadmap, costs: Costs, name: str, money: Money) -> str:
    if not roadmap.actions:
        return (
            f"No decision on spending is needed: {name} is already at its target level in "
            "every dimension. The board is asked to confirm the targets for the next "
            "assessment."
        )
    months = roadmap.total_months or max(1, -(-roadmap.total_weeks // 4))
    parts = [f"{money(costs.one_off)} in one-off Center fees"] if costs.one_off else []
    if costs.yearly:
        parts.append(f"{money(costs.yearly)} in recurring Center fees")
    if costs.others_year_one:
        parts.append(f"about {money(costs.others_year_one)} paid to others (estimates)")
    hours = costs.staff_hours_year_one
    if hours:
        staff = f"about {_fmt(hours)} hours of staff time"
        if costs.staff_cost_year_one:
            staff += f" ({money(costs.staff_cost_year_one)})"
        parts.append(staff)
    baseline = [a for a in roadmap.actions if a.baseline]
    first = (
        f" The baseline privacy and account controls come first and are done by month "
        f"{max(a.end_month for a in baseline)}."
        if baseline
        else ""
    )
    year_two = (
        f" Year 2 costs {money(costs.year_two)}."
        if costs.year_two
        else " Year 2 costs nothing more."
    )
    budget = (
        f" It fits the budget of {money(roadmap.budget)}."
        if roadmap.budget is not None and not roadmap.baseline_shortfall
        else ""
    )
    short = f" {roadmap.baseline_shortfall}" if roadmap.baseline_shortfall else ""
    if roadmap.unreachable:
        short += " Some targets cannot be reached within this plan; the roadmap says why."
    commits = f", committing in year 1 {_join(parts)}" if parts else ", at no cost in year 1"
    return f"Approve the {months}-month plan for {name}{commits}.{first}{year_two}{budget}{short}"


def _cost_rows(costs: Costs, money: Money) -> tuple[CostRow, ...]:
    rows = [
        CostRow("Center fees, one-off", money(costs.one_off), money(costs.one_off_two)),
        CostRow("Center fees, recurring", money(costs.yearly), money(costs.yearly_two)),
    ]
    if costs.others_year_one or costs.others_year_two:
        rows.append(
            CostRow(
                "Paid to others (estimates)",
                money(costs.others_year_one),
                money(costs.others_year_two),
                "tools, paid verification and the like",
            )
        )
    hours_one, hours_two = costs.staff_hours_year_one, costs.staff_hours_year_two
    if costs.staff_cost_year_one is not None:
        rows.append(
            CostRow(
                "Staff time",
                f"{money(costs.staff_cost_year_one)} ({_fmt(hours_one)} h)",
                f"{money(costs.staff_cost_year_two or 0)} ({_fmt(hours_two)} h)",
            )
        )
    elif hours_one or hours_two:
        rows.append(
            CostRow(
                "Staff time (hours, not costed)",
                f"{_fmt(hours_one)} h",
                f"{_fmt(hours_two)} h",
            )
        )
    return tuple(rows)


def _milestones(
    score: AssessmentScore, roadmap: Roadmap, definition: QuestionnaireDefinition
) -> tuple[Milestone, ...]:
    """By 90 days, 6 months and 12 months (and after, if the plan runs on): what finishes.

    A phase's levels count as reached once every action of that phase has finished.
    """
    levels = {d.dimension_id: d.level for d in score.dimensions}
    titles = {d.id: d.title for d in definition.dimensions}
    windows = list(MILESTONES)
    last_month = max((a.end_month for a in roadmap.actions), default=0)
    if last_month > 12:
        windows.append(("After 12 months", last_month))
    milestones = []
    earlier = 0
    for label, month in windows:
        finished = tuple(a.title for a in roadmap.actions if earlier < a.end_month <= month)
        before = dict(levels)
        for phase in roadmap.phases:
            if phase.actions and max(a.end_month for a in phase.actions) <= month:
                for p in phase.projected:
                    levels[p.dimension_id] = max(levels.get(p.dimension_id, 1), p.level)
        risen = [
            f"{titles.get(d, d)} reaches level {levels[d]}"
            for d in levels
            if levels[d] > before.get(d, levels[d])
        ]
        if risen:
            text = _join(risen) + "."
        elif finished:
            text = "No level changes yet; these actions prepare the next one."
        else:
            text = "Nothing new finishes in this period." if roadmap.actions else ""
        milestones.append(Milestone(title=label, levels=text, finished=finished))
        earlier = month
    return tuple(milestones)


def _months(action: PlannedAction) -> str:
    first, last = action.start_month, action.end_month
    return f"month {first}" if first >= last else f"months {first}{EN_DASH}{last}"


def _weeks(action: PlannedAction) -> str:
    first, last = action.start_week + 1, max(action.start_week + 1, action.end_week)
    return f"week {first}" if first == last else f"weeks {first}{EN_DASH}{last}"


def _as_phrase(label: str) -> str:
    """An answer label inside a sentence: no closing full stop, a lower-case first word."""
    text = label.strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return f"\u201c{text}\u201d" if " " in text else text


def _fmt(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0")


_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _count(number: int, noun: str) -> str:
    word = _WORDS[number] if number < len(_WORDS) else str(number)
    return f"{word} {noun}{'' if number == 1 else 's'}"


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
