"""Assessment exports: one row per assessment, one column per dimension score and question."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from app.api.responses import BINARY, errors
from app.exports import service
from app.exports.table import XLSX_TYPE
from app.http.deps import (
    LookupDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    reject_unknown_query_parameters,
)
from app.http.exports import csv_download, xlsx_download
from app.text import TEXT_PATTERN

router = APIRouter(
    prefix="/v1/exports",
    tags=["exports"],
    dependencies=[Depends(reject_unknown_query_parameters)],
)

OrganizationFilter = Annotated[
    uuid.UUID | None, Query(description="Only this organization's assessments.")
]
StatusFilter = Annotated[
    Literal["draft", "submitted", "all"],
    Query(description="Which assessments: submitted (default), draft, or all."),
]
QuestionnaireFilter = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=TEXT_PATTERN,
        description="Only answers to this questionnaire (any version).",
    ),
]

_COLUMNS = (
    "Columns: assessment_id, organization_id, organization_name, questionnaire_id, "
    "questionnaire_version, status, submitted_at (UTC), overall_level, overall_score, then "
    "`<dimension>_score` and `<dimension>_level` per dimension, then one column per question "
    "in questionnaire order (lists joined with `;`, not applicable as `not applicable`, "
    "unanswered empty), each choice question followed by `<question>_label`, its answer in "
    "words."
)


def _export(
    session: SessionDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    lookup: LookupDep,
    organization_id: OrganizationFilter = None,
    status: StatusFilter = "submitted",
    questionnaire: QuestionnaireFilter = None,
) -> service.AssessmentExport:
    """The export the query asks for, within the key's organizations."""
    with lookup.filtering(organization_id):
        return service.export_assessments(
            session,
            registry,
            principal,
            organization_id=organization_id,
            status=None if status == "all" else status,
            questionnaire_id=questionnaire,
        )


ExportDep = Annotated[service.AssessmentExport, Depends(_export)]


def _described(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type: {"schema": BINARY}}, "description": f"{what}. {_COLUMNS}"},
        **errors(404, 422),
    }


@router.get(
    "/assessments.csv",
    operation_id="exportAssessmentsCsv",
    response_class=StreamingResponse,
    responses=_described("text/csv", "The assessments as CSV (UTF-8 with a BOM, RFC 4180)"),
)
def export_csv(export: ExportDep) -> StreamingResponse:
    """Assessments this key can see as CSV; cells that could run as formulas start with `'`."""
    return csv_download(export)


@router.get(
    "/assessments.xlsx",
    operation_id="exportAssessmentsXlsx",
    response_class=Response,
    responses=_described(
        XLSX_TYPE,
        "The assessments as an Excel workbook (a frozen, filterable header), and a "
        '"Questions" sheet with each question\'s prompt and options',
    ),
)
def export_xlsx(export: ExportDep) -> Response:
    """Assessments this key can see as an Excel workbook; text cells are never formulas."""
    return xlsx_download(export)
