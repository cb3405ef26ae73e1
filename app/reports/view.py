"""The report's view model: everything the template shows, worked out and worded here.

``build_report_view`` turns pure results (definition, scores, roadmap, answers) into
frozen dataclasses of ready-to-print strings and charts, so the template only lays
things out. No clock, no I/O: the same inputs give the same view, and the same PDF.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import zip_longest

from markupsafe import Markup

from app.benchmarks.percentile import Benchmark
from app.questionnaire.answers import NA, AnswerValue, describe_answer
from app.questionnaire.schemas import OverallMethod, QuestionnaireDefinition, TextQuestion
from app.questionnaire.visibility import visible_questions
from app.reports.brief import BoardBrief, build_brief
from app.reports.charts import (
    TimelineBar,
    TimelinePhase,
    TrendSeries,
    radar_chart,
    score_bar,
    timeline_chart,
    trend_chart,
)
from app.reports.requirements import ModelGate, OpenGate, model_gates, open_gates
from app.roadmap.results import DimensionProjection, Phase, PlannedAction, Roadmap
from app.scoring.engine import question_score
from app.scoring.results import (
    AssessmentScore,
    DimensionScore,
    NextLevel,
)

# Typeset characters, spelled as escapes so that no one mistakes them for ASCII.
EN_DASH = "\u2013"  # for ranges of weeks, and for "no value"
APOSTROPHE = "\u2019"

# One accent per dimension, in definition order; distinguishable in colour-blind vision.
DIMENSION_COLORS = ("#2f6690", "#b7791f", "#7b4f9d", "#2a7f62", "#b04a5a")

SERVICE_KINDS = {
    "in_person_training": "In-person training",
    "online_training": "Online training",
    "consulting": "Consulting",
    "conference": "Conference",
    "resource": "Resource",
    "membership": "Membership",
}

RECURRENCE = {"yearly": "a year", "quarterly": "a quarter"}

# What a free-text answer or a comment shows when the report does not print narratives.
NOT_PRINTED = "Answered (not printed)"

ORGANIZATION_TYPES = {
    "community_hospital": "Community hospital",
    "critical_access_hospital": "Critical access hospital",
    "academic_medical_center": "Academic medical center",
    "childrens_hospital": f"Children{APOSTROPHE}s hospital",
    "specialty_hospital": "Specialty hospital",
    "health_system": "Health system",
    "clinic": "Clinic",
    "other": "Health care organization",
}

# The timeline's calendar bands, in months from the start (end excluded).
_CALENDAR = (
    ("First 90 days", 0, 3),
    (f"3{EN_DASH}6 months", 3, 6),
    (f"6{EN_DASH}12 months", 6, 12),
    ("After 12 months", 12, 240),
)

Money = Callable[[int], str]  # formats an amount in the roadmap's currency

_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True, slots=True)
class OrganizationInfo:
    """The organization the report is for, as its record says."""

    name: str
    type: str
    licensed_beds: int
    state: str


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One earlier (or this) submitted assessment: its date and (dimension, score, level)s."""

    day: date
    dimensions: tuple[tuple[str, float, int], ...]


@dataclass(frozen=True, slots=True)
class TrendRow:
    """One assessment in the trend table: its date and each dimension's score and level."""

    day: str
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BenchmarkRow:
    """One dimension's standing among peers, in words."""

    title: str
    color: str
    score: str
    percentile: str
    sentence: str


@dataclass(frozen=True, slots=True)
class LevelRow:
    number: int
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class SourceRow:
    """Where a statement in a question's help text is published, as one line."""

    text: str
    url: str | None


@dataclass(frozen=True, slots=True)
class SourceSection:
    """A question whose help text cites sources, and the sources."""

    prompt: str
    dimension: str
    sources: tuple[SourceRow, ...]


@dataclass(frozen=True, slots=True)
class ThresholdRow:
    level: int
    name: str
    minimum: str
    reached: bool


@dataclass(frozen=True, slots=True)
class GateRow:
    """A requirement the answers do not meet yet: the answer it needs and today's."""

    level: int
    question_id: str  # for tests and links; never printed
    prompt: str
    needs: str
    today: str
    next_level: bool  # the gate stands between the dimension and its next level


@dataclass(frozen=True, slots=True)
class GateLevel:
    """The appendix's list of one level's gates in one dimension."""

    level: int
    name: str
    gates: tuple[ModelGate, ...]


@dataclass(frozen=True, slots=True)
class ModelGates:
    """Every gate of one dimension, level by level, as the appendix prints them."""

    title: str
    color: str
    levels: tuple[GateLevel, ...]


