"""The community hospital's PDF, read back: pages, metadata, text, outline, tags."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader

from app.config import PROJECT_ROOT
from app.reports.render import collector_paused, render_pdf, template_version
from app.reports.view import format_money
from tests.reports.conftest import RenderedReport, flat_text, render, report_case


def outline_titles(outline: list[Any], depth: int = 0) -> list[tuple[int, str]]:
    titles: list[tuple[int, str]] = []
    for item in outline:
        if isinstance(item, list):
            titles += outline_titles(item, depth + 1)
        else:
            titles.append((depth, item.title))
    return titles


def test_weasyprint_logs_no_warning(community_report: RenderedReport) -> None:
    assert [r.getMessage() for r in community_report.warnings] == []


def test_the_report_has_a_sane_number_of_letter_pages(community_report: RenderedReport) -> None:
    reader = community_report.reader

    assert 10 <= len(reader.pages) <= 30
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (612, 792)  # US Letter, in points


def test_metadata_names_the_organization_author_and_language(
    community_report: RenderedReport,
) -> None:
    reader = community_report.reader
    metadata = reader.metadata
    assert metadata is not None

    assert "Lakeside Community Hospital" in (metadata.title or "")
    assert metadata.author == "Center for Social Media"
    assert "Lakeside Community Hospital" in (metadata.subject or "")
    assert reader.trailer["/Root"]["/Lang"] == "en-US"


def test_the_pdf_is_tagged_for_accessibility(community_report: RenderedReport) -> None:
    root = community_report.reader.trailer["/Root"]

    assert root["/MarkInfo"]["/Marked"].value is True
    assert "/StructTreeRoot" in root
    assert root["/ViewerPreferences"]["/DisplayDocTitle"].value is True


def test_the_text_names_the_organization_and_each_dimension_level(
    community_report: RenderedReport,
) -> None:
    text = flat_text(community_report.reader)
    score = community_report.case.score

    assert "Lakeside Community Hospital" in text
    assert "Community hospital · 60 licensed beds · MN" in text
    assert "March 3, 2025" in text
    for dimension, page in zip(score.dimensions, community_report.view.dimensions, strict=True):
        assert dimension.title in text
        assert f"Level {dimension.level} · {dimension.level_name}" in text
        assert " ".join(page.summary.split()) in text


def test_every_phase_lists_its_action_titles(community_report: RenderedReport) -> None:
    text = flat_text(community_report.reader)
    roadmap = community_report.case.roadmap

    assert roadmap.phases
    for phase in roadmap.phases:
        assert phase.title.replace("-", "\u2013") in text
        for action in phase.actions:
            assert action.title in text
            assert action.rationale in text


def test_every_recommended_service_shows_its_price_for_the_size_band(
    community_report: RenderedReport,
) -> None:
    text = flat_text(community_report.reader)
    services_section = text.split("The Center\u2019s services that deliver the roadmap")[1]
    roadmap = community_report.case.roadmap

    assert roadmap.size_band_label in services_section
    assert roadmap.services
    for service in roadmap.services:
        price = format_money(service.price) if service.price else "No charge"
        pattern = re.escape(service.title) + r".{0,900}?" + re.escape(price)
        assert re.search(pattern, services_section), service.title
    assert f"Total {format_money(roadmap.total_cost)}" in services_section
    assert format_money(roadmap.total_cost) == "$18,050"


def test_every_page_has_a_page_x_of_y_footer(community_report: RenderedReport) -> None:
    reader = community_report.reader
    pages = len(reader.pages)

    for number, page in enumerate(reader.pages, start=1):
        assert f"Page {number} of {pages}" in page.extract_text()
    assert "Lakeside Community Hospital" in reader.pages[1].extract_text()  # running header


def test_headings_become_bookmarks(community_report: RenderedReport) -> None:
    titles = outline_titles(community_report.reader.outline)
    top = [title for depth, title in titles if depth == 0]

    assert top[:2] == ["Cover", "Board brief"]
    for expected in (
        "Presence",
        "Consistency",
        "Privacy, confidentiality and security",
        "Roadmap",
        "Recommended services",
        "Consultant\u2019s notes",
        "Appendix A. The maturity model",
        "Appendix B. All answers",
    ):
        assert expected in top
    nested = [title for depth, title in titles if depth == 1]
    assert any(title.startswith("First 90 days") for title in nested)


def test_the_board_report_prints_no_free_text_or_comment_by_default(
    community_report: RenderedReport,
) -> None:
    text = flat_text(community_report.reader)
    case = community_report.case

    assert case.comments, "the example has comments to withhold"
    for comment in case.comments.values():
        assert comment[:40] not in text
    assert "Social media is about a quarter of our marketing coordinator" not in text
    assert "Answered (not printed)" in text
    assert "Comment: answered (not printed)" in text


def test_the_appendix_shows_answers_and_comments_when_the_consultant_opts_in() -> None:
    report = render(report_case("community-hospital"), include_narratives=True)
    text = flat_text(report.reader)

    for comment in report.case.comments.values():
        assert " ".join(comment.split()) in text
    assert "Social media is about a quarter of our marketing coordinator" in text
    assert "not printed" not in text
    assert report.warnings == []


def test_the_same_inputs_render_the_same_bytes(community_report: RenderedReport) -> None:
    again = render(report_case("community-hospital"))

    assert again.html == community_report.html
    assert again.pdf == community_report.pdf


def test_the_academic_medical_center_renders_without_warnings() -> None:
    from app.reports.view import OrganizationInfo

    report = render(
        report_case(
            "academic-medical-center",
            OrganizationInfo("Riverside University Health", "academic_medical_center", 820, "OH"),
            notes=None,
        )
    )
    reader = report.reader
    text = flat_text(reader)

    assert [r.getMessage() for r in report.warnings] == []
    assert "Consultant\u2019s notes" not in text
    assert "500+ beds: academic medical centers and systems" in text
    assert 10 <= len(reader.pages) <= 30


def test_render_pdf_works_in_a_fresh_process() -> None:
    code = (
        "import sys; from app.reports.render import render_pdf; "
        "pdf = render_pdf('<html lang=\"en-US\"><title>t</title><p>Hello</p></html>'); "
        "sys.stdout.write(pdf[:5].decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout == "%PDF-"


def test_a_render_leaves_the_callers_garbage_collector_as_it_found_it() -> None:
    # The collector is paused while a document renders; an in-process caller (the
    # offline CLI) must get it back on, even when the render fails.
    assert gc.isenabled()
    render_pdf("<p>One page</p>")
    assert gc.isenabled()
    seen_inside: list[bool] = []

    def failing_render() -> None:
        with collector_paused():
            seen_inside.append(gc.isenabled())
            raise RuntimeError("the layout failed")

    with pytest.raises(RuntimeError):
        failing_render()
    assert seen_inside == [False]
    assert gc.isenabled()

    gc.disable()
    try:
        render_pdf("<p>One page</p>")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_template_version_is_a_stable_hash() -> None:
    version = template_version()

    assert re.fullmatch(r"[0-9a-f]{64}", version)
    assert template_version() == version


@pytest.mark.parametrize("html", ["", "<p>A fragment without a head</p>"])
def test_render_pdf_renders_any_html_string(html: str) -> None:
    pdf = render_pdf(html)

    assert len(PdfReader(BytesIO(pdf)).pages) == 1


def test_a_plan_with_nothing_to_do_still_makes_a_clean_report() -> None:
    current = report_case("academic-medical-center").score.levels
    case = report_case("academic-medical-center", notes=None, targets=current)
    assert case.roadmap.actions == ()

    report = render(case)
    text = flat_text(report.reader)

    assert [r.getMessage() for r in report.warnings] == []
    assert "No actions needed" in text
    assert "No actions are needed: every dimension is already at its target level." in text
    assert "The roadmap needs no services." in text
