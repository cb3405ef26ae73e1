"""Charts as self-contained SVG: a maturity radar, a roadmap timeline, a score bar, a trend.

Each function returns one ``<svg>`` element as ``Markup``, with every style given as an
attribute, so the same chart renders in the PDF (WeasyPrint) and on a web page without
any stylesheet. Every piece of text is escaped, and numbers are printed with a fixed
precision, so the same input always gives the same bytes.
"""

from __future__ import annotations

import base64
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


class _Label(NamedTuple):
    """A piece of a chart's text: drawn as SVG ``<text>``, or as HTML over the chart."""

    x: float
    y: float  # the baseline
    content: str
    size: float
    anchor: str
    fill: str
    weight: str

    def svg(self) -> str:
        return (
            f'<text x="{_num(self.x)}" y="{_num(self.y)}" font-family="{FONT}" '
            f'font-size="{_num(self.size)}" font-weight="{self.weight}" fill="{self.fill}" '
            f'text-anchor="{self.anchor}">{escape(self.content)}</text>'
        )

    def html(self, scale: float, above: float) -> tuple[str, float]:
        """A one-line block with its baseline where the SVG's would be, and its bottom.

        The blocks are in normal flow: each is moved to its place by its margins, from the
        bottom of the block before it (``above``, in points, from the chart's top), since
        absolutely placed boxes cost WeasyPrint a stacking pass each.
        """
        size = self.size * scale
        top = self.y * scale - _BASELINE_EM * size
        left = self.x * scale
        if self.anchor == "middle":
            left -= _LABEL_BOX_PT / 2
        elif self.anchor == "end":
            left -= _LABEL_BOX_PT
        style = (
            f"margin: {top - above:.2f}pt 0 0 {left:.2f}pt; font-size: {size:.2f}pt; "
            f"height: {size:.2f}pt; color: {self.fill}"
        )
        if self.weight != "normal":
            style += f"; font-weight: {self.weight}"
        if self.anchor != "start":
            style += "; text-align: " + ("center" if self.anchor == "middle" else "right")
        return f'<span class="chart-text" style="{style}">{escape(self.content)}</span>', top + size


# Where the baseline of one line of DejaVu Sans sits in a line box of ``line-height: 1``:
# half of (1 - ascent - descent) of leading above, then the ascent (0.928 + 0.236 em).
_BASELINE_EM = 0.846
# The width of the box that holds one label over a chart (it never wraps: nowrap).
_LABEL_BOX_PT = 300.0


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 10,
    anchor: str = "start",
    fill: str = INK,
    weight: str = "normal",
) -> _Label:
    return _Label(x, y, content, size, anchor, fill, weight)


class _Chart(NamedTuple):
    """A chart's shapes (SVG markup) and text, in the order they are drawn."""

    width: int
    height: int
    label: str
    body: list[str | _Label]
    css_class: str

    def svg(self) -> Markup:
        """The whole chart as one self-contained ``<svg>``."""
        parts = [part if isinstance(part, str) else part.svg() for part in self.body]
        return _svg(self.width, self.height, self.label, parts, css_class=self.css_class)

    def figure(self, width_pt: float, max_height_pt: float | None = None) -> Markup:
        """The chart for the PDF: its shapes as an image, its text as HTML laid over them.

        The image carries the chart's description as its alt text, so the PDF tags it as
        a Figure as it tags an inline ``<svg>``. WeasyPrint lays out and draws SVG text one
        character at a time; as HTML, each label is laid out once. ``width_pt`` is the
        width the chart is printed at (``max_height_pt`` may make it narrower).
        """
        scale = width_pt / self.width
        if max_height_pt is not None and self.height * scale > max_height_pt:
            scale = max_height_pt / self.height
        shapes = _svg(
            self.width,
            self.height,
            self.label,
            [part for part in self.body if isinstance(part, str)],
            css_class=self.css_class,
        )
        labels, above = [], 0.0
        for part in self.body:
            if isinstance(part, _Label):
                html, above = part.html(scale, above)
                labels.append(html)
        size = f"width: {self.width * scale:.2f}pt; height: {self.height * scale:.2f}pt"
        image = _image(shapes, self.label, "chart-shapes", size)
        return Markup(  # noqa: S704 - _image and _Label.html escape every text
            f'<span class="chart {self.css_class}" style="{size}">{image}{"".join(labels)}</span>'
        )


def _wrap(text: str, width: int, max_lines: int = 2) -> list[str]:
    """Lines of at most ``width`` characters; past ``max_lines`` the rest is elided."""
    return textwrap.wrap(text, width, max_lines=max_lines, placeholder=" …") or [""]