@dataclass(frozen=True, slots=True)
class AnswerRow:
    question_id: str
    prompt: str
    answer: str
    score: str


@dataclass(frozen=True, slots=True)
class DimensionView:
    """One dimension's page: where it stands, why, and what the next level needs."""

    id: str
    title: str
    description: str
    color: str
    level: int
    level_name: str
    level_description: str
    score: str
    score_chart: Markup
    thresholds: tuple[ThresholdRow, ...]
    held_by_gates: bool
    answered: str
    summary: str
    failed_gates: tuple[GateRow, ...]
    later_gates: int  # failed gates above target + 1, left to the appendix
    strongest: tuple[AnswerRow, ...]
    weakest: tuple[AnswerRow, ...]
    extremes: tuple[tuple[AnswerRow | None, AnswerRow | None], ...]  # strongest beside weakest
    level_meanings: tuple[LevelRow, ...]  # this dimension's own level descriptions, if any
    next_level: str | None
    next_level_summary: str | None
    target: str
    projected: str


@dataclass(frozen=True, slots=True)
class LevelSummaryRow:
    """A dimension in the executive summary: levels today, targeted and after the roadmap."""

    title: str
    color: str
    current: str
    score: str
    target: str
    projected: str
    target_met: bool


@dataclass(frozen=True, slots=True)
class ActionServiceRow:
    title: str
    price: str
    recurring: str | None = None  # "a year", "a quarter"


@dataclass(frozen=True, slots=True)
class ActionRow:
    number: int
    title: str
    rationale: str
    dimension: str
    color: str
    weeks: str
    services: tuple[ActionServiceRow, ...]
    cost: str
    staff_hours: str | None = None  # "About 10 staff hours"
    in_house: str | None = None  # "Can be done in-house: ..."
    why: str | None = None  # why the planner put it in the plan
    path: str | None = None  # why the in-house or the Center path was chosen
    path_label: str = "Center services"  # the chosen path in two words, for the action list


@dataclass(frozen=True, slots=True)
class PhaseView:
    """One of the three phases; ``actions`` is empty when nothing starts in it."""

    id: str
    title: str
    weeks: str
    cost: str
    actions: tuple[ActionRow, ...]
    outcome: str
    paragraph: str


@dataclass(frozen=True, slots=True)
class ServiceRow:
    title: str
    kind: str
    description: str
    duration: str
    price: str
    for_actions: str
    recurring: str | None = None
    quantity: str | None = None  # "5 seats at $295 each"


@dataclass(frozen=True, slots=True)
class UnreachableRow:
    title: str
    reason: str


@dataclass(frozen=True, slots=True)
class AppendixRow:
    question_id: str
    prompt: str
    answer: str
    score: str
    comment: str | None
    free_text: bool
    comment_withheld: bool = False  # a comment was given but the report does not print it


@dataclass(frozen=True, slots=True)
class AppendixSection:
    dimension_id: str
    title: str
    color: str
    rows: tuple[AppendixRow, ...]


@dataclass(frozen=True, slots=True)
class ReportView:
    """Everything report.html shows, in the order it shows it."""

    title: str
    author: str
    description: str
    language: str
    created: str
    organization: OrganizationInfo
    organization_details: str
    questionnaire_title: str
    questionnaire_version: int
    assessed_on: str
    complete: bool
    overall_level: int
    overall_level_name: str
    overall_level_description: str
    overall_score: str
    overall_rule: str
    headline: str
    plan_summary: str
    plan_outcome: str
    level_rows: tuple[LevelSummaryRow, ...]
    radar_chart: Markup
    dimensions: tuple[DimensionView, ...]
    phases: tuple[PhaseView, ...]
    timeline_chart: Markup
    has_actions: bool
    total_cost: str
    total_weeks: str
    roadmap_line: str
    size_band_label: str
    budget: str | None
    unreachable: tuple[UnreachableRow, ...]
    services: tuple[ServiceRow, ...]
    services_total: str
    notes: str | None
    levels: tuple[LevelRow, ...]
    appendix: tuple[AppendixSection, ...]
    brief: BoardBrief
    model_gates: tuple[ModelGates, ...]
    trend_chart: Markup | None = None
    trend_columns: tuple[str, ...] = ()
    trend_rows: tuple[TrendRow, ...] = ()
    benchmark_intro: str | None = None
    benchmark_rows: tuple[BenchmarkRow, ...] = ()
    sources: tuple[SourceSection, ...] = ()
    membership: str | None = None  # why the plan buys a membership, and what it saves
    membership_price: str | None = None
    yearly_total: str | None = None  # what recurs every year
    staff_hours_total: str | None = None
    schedule_note: str | None = None
    narratives_printed: bool = False


