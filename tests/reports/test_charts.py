"""The SVG charts: well-formed, escaped, deterministic, and drawn where the levels say."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from app.reports.charts import (
    RADAR_CENTER,
    RADAR_RADIUS,
    TimelineBar,
    TimelinePhase,
    TrendSeries,
    radar_chart,
    score_bar,
    timeline_chart,
    trend_chart,
    trend_x,
    trend_y,
)

SVG = "{http://www.w3.org/2000/svg}"
DIMENSIONS = [
    ("Presence", 2, 3, 3),
    ("Consistency", 1, 2, 2),
    ("Privacy, confidentiality and security", 2, 3, 3),
]
PHASES = [
    TimelinePhase("First 90 days", 0, 13),
    TimelinePhase("3\u20136 months", 13, 26),
    TimelinePhase("6\u201312 months", 26, 52),
]
BARS = [
    TimelineBar("Name an owner", 0, 1, "#2f6690", "Presence"),
    TimelineBar("Write the policy", 10, 16, "#7b4f9d", "Security"),
]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    assert root.tag == f"{SVG}svg"
    return root


def polygon_points(root: ET.Element, css_class: str) -> list[tuple[float, float]]:
    [polygon] = [p for p in root.iter(f"{SVG}polygon") if p.get("class") == css_class]
    return [tuple(map(float, pair.split(","))) for pair in polygon.get("points", "").split()]  # type: ignore[misc]


def expected_point(axis: int, axes: int, level: int) -> tuple[float, float]:
    angle = 2 * math.pi * axis / axes
    cx, cy = RADAR_CENTER
    return (
        cx + RADAR_RADIUS * level / 5 * math.sin(angle),
        cy - RADAR_RADIUS * level / 5 * math.cos(angle),
    )


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_the_radar_is_well_formed_self_contained_svg() -> None:
    svg = radar_chart(DIMENSIONS)
    root = parse(svg)

    assert isinstance(svg, Markup)
    assert root.get("viewBox")
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title") is not None
    assert all(e.get("class", "radar").startswith("radar") for e in root.iter())
    assert "<style" not in svg
    assert "href" not in svg


def test_the_radar_polygons_sit_on_the_levels() -> None:
    root = parse(radar_chart(DIMENSIONS))

    for css_class, field in (("radar-current", 1), ("radar-target", 2), ("radar-projected", 3)):
        points = polygon_points(root, css_class)
        assert len(points) == 3
        for axis, (point, dimension) in enumerate(zip(points, DIMENSIONS, strict=True)):
            assert point == pytest.approx(expected_point(axis, 3, dimension[field]), abs=0.06)


def test_the_radar_draws_five_rings_and_labels_every_dimension() -> None:
    root = parse(radar_chart(DIMENSIONS))
    rings = [p for p in root.iter(f"{SVG}polygon") if p.get("class") == "radar-ring"]
    words = " ".join(texts(root))

    assert len(rings) == 5
    outer = [tuple(map(float, p.split(","))) for p in rings[-1].get("points", "").split()]
    assert outer[0] == pytest.approx((RADAR_CENTER[0], RADAR_CENTER[1] - RADAR_RADIUS), abs=0.06)
    for title, current, target, _ in DIMENSIONS:
        assert title.split()[0] in words
        assert f"Level {current} → target {target}" in words
    for legend in ("Today", "Target", "After the roadmap"):
        assert legend in words


def test_chart_text_is_escaped() -> None:
    title = '<script>alert("x")</script> & <img src=x>'
    svg = radar_chart([(title, 1, 2, 2), ("B", 1, 1, 1), ("C", 3, 4, 4)])
    root = parse(svg)

    assert "<script>" not in svg
    assert "<img" not in svg
    assert "&lt;script&gt;" in svg
    assert any("<script>" in t for t in texts(root))  # the text reads exactly as given
    bars = [TimelineBar(title, 0, 4, "#2f6690", title)]
    timeline = timeline_chart(PHASES, bars, [(title, "#2f6690")])
    assert "<script>" not in timeline
    assert any("<script>" in t for t in texts(parse(timeline)))


def test_charts_are_deterministic() -> None:
    assert radar_chart(DIMENSIONS) == radar_chart(list(DIMENSIONS))
    assert timeline_chart(PHASES, BARS) == timeline_chart(list(PHASES), list(BARS))


@pytest.mark.parametrize(
    "dimensions",
    [
        [("A", 1, 2, 2), ("B", 1, 2, 2)],
        [("A", 0, 2, 2), ("B", 1, 2, 2), ("C", 1, 2, 2)],
        [("A", 1, 6, 2), ("B", 1, 2, 2), ("C", 1, 2, 2)],
    ],
)
def test_the_radar_refuses_what_it_cannot_draw(dimensions: list[tuple[str, int, int, int]]) -> None:
    with pytest.raises(ValueError, match=r"radar|level"):
        radar_chart(dimensions)


def test_the_radar_handles_more_than_three_dimensions() -> None:
    four = [*DIMENSIONS, ("Reach", 4, 5, 5)]
    points = polygon_points(parse(radar_chart(four)), "radar-current")

    assert points[3] == pytest.approx(expected_point(3, 4, 4), abs=0.06)


def test_the_timeline_draws_one_bar_per_action_across_the_weeks() -> None:
    root = parse(timeline_chart(PHASES, BARS, [("Presence", "#2f6690")]))
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "timeline-bar"]
    bands = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "timeline-phase"]
    words = texts(root)

    assert len(bars) == 2
    assert len(bands) == 3
    assert [b.get("fill") for b in bars] == ["#2f6690", "#7b4f9d"]
    # Widths are proportional to weeks: 1 week and 6 weeks on the same scale.
    first, second = (float(b.get("width", 0)) for b in bars)
    assert second == pytest.approx(6 * first, rel=0.01)
    # The second bar starts where week 10 is, a tenth of the way along 10 weeks further.
    band_x = [float(b.get("x", 0)) for b in bands]
    week = (band_x[1] - band_x[0]) / 13
    assert float(bars[1].get("x", 0)) == pytest.approx(band_x[0] + 10 * week, abs=0.1)
    assert "1. Name an owner" in words
    assert "2. Write the policy" in words
    assert "First 90 days" in words
    assert "Presence" in words
    assert "wk 11\u201316" in words


def test_the_timeline_without_actions_says_so() -> None:
    root = parse(timeline_chart(PHASES, []))

    assert "No actions are needed." in texts(root)


def test_colors_must_be_hex_so_nothing_can_be_injected() -> None:
    with pytest.raises(ValueError, match="colors"):
        timeline_chart(PHASES, [TimelineBar("x", 0, 1, 'red" onload="x', "g")])


def test_the_score_bar_marks_the_score_against_the_thresholds() -> None:
    root = parse(
        score_bar(
            35.3,
            (0, 25, 45, 65, 85),
            2,
            ("Initial", "Developing", "Defined", "Managed", "Optimizing"),
            "#2f6690",
        )
    )
    words = texts(root)
    [marker] = [line for line in root.iter(f"{SVG}line") if line.get("class") == "score-marker"]

    assert "Score 35.3" in words
    assert "2 Developing" in words
    for threshold in ("25", "45", "65", "85", "100"):
        assert threshold in words
    assert float(marker.get("x1", 0)) == pytest.approx(8 + 35.3 * (640 - 16) / 100, abs=0.06)


TREND_LABELS = ["Mar 3, 2025", "Sep 9, 2025", "Mar 2, 2026"]
TREND = [
    TrendSeries("Presence", "#2f6690", [40.0, 55.5, 71.0]),
    TrendSeries("Security", "#7b4f9d", [None, 20.0, 35.0]),  # not in the first version
]


def test_the_trend_draws_one_line_per_dimension_through_its_scores() -> None:
    root = parse(trend_chart(TREND_LABELS, TREND))

    lines = [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "trend-line"]
    assert [line.get("stroke") for line in lines] == ["#2f6690", "#7b4f9d"]
    presence = [float(v) for pair in lines[0].get("points", "").split() for v in pair.split(",")]
    expected = [v for i, s in enumerate([40.0, 55.5, 71.0]) for v in (trend_x(i, 3), trend_y(s))]
    assert presence == pytest.approx(expected, abs=0.05)
    security = lines[1].get("points", "").split()
    assert len(security) == 2  # the missing first score is skipped, not drawn at zero
    words = texts(root)
    assert all(label in words for label in TREND_LABELS)
    assert "Presence" in words
    assert "Security" in words
    title = root.find(f"{SVG}title")
    assert title is not None
    assert "Presence: Mar 3, 2025 40, Sep 9, 2025 55.5" in (title.text or "")


def test_a_higher_score_is_drawn_higher_on_the_trend() -> None:
    assert trend_y(80) < trend_y(20)
    assert trend_y(150) == trend_y(100)
    assert trend_x(0, 3) < trend_x(1, 3) < trend_x(2, 3)


def test_the_trend_escapes_its_text_and_checks_its_input() -> None:
    title = '<script>alert("x")</script>'
    svg = trend_chart([title, "b"], [TrendSeries(title, "#2f6690", [1.0, 2.0])])

    assert "<script>" not in svg
    assert any("<script>" in t for t in texts(parse(svg)))
    assert trend_chart(TREND_LABELS, TREND) == trend_chart(list(TREND_LABELS), list(TREND))
    with pytest.raises(ValueError, match="2 scores for 3 points"):
        trend_chart(TREND_LABELS, [TrendSeries("A", "#2f6690", [1.0, 2.0])])
    with pytest.raises(ValueError, match="colors"):
        trend_chart(["a"], [TrendSeries("A", "red;x", [1.0])])
