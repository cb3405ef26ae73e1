"""No near-empty pages: every page is at least a third full, except the last of a section.

A section is what the template starts on a new page (a chapter, and the brief's second
page): its first page is a top-level bookmark's page, and the page before the next
section's first is its last, which may be as short as its content. Fullness is measured
from the text a page carries: the distance from the top of the body area to the lowest
line of text, over the body area's height (running headers and footers left out).
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader

from app.config import PROJECT_ROOT
from app.questionnaire.answers import NA
from app.questionnaire.loader import load_directory
from app.reports.render import render_html, render_pdf
from app.reports.view import OrganizationInfo, build_report_view
from app.roadmap.planner import PlanOptions, plan_roadmap
from app.scoring.engine import score_answers
from tests.conftest import example

# The body area of report.css's @page: Letter, 0.95in top and 0.85in bottom margins.
PAGE_HEIGHT = 792.0
BODY_TOP = PAGE_HEIGHT - 0.95 * 72
BODY_BOTTOM = 0.85 * 72
MINIMUM_FILL = 1 / 3

LOADED = {
    (item.definition.id, item.definition.version): item
    for item in load_directory(PROJECT_ROOT / "questionnaires")
}
V2 = LOADED.get(("hospital-social-media", 2))

EXAMPLES = [
    (
        "v2-critical-access-hospital",
        OrganizationInfo("Pine Valley Hospital", "critical_access_hospital", 25, "MT"),
    ),
    (
        "v2-community-hospital",
        OrganizationInfo("Lakeside Community Hospital", "community_hospital", 250, "MN"),
    ),
    (
        "v2-academic-medical-center",
        OrganizationInfo("Riverside University Health", "academic_medical_center", 800, "OH"),
    ),
]


def page_fill(reader: PdfReader) -> list[float]:
    """How far down each page its body text reaches, from 0 (empty) to 1 (full)."""
    fills = []
    for page in reader.pages:
        lowest = [BODY_TOP]
        page.extract_text(visitor_text=_lowest_line(lowest))
        fills.append((BODY_TOP - min(lowest)) / (BODY_TOP - BODY_BOTTOM))
    return fills


def _lowest_line(lowest: list[float]) -> Any:
    """A pypdf text visitor that records the height of each line in the body area."""

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if not text.strip():
            return
        y = tm[5] * cm[3] + cm[5] if cm[3] else tm[5]
        if BODY_BOTTOM <= y <= BODY_TOP:
            lowest.append(y)

    return visit


def section_last_pages(reader: PdfReader) -> set[int]:
    """Indexes of the pages that end a section: before each section start, and the last."""
    starts = set()
    for item in reader.outline:
        if isinstance(item, list):
            continue
        starts.add(reader.get_destination_page_number(item))
    starts |= _brief_second_pages(reader)
    return {n - 1 for n in starts if n > 0} | {len(reader.pages) - 1}


def _brief_second_pages(reader: PdfReader) -> set[int]:
    """The brief's second page starts on its own ("What it costs" heads it)."""
    return {
        n
        for n, page in enumerate(reader.pages)
        if (page.extract_text() or "").lstrip().startswith("What it costs")
    }


def render_example(name: str, organization: OrganizationInfo) -> PdfReader:
    assert V2 is not None
    assert V2.catalogue is not None
    definition = V2.definition
    items = example(name)["answers"]
    answers = {a["question_id"]: NA if a.get("na") else a["value"] for a in items}
    comments = {a["question_id"]: a["comment"] for a in items if a.get("comment")}
    roadmap = plan_roadmap(
        definition, V2.catalogue, answers, PlanOptions(organization.licensed_beds)
    )
    view = build_report_view(
        definition,
        score_answers(definition, answers),
        roadmap,
        organization,
        answers,
        comments,
        date(2026, 12, 1),
    )
    return PdfReader(BytesIO(render_pdf(render_html(view))))


@pytest.mark.skipif(V2 is None or V2.catalogue is None, reason="no v2 questionnaire")
@pytest.mark.parametrize(("name", "organization"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_no_page_is_more_than_two_thirds_empty_except_a_sections_last(
    name: str, organization: OrganizationInfo
) -> None:
    reader = render_example(name, organization)
    fills = page_fill(reader)
    last = section_last_pages(reader)

    sparse = [n + 1 for n, fill in enumerate(fills) if fill < MINIMUM_FILL and n not in last]
    assert sparse == [], f"pages more than two-thirds empty: {sparse} of {len(fills)}"