def format_money(amount: int, currency: str = "USD") -> str:
    """Whole currency units with thousands separators: 12400 -> '$12,400'."""
    if currency == "USD":
        return f"-${-amount:,}" if amount < 0 else f"${amount:,}"
    return f"{amount:,} {currency}"


def format_score(score: float | None) -> str:
    """A 0-100 score with at most one decimal, or an en dash when there is none."""
    if score is None:
        return EN_DASH
    return f"{score:.1f}".removesuffix(".0")


def format_date(day: date) -> str:
    """A date as US readers write it: 'March 3, 2025'."""
    return f"{day:%B} {day.day}, {day.year}"


def weeks_label(start_week: int, end_week: int) -> str:
    """Weeks counted from 1: (0, 6) -> 'Weeks 1-6' (with an en dash), (0, 1) -> 'Week 1'."""
    first, last = start_week + 1, max(start_week + 1, end_week)
    return f"Week {first}" if first == last else f"Weeks {first}{EN_DASH}{last}"


def _count(number: int, noun: str) -> str:
    word = _NUMBER_WORDS[number] if number < len(_NUMBER_WORDS) else str(number)
    return f"{word} {noun}{'' if number == 1 else 's'}"


def _in_sentence(text: str) -> str:
    """A title or label as it reads inside a sentence: "Turn on ..." becomes "turn on ...".

    Words that are capitals throughout (MFA, HIPAA) or start with two capitals keep them.
    """
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _level(number: int, name: str) -> str:
    return f"Level {number} · {name}"


def _short_level(number: int, name: str) -> str:
    return f"{number} · {name}"


def _dashes(text: str) -> str:
    """Ranges of numbers with an en dash, as typeset text has them ('3-6 months')."""
    return re.sub(r"(?<=\d)-(?=\d)", EN_DASH, text)


