"""Report inputs built from the example answer files, and a PDF rendered once per session."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader

from app.questionnaire.answers import NA
from app.questionnaire.catalogue import Catalogue
from app.questionnaire.schemas import QuestionnaireDefinition
from app.reports.render import render_html, render_pdf
from app.reports.view import OrganizationInfo, ReportView, build_report_view
from app.roadmap.planner import PlanOptions, plan_roadmap
from app.roadmap.results import Roadmap
from app.scoring.engine import score_answers
from app.scoring.results import AssessmentScore
from tests.conftest import example
from tests.support.questionnaires import loaded_version

# The report tests render version-1 assessments (the example files answer version 1).
LOADED = loaded_version(1)
DEFINITION: QuestionnaireDefinition = LOADED.definition
assert LOADED.catalogue is not None
CATALOGUE: Catalogue = LOADED.catalogue
ASSESSED_ON = date(2025, 3, 3)
LAKESIDE = OrganizationInfo("Lakeside Community Hospital", "community_hospital", 60, "MN")
NOTES = (
    "Social media is a quarter of one person's job at Lakeside.\n\n"
    "We agreed to start with account ownership and the written policy."
)


@dataclass(frozen=True)
class ReportCase:
    """Everything one report is made of, and the results it is made from."""

    organization: OrganizationInfo
    answers: dict[str, Any]
    comments: dict[str, str]
    score: AssessmentScore
    roadmap: Roadmap
    notes: str | None

    def view(self, include_narratives: bool = False) -> ReportView:
        return build_report_view(
            DEFINITION,
            self.score,
            self.roadmap,
            self.organization,
            self.answers,
            self.comments,
            ASSESSED_ON,
            self.notes,
            include_narratives=include_narratives,
        )


def report_case(
    name: str,
    organization: OrganizationInfo = LAKESIDE,
    *,
    notes: str | None = NOTES,
    answer_overrides: Mapping[str, Any] | None = None,
    **plan: Any,
) -> ReportCase:
    """Score and plan an example answers file for ``organization``."""
    items = example(name)["answers"]
    answers = {a["question_id"]: NA if a.get("na") else a["value"] for a in items}
    answers.update(answer_overrides or {})
    comments = {a["question_id"]: a["comment"] for a in items if a.get("comment")}
    options = PlanOptions(licensed_beds=organization.licensed_beds, **plan)
    return ReportCase(
        organization=organization,
        answers=answers,
        comments=comments,
        score=score_answers(DEFINITION, answers),
        roadmap=plan_roadmap(DEFINITION, CATALOGUE, answers, options),
        notes=notes,
    )


@contextmanager
def weasyprint_warnings() -> Iterator[list[logging.LogRecord]]:
    """Collect every WARNING (or worse) WeasyPrint logs inside the block."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("weasyprint")
    handler = Collect(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


@dataclass(frozen=True)
class RenderedReport:
    case: ReportCase
    view: ReportView
    html: str
    pdf: bytes
    warnings: list[logging.LogRecord]

    @property
    def reader(self) -> PdfReader:
        return PdfReader(BytesIO(self.pdf))


def render(case: ReportCase, include_narratives: bool = False) -> RenderedReport:
    """Render a case to HTML and PDF, keeping WeasyPrint's warnings."""
    view = case.view(include_narratives)
    html = render_html(view)
    with weasyprint_warnings() as warnings:
        pdf = render_pdf(html)
    return RenderedReport(case, view, html, pdf, warnings)


def flat_text(reader: PdfReader) -> str:
    """The text of every page, with all whitespace (line breaks too) as single spaces."""
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture(scope="session")
def community_report() -> RenderedReport:
    """The community hospital example, rendered once for every PDF test."""
    return render(report_case("community-hospital"))