def _svg(width: int, height: int, label: str, body: Sequence[str], *, css_class: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every part is escaped above


def _image(svg: Markup, alt: str, css_class: str, style: str = "") -> Markup:
    """An ``<img>`` of the SVG, as a ``data:`` URI, with ``alt`` as its alternate text."""
    source = base64.b64encode(str(svg).encode()).decode("ascii")
    style_attribute = f' style="{style}"' if style else ""
    return Markup(  # noqa: S704 - the alt text is escaped, the source is base64
        f'<img class="{css_class}"{style_attribute} src="data:image/svg+xml;base64,{source}" '
        f'alt="{escape(alt)}">'
    )


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
    """The radar (see ``_radar``) as one self-contained ``<svg>``."""
    return _radar(dimensions).svg()


def radar_figure(dimensions: Sequence[tuple[str, int, int, int]], width_pt: float) -> Markup:
    """The radar for the PDF, ``width_pt`` wide: see ``_Chart.figure``."""
    return _radar(dimensions).figure(width_pt)


def _radar(dimensions: Sequence[tuple[str, int, int, int]]) -> _Chart:
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
    body: list[str | _Label] = []
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
    return _Chart(RADAR_WIDTH, RADAR_HEIGHT, f"Maturity levels. {summary}.", body, "radar-chart")


def _radar_label(index: int, count: int, axis: RadarAxis) -> list[str | _Label]:
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
    parts: list[str | _Label] = [
        _text(x0, y0 + 13 * n, line, size=11, anchor=anchor, weight="bold")
        for n, line in enumerate(lines)
    ]
    parts.append(_text(x0, y0 + 13 * len(lines), detail, size=9.5, anchor=anchor, fill=MUTED))
    return parts


def _radar_legend() -> list[str | _Label]:
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
    parts: list[str | _Label] = []
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
    """The timeline (see ``_timeline``) as one self-contained ``<svg>``."""
    return _timeline(phases, bars, legend, weeks=weeks, unit=unit).svg()


def timeline_figure(
    phases: Sequence[TimelinePhase],
    bars: Sequence[TimelineBar],
    legend: Sequence[tuple[str, str]] = (),
    *,
    weeks: int = 52,
    unit: str = "week",
    width_pt: float,
    max_height_pt: float | None = None,
) -> Markup:
    """The timeline for the PDF, ``width_pt`` wide at most: see ``_Chart.figure``."""
    chart = _timeline(phases, bars, legend, weeks=weeks, unit=unit)
    return chart.figure(width_pt, max_height_pt)


def _timeline(
    phases: Sequence[TimelinePhase],
    bars: Sequence[TimelineBar],
    legend: Sequence[tuple[str, str]] = (),
    *,
    weeks: int = 52,
    unit: str = "week",
) -> _Chart:
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

    body: list[str | _Label] = []
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
    return _Chart(
        TIMELINE_WIDTH,
        height,
        f"Roadmap timeline over {span} {unit}s. {summary or 'No actions.'}",
        body,
        "timeline-chart",
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
    """The score bar (see ``_score_bar``) as one self-contained ``<svg>``."""
    return _score_bar(score, thresholds, level, level_names, color).svg()


def score_bar_figure(
    score: float,
    thresholds: Sequence[float],
    level: int,
    level_names: Sequence[str],
    color: str,
    width_pt: float,
) -> Markup:
    """The score bar for the PDF, ``width_pt`` wide: see ``_Chart.figure``."""
    return _score_bar(score, thresholds, level, level_names, color).figure(width_pt)


def _score_bar(
    score: float,
    thresholds: Sequence[float],
    level: int,
    level_names: Sequence[str],
    color: str,
) -> _Chart:
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

    body: list[str | _Label] = []
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
    return _Chart(
        SCORE_WIDTH,
        int(bottom + 36),
        f"Score {_fmt(score)} of 100; level {level} ({level_names[level - 1]}). Thresholds: "
        + ", ".join(f"level {n + 1} from {_fmt(t)}" for n, t in enumerate(thresholds)),
        body,
        "score-bar",
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
    """The trend (see ``_trend``) as one self-contained ``<svg>``."""
    return _trend(labels, series).svg()


def trend_figure(labels: Sequence[str], series: Sequence[TrendSeries], width_pt: float) -> Markup:
    """The trend for the PDF, ``width_pt`` wide: see ``_Chart.figure``."""
    return _trend(labels, series).figure(width_pt)


def _trend(labels: Sequence[str], series: Sequence[TrendSeries]) -> _Chart:
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
    body: list[str | _Label] = []
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
    return _Chart(
        TREND_WIDTH,
        int(_TREND_BOTTOM + 46),
        f"Dimension scores (0 to 100) over {count} assessments. {summary}",
        body,
        "trend-chart",
    )


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