def build_report_view(
    definition: QuestionnaireDefinition,
    score: AssessmentScore,
    roadmap: Roadmap,
    organization: OrganizationInfo,
    answers: Mapping[str, AnswerValue],
    comments: Mapping[str, str],
    assessed_on: date,
    notes: str | None = None,
    trend: Sequence[TrendPoint] = (),
    peers: Benchmark | None = None,
    include_narratives: bool = False,
) -> ReportView:
    """Precompute every label, sentence, table row and chart the report needs.

    Free-text answers and comments may hold what a board report must not (a patient's
    story, a name); they are printed only when ``include_narratives`` is set.
    """
    colors = {
        d.id: DIMENSION_COLORS[i % len(DIMENSION_COLORS)]
        for i, d in enumerate(definition.dimensions)
    }
    titles = {d.id: d.title for d in definition.dimensions}
    projected = {p.dimension_id: p for p in roadmap.projected}
    currency = roadmap.currency

    def money(amount: int) -> str:
        return format_money(amount, currency)

    numbered = {a.action_id: n for n, a in enumerate(roadmap.actions, start=1)}
    shown = visible_questions(definition, answers)
    dimensions = tuple(
        _dimension_view(
            definition,
            result,
            colors[result.dimension_id],
            roadmap.targets.get(result.dimension_id, result.level),
            projected.get(result.dimension_id),
            answers,
            shown,
        )
        for result in score.dimensions
    )
    # The heading beside it names the level; the text says what the level stands for.
    overall_meaning = definition.levels[score.overall_level - 1].description
    phases = _phases(roadmap, titles, colors, numbered, money)
    target = {
        d.dimension_id: roadmap.targets.get(d.dimension_id, d.level) for d in score.dimensions
    }
    after = {
        d.dimension_id: projected[d.dimension_id].level if d.dimension_id in projected else d.level
        for d in score.dimensions
    }
    level_rows = tuple(
        LevelSummaryRow(
            title=d.title,
            color=colors[d.dimension_id],
            current=_short_level(d.level, d.level_name),
            score=format_score(d.score),
            target=_short_level(
                target[d.dimension_id], definition.level_name(target[d.dimension_id])
            ),
            projected=_short_level(
                after[d.dimension_id], definition.level_name(after[d.dimension_id])
            ),
            target_met=after[d.dimension_id] >= target[d.dimension_id],
        )
        for d in score.dimensions
    )
    radar = radar_chart(
        [
            (d.title, d.level, target[d.dimension_id], after[d.dimension_id])
            for d in score.dimensions
        ]
    )
    months = max([roadmap.total_months] + [a.end_month for a in roadmap.actions] + [1])
    timeline = timeline_chart(
        [TimelinePhase(title, start, end) for title, start, end in _CALENDAR if start < months],
        [
            TimelineBar(
                a.title,
                a.start_month - 1,
                a.end_month,
                colors[a.dimension_id],
                titles[a.dimension_id],
            )
            for a in roadmap.actions
        ],
        [(d.title, colors[d.id]) for d in definition.dimensions],
        weeks=months,
        unit="month",
    )
    unreachable = tuple(
        UnreachableRow(
            title=f"{titles[u.dimension_id]}: level {u.target} "
            f"({definition.level_name(u.target)}) is out of reach; the plan stops at level "
            f"{u.planned_level} ({definition.level_name(u.planned_level)})",
            reason=u.reason,
        )
        for u in roadmap.unreachable
    )
    services = tuple(
        ServiceRow(
            title=s.title,
            kind=SERVICE_KINDS.get(s.kind, s.kind.replace("_", " ").capitalize()),
            description=s.description,
            duration=_own_duration(s.duration, roadmap.size_band, s.seats),
            price=_service_price(s.price, s.paid_with_points, money),
            quantity=_quantity(s.seats, s.price, s.paid_with_points, money),
            for_actions=_for_actions([numbered[a] for a in s.action_ids if a in numbered]),
            recurring=RECURRENCE.get(s.recurring),
        )
        for s in roadmap.services
    )
    overall_rule = (
        "The overall level is the lowest of the dimension levels: a program is only as "
        "mature as its weakest part."
        if definition.overall_level is OverallMethod.WEAKEST
        else "The overall level is the weighted mean of the dimension levels, rounded down."
    )
    type_label = ORGANIZATION_TYPES.get(
        organization.type, organization.type.replace("_", " ").capitalize()
    )
    bed_count = organization.licensed_beds
    beds = f"{bed_count:,} licensed bed{'' if bed_count == 1 else 's'}"
    today = _join([f"{d.title} at level {d.level} ({d.level_name})" for d in score.dimensions])
    headline = (
        f"{organization.name} is at level {score.overall_level} ({score.overall_level_name}) "
        f"overall, with {today}."
    )
    action_count = len(roadmap.actions)
    if action_count:
        budget = (
            f", within a budget of {money(roadmap.budget)}" if roadmap.budget is not None else ""
        )
        plan_summary = (
            f"The roadmap takes {_count(action_count, 'action')} over {roadmap.length} "
            f"and costs {money(roadmap.total_cost)} at the Center{APOSTROPHE}s list "
            f"prices for organizations of this size ({_in_sentence(roadmap.size_band_label)})"
            f"{budget}."
        )
        if roadmap.yearly_cost:
            plan_summary += f" Of this, {money(roadmap.yearly_cost)} recurs every year."
        plan_outcome = _outcome_sentence(score, roadmap, titles)
    else:
        plan_outcome = ""
        plan_summary = (
            "No actions are needed: every dimension is already at its target level."
            if not roadmap.unreachable
            else "No action in the catalogue moves any dimension towards its target."
        )
    title = f"{organization.name}: Social Media Maturity Assessment and Roadmap"
    trend_view = _trend(definition, trend, colors)
    benchmark_view = _benchmark(peers, organization.name, colors)
    return ReportView(
        title=title,
        author=definition.publisher,
        description=(
            f"Maturity levels in {_join([d.title.lower() for d in definition.dimensions])}, "
            f"and a costed roadmap of next steps, for {organization.name}, "
            f"assessed on {format_date(assessed_on)}."
        ),
        language=definition.language,
        created=assessed_on.isoformat(),
        organization=organization,
        organization_details=f"{type_label} · {beds} · {organization.state}",
        questionnaire_title=definition.title,
        questionnaire_version=definition.version,
        assessed_on=format_date(assessed_on),
        complete=score.complete,
        overall_level=score.overall_level,
        overall_level_name=score.overall_level_name,
        overall_level_description=overall_meaning,
        overall_score=format_score(score.overall_score),
        overall_rule=overall_rule,
        headline=headline,
        plan_summary=plan_summary,
        plan_outcome=plan_outcome,
        level_rows=level_rows,
        radar_chart=radar,
        dimensions=dimensions,
        phases=phases,
        timeline_chart=timeline,
        has_actions=bool(roadmap.actions),
        total_cost=money(roadmap.total_cost),
        total_weeks=roadmap.length,
        roadmap_line=(
            f"{money(roadmap.total_cost)} over {roadmap.length}"
            if roadmap.actions
            else "No actions needed"
        )
        + f" · {roadmap.size_band_label}",
        size_band_label=roadmap.size_band_label,
        budget=money(roadmap.budget) if roadmap.budget is not None else None,
        unreachable=unreachable,
        services=services,
        services_total=money(
            sum(s.price for s in roadmap.services if not s.paid_with_points)
            + (roadmap.membership.price if roadmap.membership else 0)
        ),
        notes=notes.strip() if notes and notes.strip() else None,
        levels=tuple(LevelRow(lv.level, lv.name, lv.description) for lv in definition.levels),
        appendix=_appendix(definition, answers, comments, colors, include_narratives),
        brief=build_brief(definition, score, roadmap, answers, colors, organization.name, money),
        model_gates=tuple(
            ModelGates(
                d.title,
                colors[d.id],
                tuple(
                    GateLevel(level, definition.level_name(level), gates)
                    for level, gates in model_gates(definition, d.id)
                ),
            )
            for d in definition.dimensions
        ),
        trend_chart=trend_view[0],
        trend_columns=trend_view[1],
        trend_rows=trend_view[2],
        benchmark_intro=benchmark_view[0],
        benchmark_rows=benchmark_view[1],
        sources=_sources(definition, titles),
        membership=_membership(roadmap, money),
        membership_price=money(roadmap.membership.price) if roadmap.membership else None,
        yearly_total=money(roadmap.yearly_cost) if roadmap.yearly_cost else None,
        staff_hours_total=_hours(staff) if (staff := _plan_staff_hours(roadmap)) else None,
        narratives_printed=include_narratives,
        schedule_note=_dashes(roadmap.schedule_note) or None,
    )


