"""The report's progress page (trend) and peer section, built from pure inputs and read back."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from pypdf import PdfReader

from app.benchmarks.percentile import QUARTERS, Benchmark, DimensionBenchmark
from app.reports.render import render_html, render_pdf
from app.reports.view import TrendPoint, build_report_view
from tests.reports.conftest import (
    ASSESSED_ON,
    DEFINITION,
    flat_text,
    report_case,
    weasyprint_warnings,
)
from tests.reports.test_pdf import outline_titles

TREND = (
    TrendPoint(date(2024, 3, 4), (("presence", 31.0, 1), ("consistency", 12.5, 1))),
    TrendPoint(
        date(2025, 3, 3), (("presence", 48.0, 2), ("consistency", 20.0, 1), ("security", 44.0, 2))
    ),
)
PEERS = Benchmark(
    available=True,
    reason=None,
    questionnaire_id="hospital-social-media",
    band_id="small",
    band_label="Under 100 beds",
    peer_count=7,
    minimum_peers=5,
    dimensions=(
        DimensionBenchmark("presence", "Presence", 48.0, QUARTERS[2], 7),
        DimensionBenchmark("consistency", "Consistency", 20.0, QUARTERS[0], 7),
        DimensionBenchmark("security", "Security", 44.0, None, 3),
    ),
)


def _view(trend=TREND, peers=PEERS):
    case = report_case("community-hospital")
    return build_report_view(
        DEFINITION,
        case.score,
        case.roadmap,
        case.organization,
        case.answers,
        case.comments,
        ASSESSED_ON,
        case.notes,
        trend,
        peers,
    )


def test_the_progress_page_and_peer_section_render_cleanly_with_bookmarks():
    with weasyprint_warnings() as warnings:
        pdf = render_pdf(render_html(_view()))
    reader = PdfReader(BytesIO(pdf))
    text = flat_text(reader)

    assert [r.getMessage() for r in warnings] == []
    titles = [title for _, title in outline_titles(reader.outline)]
    assert "Progress over time" in titles
    assert "Compared with peers" in titles
    assert "Mar 4, 2024" in text
    assert "31 · level 1" in text
    assert "50th to 75th percentile" in text
    assert "Bottom quarter" in text
    assert "Fewer than 5 peers scored this dimension" in text


def test_one_assessment_has_no_trend_and_no_peers_section_without_bands():
    view = _view(trend=TREND[:1], peers=None)

    assert view.trend_chart is None
    assert view.trend_rows == ()
    assert view.benchmark_intro is None


def test_a_dimension_missing_from_an_older_version_shows_a_dash():
    view = _view()

    security = [d.title for d in DEFINITION.dimensions].index(
        next(d.title for d in DEFINITION.dimensions if d.id == "security")
    )
    assert view.trend_rows[0].cells[security] == "\u2013"
    assert view.trend_rows[1].cells[security] == "44 · level 2"
