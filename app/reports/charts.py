"""Charts as self-contained SVG: a maturity radar, a roadmap timeline, a score bar, a trend.

Each function returns one ``<svg>`` element as ``Markup``, with every style given as an
attribute, so the same chart renders in the PDF (WeasyPrint) and on a web page without
any stylesheet. Every piece of text is escaped, and numbers are printed with a fixed
precision, so the same input always gives the same bytes.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from typing import NamedTuple

from markupsafe import Markup, escape

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
INK = "#1f2d3d"
MUTED = "#5b6b7b"
GRID = "#c9d3dc"
PRIMARY = "#0e5160"

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

# Radar geometry, public so tests (and a web page laying it out) can rely on it.
RADAR_WIDTH = 440
RADAR_HEIGHT = 362
RADAR_CENTER = (220.0, 188.0)
RADAR_RADIUS = 140.0
LEVELS = 5


class RadarAxis(NamedTuple):
    """One dimension on the radar: its title and its current, target and projected levels."""

    title: str
    current: int
    target: int
    projected: int


class TimelinePhase(NamedTuple):
    """A band on the timeline, from ``start_week`` up to (not including) ``end_week``."""

    title: str
    start_week: int
    end_week: int


class TimelineBar(NamedTuple):
    """One action on the timeline; ``group`` names its dimension for the legend."""

    label: str
    start_week: int
    end_week: int
    color: str
    group: str


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _color(value: str) -> str:
    if not _COLOR.match(value):
        raise ValueError(f"colors are #rrggbb, not {value!r}")
    return value


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 10,
    anchor: str = "start",
    fill: str = INK,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-family="{FONT}" font-size="{_num(size)}" '
        f'font-weight="{weight}" fill="{fill}" text-anchor="{anchor}">{escape(content)}</text>'
    )


def _wrap(text: str, width: int, max_lines: int = 2) -> list[str]:
    """Lines of at most ``width`` characters; past ``max_lines`` the rest is elided."""
    return textwrap.wrap(text, width, max_lines=max_lines, placeholder=" …") or [""]


def _svg(width: int, height: int, label: str, body: list[str], *, css_class: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every part is escaped above


# -- radar ---------------------------------------------------------------------------------


def radar_point(axis: int, axes: int, level: float) -> tuple[float, float]:
    """Where ``level`` lies on axis number ``axis`` of ``axes`` (the first points up)."""
    angle = 2 * math.pi * axis / axes
    radius = RADAR_RADIUS * level / LEVELS
    cx, cy = RADAR_CENTER
    return cx + radius * math.sin(angle), cy - radius * math.cos(angle)


def _points(levels: Sequence[float]) -> str:
    return " ".join(
        f"{_num(x)},{_num(y)}"
        for x, y in (radar_point(i, len(levels), level) for i, level in enumerate(levels))
    )


def radar_chart(dimensions: Sequence[tuple[str, int, int, int]]) -> Markup:
    """Current, target and projected levels (1-5) per dimension, as a radar on five rings.

    ``dimensions`` holds (title, current level, target level, projected level) tuples
    (``RadarAxis`` is one); three dimensions make a triangle.
    """
    axes = [RadarAxis(*d) for d in dimensions]
    count = len(axes)
    if count < 3:
        raise ValueError("a radar needs at least three dimensions")
    for axis in axes:
        for level in axis[1:]:
            if not 1 <= level <= LEVELS:
                raise ValueError(f"{axis.title}: level {level} is not 1 to {LEVELS}")
    body: list[str] = []
    for ring in range(1, LEVELS + 1):
        body.append(
            f'<polygon class="radar-ring" points="{_points([ring] * count)}" '
            f'fill="{"#f4f7f9" if ring == LEVELS else "none"}" stroke="{GRID}" '
            f'stroke-width="{"1.2" if ring == LEVELS else "0.8"}"/>'
        )
    for i in range(count):
        x, y = radar_point(i, count, LEVELS)
        cx, cy = RADAR_CENTER
        body.append(
            f'<line x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x)}" y2="{_num(y)}" '
            f'stroke="{GRID}" stroke-width="0.8"/>'
        )
    for ring in range(1, LEVELS + 1):
        x, y = radar_point(0, count, ring)
        body.append(_text(x + 4, y + 3.5, str(ring), size=8.5, fill=MUTED))

    current = [a.current for a in axes]
    target = [a.target for a in axes]
    projected = [a.projected for a in axes]
    body.append(
        f'<polygon class="radar-target" points="{_points(target)}" fill="#d9822b" '
        f'fill-opacity="0.08" stroke="#c2410c" stroke-width="1.8" stroke-dasharray="6 4"/>'
    )
    body.append(
        f'<polygon class="radar-current" points="{_points(current)}" fill="{PRIMARY}" '
        f'fill-opacity="0.28" stroke="{PRIMARY}" stroke-width="2"/>'
    )
    body.append(
        f'<polygon class="radar-projected" points="{_points(projected)}" fill="none" '
        f'stroke="#3b7d4f" stroke-width="1.4" stroke-dasharray="1.5 3" stroke-linecap="round"/>'
    )
    for i, level in enumerate(current):
        x, y = radar_point(i, count, level)
        body.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.2" fill="{PRIMARY}"/>')
    for i, level in enumerate(projected):
        x, y = radar_point(i, count, level)
        body.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" fill="#ffffff" stroke="#3b7d4f" '
            f'stroke-width="1.4"/>'
        )
    for i, axis in enumerate(axes):
        body.extend(_radar_label(i, count, axis))
    body.extend(_radar_legend())
    summary = "; ".join(
        f"{a.title}: level {a.current} now, target {a.target}, {a.projected} after the plan"
        for a in axes
    )
    return _svg(
        RADAR_WIDTH, RADAR_HEIGHT, f"Maturity levels. {summary}.", body, css_class="radar-chart"
    )


def _radar_label(index: int, count: int, axis: RadarAxis) -> list[str]:
    angle = 2 * math.pi * index / count
    x, y = radar_point(index, count, LEVELS)
    sin, cos = math.sin(angle), math.cos(angle)
    lines = _wrap(axis.title, 24, max_lines=3)
    detail = f"Level {axis.current} → target {axis.target}"
    if cos > 0.3:  # above the top of the chart
        anchor, x0, y0 = "middle", x, y - 14 - 13 * len(lines)
    elif cos < -0.3:  # below a bottom corner
        anchor, x0, y0 = "middle", x, y + 22
    else:  # beside the chart
        anchor = "start" if sin > 0 else "end"
        x0, y0 = x + (10 if sin > 0 else -10), y - 6
    parts = [
        _text(x0, y0 + 13 * n, line, size=11, anchor=anchor, weight="bold")
        for n, line in enumerate(lines)
    ]
    parts.append(_text(x0, y0 + 13 * len(lines), detail, size=9.5, anchor=anchor, fill=MUTED))
    return parts


def _radar_legend() -> list[str]:
    y = RADAR_HEIGHT - 14
    items = (
        (
            f'<rect x="{{x}}" y="{_num(y - 8)}" width="16" height="10" fill="{PRIMARY}" '
            f'fill-opacity="0.28" stroke="{PRIMARY}" stroke-width="1.5"/>',
            "Today",
        ),
        (
            f'<line x1="{{x}}" y1="{_num(y - 3)}" x2="{{x2}}" y2="{_num(y - 3)}" '
            f'stroke="#c2410c" stroke-width="1.8" stroke-dasharray="5 3"/>',
            "Target",
        ),
        (
            f'<line x1="{{x}}" y1="{_num(y - 3)}" x2="{{x2}}" y2="{_num(y - 3)}" '
            f'stroke="#3b7d4f" stroke-width="1.6" stroke-dasharray="1.5 3" '
            f'stroke-linecap="round"/>',
            "After the roadmap",
        ),
    )
    parts = []
    x = 70.0
    for swatch, label in items:
        parts.append(swatch.format(x=_num(x), x2=_num(x + 16)))
        parts.append(_text(x + 22, y, label, size=9.5, fill=INK))
        x += 22 + 6.2 * len(label) + 26
    return parts


# -- timeline --------------------------------------------------------------------------------

TIMELINE_WIDTH = 640
_LABEL_RIGHT = 228.0
_PLOT_LEFT = 238.0
_PLOT_RIGHT = 626.0
_HEADER = 34.0
_ROW = 30.0


def timeline_chart(
    phases: Sequence[TimelinePhase],
    bars: Sequence[TimelineBar],
    legend: Sequence[tuple[str, str]] = (),
    *,
    weeks: int = 52,
    unit: str = "week",
) -> Markup:
    """A Gantt-like timeline: phase bands across ``weeks``, one numbered bar per action.

    Bars are numbered in order (1, 2, ...), matching the numbers in the roadmap table.
    ``unit`` names what the bars' start and end count ("week" or "month"); ``weeks`` is
    then the axis length in that unit.
    ``legend`` holds (label, color) pairs, e.g. one per dimension.
    """
    # Two lines of each title at most: the action list below gives it in full.
    # The axis runs as long as the plan does: a phase beyond the last bar is left out.
    span = max([weeks] + [b.end_week for b in bars])
    phases = [p for p in phases if p.start_week < span]
    scale = (_PLOT_RIGHT - _PLOT_LEFT) / span
    labels = [_wrap(f"{n + 1}. {bar.label}", 44, max_lines=2) for n, bar in enumerate(bars)]
    rows = [max(_ROW, 11.0 * len(lines) + 9) for lines in labels]
    tops = [_HEADER + sum(rows[:n]) for n in range(len(bars))]
    plot_bottom = _HEADER + (sum(rows) if bars else _ROW) + 6
    legend_rows = 1 if legend else 0
    height = math.ceil(plot_bottom + 30 + 18 * legend_rows)

    def week_x(week: float) -> float:
        return _PLOT_LEFT + week * scale

    body: list[str] = []
    for n, phase in enumerate(phases):
        x0, x1 = week_x(phase.start_week), week_x(min(phase.end_week, span))
        body.append(
            f'<rect class="timeline-phase" x="{_num(x0)}" y="{_num(_HEADER - 20)}" '
            f'width="{_num(x1 - x0)}" height="{_num(plot_bottom - _HEADER + 20)}" '
            f'fill="{"#eaf1f3" if n % 2 == 0 else "#f6f9fa"}"/>'
        )
        if 5.8 * len(phase.title) <= x1 - x0:  # a band cut short by the axis stays unnamed
            body.append(
                _text(
                    (x0 + x1) / 2,
                    _HEADER - 7,
                    phase.title,
                    size=9.5,
                    anchor="middle",
                    weight="bold",
                )
            )
    short, step = (
        ("wk", 13 if span > 39 else 4) if unit == "week" else ("mo", 3 if span > 12 else 1)
    )
    ticks = list(range(0, span + 1, step))
    if span - ticks[-1] >= step / 2:
        ticks.append(span)
    for week in ticks:
        x = week_x(week)
        body.append(
            f'<line x1="{_num(x)}" y1="{_num(_HEADER - 20)}" x2="{_num(x)}" '
            f'y2="{_num(plot_bottom + 4)}" stroke="{GRID}" stroke-width="0.8"/>'
        )
        label = "Start" if week == 0 else f"{unit.capitalize()} {week}"
        anchor = "start" if week == 0 else ("end" if week == span else "middle")
        body.append(_text(x, plot_bottom + 16, label, size=8.5, anchor=anchor, fill=MUTED))
    if not bars:
        body.append(
            _text(
                (_PLOT_LEFT + _PLOT_RIGHT) / 2,
                _HEADER + 19,
                "No actions are needed.",
                size=10,
                anchor="middle",
                fill=MUTED,
            )
        )
    for n, bar in enumerate(bars):
        top, row, lines = tops[n], rows[n], labels[n]
        middle = top + row / 2
        first = middle + 3.5 - 5.5 * (len(lines) - 1)
        for k, line in enumerate(lines):
            body.append(_text(_LABEL_RIGHT, first + 11 * k, line, size=8.8, anchor="end"))
        x0, x1 = week_x(bar.start_week), week_x(bar.end_week)
        body.append(
            f'<rect class="timeline-bar" x="{_num(x0)}" y="{_num(middle - 6)}" '
            f'width="{_num(max(x1 - x0, 2.0))}" height="12" rx="2.5" '
            f'fill="{_color(bar.color)}"/>'
        )
        weeks_label = (
            f"{short} {bar.start_week + 1}"
            if bar.end_week - bar.start_week <= 1
            else f"{short} {bar.start_week + 1}\u2013{bar.end_week}"
        )
        if x1 + 8 + 5.2 * len(weeks_label) <= _PLOT_RIGHT:
            body.append(_text(x1 + 4, middle + 3.5, weeks_label, size=8, fill=MUTED))
        else:
            body.append(_text(x0 - 4, middle + 3.5, weeks_label, size=8, anchor="end", fill=MUTED))
    x = _PLOT_LEFT
    y = plot_bottom + 36
    for label, color in legend:
        body.append(
            f'<rect x="{_num(x)}" y="{_num(y - 9)}" width="14" height="10" rx="2" '
            f'fill="{_color(color)}"/>'
        )
        body.append(_text(x + 19, y, label, size=9, fill=INK))
        x += 19 + 5.6 * len(label) + 18
    if legend:
        body.append(_text(_LABEL_RIGHT, y, "Dimension:", size=9, anchor="end", fill=MUTED))
    summary = "; ".join(
        f"{n + 1}. {b.label} ({b.group}), {unit}s {b.start_week + 1} to {b.end_week}"
        for n, b in enumerate(bars)
    )
    return _svg(
        TIMELINE_WIDTH,
        height,
        f"Roadmap timeline over {span} {unit}s. {summary or 'No actions.'}",
        body,
        css_class="timeline-chart",
    )


# -- score against thresholds ---------------------------------------------------------------

SCORE_WIDTH = 640


def score_bar(
    score: float,
    thresholds: Sequence[float],
    level: int,
    level_names: Sequence[str],
    color: str,
) -> Markup:
    """A 0-100 bar split at each level's threshold, the level reached shaded, the score marked.

    ``thresholds`` are the minimum scores of levels 1-5 (level 1's is 0).
    """
    if len(thresholds) != LEVELS or len(level_names) != LEVELS:
        raise ValueError("score_bar needs one threshold and one name per level")
    color = _color(color)
    left, right, top, bar_height = 8.0, SCORE_WIDTH - 8.0, 18.0, 14.0
    bottom = top + bar_height
    scale = (right - left) / 100

    def x_at(value: float) -> float:
        return left + max(0.0, min(100.0, value)) * scale

    body: list[str] = []
    bounds = [*thresholds, 100.0]
    for n in range(LEVELS):
        x0, x1 = x_at(bounds[n]), x_at(bounds[n + 1])
        reached = n + 1 <= level
        opacity = "1" if n + 1 == level else "0.35" if reached else "1"
        body.append(
            f'<rect x="{_num(x0)}" y="{_num(top)}" width="{_num(x1 - x0)}" '
            f'height="{_num(bar_height)}" fill="{color if reached else "#e6ebf0"}" '
            f'fill-opacity="{opacity}" stroke="#ffffff" stroke-width="2"/>'
        )
        name = f"{n + 1} {level_names[n]}"
        if 5.8 * len(name) > x1 - x0 - 4:
            name = str(n + 1)
        current = n + 1 == level
        body.append(
            _text(
                (x0 + x1) / 2,
                top - 6,
                name,
                size=9,
                anchor="middle",
                fill=INK if current else MUTED,
                weight="bold" if current else "normal",
            )
        )
    for n, bound in enumerate(bounds):
        anchor = "start" if n == 0 else "end" if n == LEVELS else "middle"
        body.append(_text(x_at(bound), bottom + 11, _fmt(bound), size=8, anchor=anchor, fill=MUTED))
    x = x_at(score)
    body.append(
        f'<line class="score-marker" x1="{_num(x)}" y1="{_num(top - 3)}" x2="{_num(x)}" '
        f'y2="{_num(bottom + 3)}" stroke="{INK}" stroke-width="2.2"/>'
    )
    body.append(
        f'<polygon points="{_num(x)},{_num(bottom + 14)} {_num(x - 5)},{_num(bottom + 21)} '
        f'{_num(x + 5)},{_num(bottom + 21)}" fill="{INK}"/>'
    )
    label = f"Score {_fmt(score)}"
    anchor = "start" if x < left + 40 else "end" if x > right - 40 else "middle"
    body.append(_text(x, bottom + 32, label, size=9.5, anchor=anchor, weight="bold"))
    return _svg(
        SCORE_WIDTH,
        int(bottom + 36),
        f"Score {_fmt(score)} of 100; level {level} ({level_names[level - 1]}). Thresholds: "
        + ", ".join(f"level {n + 1} from {_fmt(t)}" for n, t in enumerate(thresholds)),
        body,
        css_class="score-bar",
    )


# -- trend over time ------------------------------------------------------------------------

TREND_WIDTH = 640
_TREND_LEFT = 44.0
_TREND_RIGHT = 610.0
_TREND_TOP = 16.0
_TREND_BOTTOM = 196.0


class TrendSeries(NamedTuple):
    """One dimension over time: its title, color, and score (0-100, or None) per point."""

    title: str
    color: str
    scores: Sequence[float | None]


def trend_x(index: int, count: int) -> float:
    """Where point ``index`` of ``count`` lies across the plot (evenly spaced, by date order)."""
    if count == 1:
        return (_TREND_LEFT + _TREND_RIGHT) / 2
    return _TREND_LEFT + 24 + (_TREND_RIGHT - _TREND_LEFT - 48) * index / (count - 1)


def trend_y(score: float) -> float:
    """Where a 0-100 score lies on the vertical axis (100 at the top)."""
    clamped = max(0.0, min(100.0, score))
    return _TREND_BOTTOM - (_TREND_BOTTOM - _TREND_TOP) * clamped / 100


def trend_chart(labels: Sequence[str], series: Sequence[TrendSeries]) -> Markup:
    """Dimension scores over successive assessments: one line per dimension on a 0-100 axis.

    ``labels`` name the assessments (dates) from oldest to newest; every series has one
    score per label, None where that assessment's version had no such dimension.
    """
    count = len(labels)
    if count == 0:
        raise ValueError("a trend needs at least one point")
    for line in series:
        if len(line.scores) != count:
            raise ValueError(f"{line.title}: {len(line.scores)} scores for {count} points")
    body: list[str] = []
    for tick in range(0, 101, 25):
        y = trend_y(tick)
        body.append(
            f'<line x1="{_num(_TREND_LEFT)}" y1="{_num(y)}" x2="{_num(_TREND_RIGHT)}" '
            f'y2="{_num(y)}" stroke="{GRID}" stroke-width="0.8"/>'
        )
        body.append(_text(_TREND_LEFT - 6, y + 3, str(tick), size=8.5, anchor="end", fill=MUTED))
    for index, label in enumerate(labels):
        body.append(
            _text(
                trend_x(index, count),
                _TREND_BOTTOM + 15,
                label,
                size=8.5,
                anchor="middle",
                fill=MUTED,
            )
        )
    for line in series:
        color = _color(line.color)
        points = [
            (trend_x(i, count), trend_y(score))
            for i, score in enumerate(line.scores)
            if score is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
            body.append(
                f'<polyline class="trend-line" points="{path}" fill="none" '
                f'stroke="{color}" stroke-width="2.2"/>'
            )
        for x, y in points:
            body.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.2" fill="{color}"/>')
    x, y = _TREND_LEFT, _TREND_BOTTOM + 38
    for line in series:
        body.append(
            f'<rect x="{_num(x)}" y="{_num(y - 9)}" width="14" height="10" rx="2" '
            f'fill="{_color(line.color)}"/>'
        )
        body.append(_text(x + 19, y, line.title, size=9))
        x += 19 + 5.6 * len(line.title) + 18
    summary = "; ".join(
        f"{line.title}: "
        + ", ".join(
            f"{label} {_fmt(score)}"
            for label, score in zip(labels, line.scores, strict=True)
            if score is not None
        )
        for line in series
    )
    return _svg(
        TREND_WIDTH,
        int(_TREND_BOTTOM + 46),
        f"Dimension scores (0 to 100) over {count} assessments. {summary}",
        body,
        css_class="trend-chart",
    )


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