def _plan_staff_hours(roadmap: Roadmap) -> float | None:
    """The staff time of the plan on the paths it chose, over both years."""
    if roadmap.costs is not None:
        return roadmap.costs.staff_hours or None
    return roadmap.staff_hours


def _membership(roadmap: Roadmap, money: Money) -> str | None:
    """Why the plan buys a membership instead of paying each fee, in figures."""
    choice = roadmap.membership
    if choice is None:
        return None
    covered = len(choice.covered)
    return (
        f"The plan buys the {choice.title} ({money(choice.price)} a year, "
        f"{choice.points:,} points) instead of paying separate fees: its points pay for "
        f"{_count(covered, 'service')}, so the services cost "
        f"{money(choice.fees_without - choice.saving)} rather than {money(choice.fees_without)}, "
        f"a saving of {money(choice.saving)}."
    )


def _hours(hours: float) -> str:
    return f"{format_score(hours)} staff hour{'' if hours == 1 else 's'}"


# Band ids in the order catalogues list them; a duration written for every band
# ("3, 5, 8 or 12 seats by size") is reduced to this organization's own number.
_BAND_ORDER = ("small", "community", "regional", "academic")
_BY_SIZE = re.compile(r"(\d+(?:, \d+)*,? or \d+) (seats|passes|learners) by size")


def _own_duration(duration: str, band: str, seats: int | None) -> str:
    """A service's duration with only this organization's seat count in it."""
    match = _BY_SIZE.search(duration)
    if match is None:
        return duration
    counts = re.findall(r"\d+", match.group(1))
    if seats is None and band in _BAND_ORDER and len(counts) == len(_BAND_ORDER):
        seats = int(counts[_BAND_ORDER.index(band)])
    if seats is None:
        return duration
    noun = match.group(2)
    if seats == 1:
        noun = noun[:-2] if noun.endswith("sses") else noun[:-1]
    return duration[: match.start()] + f"{seats} {noun}" + duration[match.end() :]


def _quantity(seats: int | None, price: int, paid_with_points: bool, money: Money) -> str | None:
    """How many seats the price buys for this organization, and what one costs."""
    if not seats or paid_with_points or not price:
        return None
    return f"{seats} seat{'' if seats == 1 else 's'} at {money(round(price / seats))} each"


def _service_price(price: int, paid_with_points: bool, money: Money) -> str:
    if paid_with_points:
        return "Paid with membership points"
    return money(price) if price else "No charge"


def _sources(
    definition: QuestionnaireDefinition, titles: Mapping[str, str]
) -> tuple[SourceSection, ...]:
    """Every question's sources, in definition order, each once per question."""
    sections = []
    for question in definition.questions:
        if not question.sources:
            continue
        rows = tuple(
            SourceRow(
                text=f"{source.title}. {source.publisher}"
                + (f", {source.date}" if source.date else "")
                + ".",
                url=source.url,
            )
            for source in question.sources
        )
        sections.append(SourceSection(question.prompt, titles[question.dimension], rows))
    return tuple(sections)


def _trend(
    definition: QuestionnaireDefinition, trend: Sequence[TrendPoint], colors: Mapping[str, str]
) -> tuple[Markup | None, tuple[str, ...], tuple[TrendRow, ...]]:
    """The trend chart, columns and rows, from two or more assessments; nothing from fewer."""
    if len(trend) < 2:
        return None, (), ()
    labels = [f"{p.day:%b} {p.day.day}, {p.day.year}" for p in trend]
    by_point = [{d: (score, level) for d, score, level in p.dimensions} for p in trend]
    series = [
        TrendSeries(
            d.title,
            colors[d.id],
            [point[d.id][0] if d.id in point else None for point in by_point],
        )
        for d in definition.dimensions
    ]
    rows = tuple(
        TrendRow(
            day=label,
            cells=tuple(
                f"{format_score(point[d.id][0])} · level {point[d.id][1]}"
                if d.id in point
                else EN_DASH
                for d in definition.dimensions
            ),
        )
        for label, point in zip(labels, by_point, strict=True)
    )
    return trend_chart(labels, series), tuple(d.title for d in definition.dimensions), rows


def _benchmark(
    peers: Benchmark | None, name: str, colors: Mapping[str, str]
) -> tuple[str | None, tuple[BenchmarkRow, ...]]:
    """The peer section: an introduction and percentiles only, or why there are none."""
    if peers is None or not peers.band_label:
        return None, ()
    if not peers.available:
        return f"{peers.reason} Size band: {peers.band_label}.", ()
    taken = (
        f" on {peers.taken_at:%b} {peers.taken_at.day}, {peers.taken_at:%Y}"
        if peers.taken_at
        else ""
    )
    intro = (
        f"How {name} compared with {peers.peer_count} other organizations of the same size "
        f"({peers.band_label}) in the peer snapshot taken{taken}, each by its latest "
        f"submitted assessment. Each score is placed in a quarter of its peers: the top "
        f"quarter means a higher score than at least 75% of them, counting ties as half. "
        f"Peers are never named, and exact percentiles are not published."
    )
    rows = tuple(
        BenchmarkRow(
            title=d.title,
            color=colors.get(d.dimension_id, DIMENSION_COLORS[0]),
            score=format_score(d.score),
            percentile=d.percentile_band.label if d.percentile_band is not None else EN_DASH,
            sentence=(
                f"Among {d.peer_count} peers"
                if d.percentile_band is not None
                else f"Fewer than {peers.minimum_peers} peers scored this dimension"
            ),
        )
        for d in peers.dimensions
    )
    return intro, rows


def _for_actions(numbers: Sequence[int]) -> str:
    if not numbers:
        return ""
    return f"For action{'' if len(numbers) == 1 else 's'} {_join([str(n) for n in numbers])}"


def _outcome_sentence(score: AssessmentScore, roadmap: Roadmap, titles: Mapping[str, str]) -> str:
    before = {d.dimension_id: d.level for d in score.dimensions}
    rises = [
        f"{titles[p.dimension_id]} to level {p.level} ({p.level_name})"
        for p in roadmap.projected
        if p.level > before.get(p.dimension_id, p.level)
    ]
    if not rises:
        return "It does not yet change any level."
    return f"Once it is complete, it brings {_join(rises)}."


def _dimension_view(
    definition: QuestionnaireDefinition,
    result: DimensionScore,
    color: str,
    target: int,
    projected: DimensionProjection | None,
    answers: Mapping[str, AnswerValue],
    shown: set[str],
) -> DimensionView:
    dimension = next(d for d in definition.dimensions if d.id == result.dimension_id)
    thresholds = dimension.thresholds.as_tuple()
    names = [lv.name for lv in definition.levels]
    next_level = result.next_level
    strongest, weakest = _extremes(definition, result, answers, shown)
    # What the level means, in this dimension's own terms where it has them: a definition
    # of the level, not a statement about the organization.
    meaning = dimension.level_description(result.level, definition.levels)
    gates = open_gates(definition, result.failed_gates)
    shown_gates = [g for g in gates if g.level <= target + 1]
    next_number = next_level.level if next_level else 0
    return DimensionView(
        id=result.dimension_id,
        title=result.title,
        description=dimension.description,
        color=color,
        level=result.level,
        level_name=result.level_name,
        level_description=meaning,
        score=format_score(result.score),
        score_chart=score_bar(result.score, thresholds, result.level, names, color),
        thresholds=tuple(
            ThresholdRow(n + 1, names[n], format_score(t), result.score >= t)
            for n, t in enumerate(thresholds)
        ),
        held_by_gates=result.level_by_score > result.level,
        answered=f"{result.answered} of {result.applicable} applicable scored questions answered",
        summary=_standing_sentence(result, thresholds, gates),
        failed_gates=tuple(_gate_row(g, next_number) for g in shown_gates),
        later_gates=len(gates) - len(shown_gates),
        strongest=strongest,
        weakest=weakest,
        extremes=tuple(zip_longest(strongest, weakest)),
        level_meanings=tuple(
            LevelRow(lv.level, lv.name, lv.description) for lv in dimension.levels or ()
        ),
        next_level=_level(next_level.level, next_level.name) if next_level else None,
        next_level_summary=_next_level_summary(next_level, result.score, gates)
        if next_level
        else None,
        target=_level(target, definition.level_name(target)),
        projected=_level(projected.level, projected.level_name)
        if projected
        else _level(result.level, result.level_name),
    )


NOTES_PER_SIDE = 3


def _extremes(
    definition: QuestionnaireDefinition,
    result: DimensionScore,
    answers: Mapping[str, AnswerValue],
    shown: set[str],
) -> tuple[tuple[AnswerRow, ...], tuple[AnswerRow, ...]]:
    """The strongest answers (above the dimension's mean) and the weakest (below it).

    A question can only be on one side, and an answer at the mean is on neither.
    """
    scored: list[tuple[float, float, int, AnswerRow]] = []
    for order, question in enumerate(definition.questions_in(result.dimension_id)):
        if question.id not in shown or question.id not in answers:
            continue
        value = answers[question.id]
        points = question_score(question, value)
        if points is None:
            continue
        row = AnswerRow(
            question.id, question.prompt, describe_answer(question, value), format_score(points)
        )
        scored.append((points, question.weight, order, row))
    mean = result.score
    above = sorted((n for n in scored if n[0] > mean), key=lambda n: (-n[0], -n[1], n[2]))
    below = sorted((n for n in scored if n[0] < mean), key=lambda n: (n[0], -n[1], n[2]))
    return (
        tuple(n[3] for n in above[:NOTES_PER_SIDE]),
        tuple(n[3] for n in below[:NOTES_PER_SIDE]),
    )


def _standing_sentence(
    result: DimensionScore, thresholds: Sequence[float], gates: Sequence[OpenGate]
) -> str:
    """Why the dimension is at its level, in plain sentences."""
    level, score = result.level, format_score(result.score)
    if result.answered == 0:
        return "No scored question in this dimension has been answered yet."
    if level >= 5:
        return f"The score of {score} reaches the top level, and every requirement is met."
    if result.level_by_score > level:
        holding = sum(1 for g in gates if g.level == level + 1)
        return (
            f"The score of {score} would be enough for level {result.level_by_score}, but "
            f"level {level + 1} also requires certain answers, and "
            f"{_count(holding, 'answer')} {'does' if holding == 1 else 'do'} not meet them "
            f"yet (listed below). So the dimension stays at level {level}."
        )
    upper = format_score(thresholds[level])
    if level == 1:
        return f"The score of {score} is below {upper}, where level 2 starts."
    return (
        f"The score of {score} is within level {level}{APOSTROPHE}s range "
        f"({format_score(thresholds[level - 1])} to {upper}), and every requirement up to "
        f"level {level} is met."
    )


def _gate_row(gate: OpenGate, next_level: int) -> GateRow:
    return GateRow(
        level=gate.level,
        question_id=gate.question_id,
        prompt=gate.prompt,
        needs=gate.needs,
        today=gate.today,
        next_level=gate.level <= next_level,
    )


def _next_level_summary(next_level: NextLevel, score: float, gates: Sequence[OpenGate]) -> str:
    """What the next level takes, pointing at the table of requirements below."""
    blocking = sum(1 for g in gates if g.level <= next_level.level)
    head = f"To reach level {next_level.level} ({next_level.name}): "
    steps = []
    if next_level.points_short > 0:
        steps.append(
            f"raise the score from {format_score(score)} to {format_score(next_level.score_needed)}"
        )
    if blocking:
        steps.append(
            f"meet the {_count(blocking, 'requirement')} marked "
            f"{next_level.level} in the table below"
            if blocking > 1
            else f"meet the requirement marked {next_level.level} in the table below"
        )
    if not steps:
        return head + "nothing more is needed."
    return head + " and ".join(steps) + "."


def _phases(
    roadmap: Roadmap,
    titles: Mapping[str, str],
    colors: Mapping[str, str],
    numbered: Mapping[str, int],
    money: Money,
) -> tuple[PhaseView, ...]:
    """The plan's phases as it schedules them; the header spans what its actions run."""
    levels = {p.dimension_id: p.level for p in roadmap.current}
    views = []
    for phase in roadmap.phases:
        if not phase.actions:
            continue
        actions = tuple(_action_row(a, titles, colors, numbered, money) for a in phase.actions)
        changes = [
            f"{p.title} reaches level {p.level} ({p.level_name})"
            for p in phase.projected
            if p.level > levels.get(p.dimension_id, p.level)
        ]
        levels.update({p.dimension_id: p.level for p in phase.projected})
        outcome = (
            f"When these actions are complete, {_join(changes)}."
            if changes
            else "These actions prepare the ground; the levels they lead to are reached later."
        )
        first = min(a.start_month for a in phase.actions)
        last = max(a.end_month for a in phase.actions)
        views.append(
            PhaseView(
                id=phase.phase_id,
                title=_dashes(phase.title),
                weeks=months_label(first, last),
                cost=money(phase.cost),
                actions=actions,
                outcome=outcome,
                paragraph=_phase_paragraph(phase, money) + " " + outcome,
            )
        )
    return tuple(views)


def months_label(first: int, last: int) -> str:
    """Months counted from 1, end included: (1, 3) -> 'Months 1-3' (with an en dash)."""
    return f"Month {first}" if first >= last else f"Months {first}{EN_DASH}{last}"


def _phase_paragraph(phase: Phase, money: Money) -> str:
    count = len(phase.actions)
    cost = f"costing {money(phase.cost)} in Center fees" if phase.cost else "at no Center fee"
    last = max(a.end_month for a in phase.actions)
    return (
        f"{_count(count, 'action').capitalize()} {'starts' if count == 1 else 'start'} "
        f"in this period, {cost}; the last finishes in month {last}."
    )


def _action_row(
    action: PlannedAction,
    titles: Mapping[str, str],
    colors: Mapping[str, str],
    numbered: Mapping[str, int],
    money: Money,
) -> ActionRow:
    hours = action.path_staff_hours if action.path_staff_hours is not None else action.staff_hours
    return ActionRow(
        number=numbered[action.action_id],
        title=action.title,
        rationale=action.rationale,
        dimension=titles[action.dimension_id],
        color=colors[action.dimension_id],
        weeks=months_label(action.start_month, action.end_month),
        why=_dashes(action.why[:1].upper() + action.why[1:]) if action.why else None,
        path=action.path_reason or None,
        path_label="In-house" if action.path == "diy" else "Center services",
        services=tuple(
            ActionServiceRow(
                s.title,
                money(s.charged)
                if s.charged
                else (
                    "Paid with membership points"
                    if s.paid_with_points
                    else ("No charge" if s.price == 0 else "Already in the plan")
                ),
                RECURRENCE.get(s.recurring) if s.charged else None,
            )
            for s in action.services
        ),
        cost=money(action.cost) if action.cost else "No added cost",
        staff_hours=f"About {_hours(hours)} of your own" if hours else None,
        in_house=_in_house(action, money),
    )


def _in_house(action: PlannedAction, money: Money) -> str | None:
    """The do-it-yourself path in one sentence, with its time and any resources."""
    if action.diy is None:
        return None
    resources = [
        f"{r.title} ({money(r.price) if r.price else 'free'})" for r in action.diy.resources
    ]
    using = f" Using: {_join(resources)}." if resources else ""
    return (
        f"Can be done in-house: {action.diy.how.rstrip('.')}. "
        f"About {_hours(action.diy.staff_hours)}.{using}"
    )


def _appendix(
    definition: QuestionnaireDefinition,
    answers: Mapping[str, AnswerValue],
    comments: Mapping[str, str],
    colors: Mapping[str, str],
    include_narratives: bool,
) -> tuple[AppendixSection, ...]:
    shown = visible_questions(definition, answers)
    sections = []
    for dimension in definition.dimensions:
        rows = []
        for question in definition.questions_in(dimension.id):
            if question.id not in shown:
                continue  # a follow-up these answers do not ask
            value = answers.get(question.id)
            answered = question.id in answers
            score = question_score(question, value) if answered and value is not NA else None
            comment = comments.get(question.id)
            comment = comment.strip() if comment and comment.strip() else None
            free_text = isinstance(question, TextQuestion)
            if not answered:
                answer = "Not answered"
            elif free_text and value is not NA and not include_narratives:
                answer = NOT_PRINTED
            else:
                answer = describe_answer(question, value)
            rows.append(
                AppendixRow(
                    question_id=question.id,
                    prompt=question.prompt,
                    answer=answer,
                    score=format_score(score)
                    if score is not None
                    else ("Not scored" if free_text else EN_DASH),
                    comment=comment if include_narratives else None,
                    free_text=free_text,
                    comment_withheld=comment is not None and not include_narratives,
                )
            )
        sections.append(
            AppendixSection(dimension.id, dimension.title, colors[dimension.id], tuple(rows))
        )
    return tuple(sections)
