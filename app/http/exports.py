"""An assessment export as a download, the same from both doors."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import StreamingResponse

from app.exports.service import AssessmentExport
from app.exports.table import XLSX_TYPE, csv_chunks, export_file_name, xlsx_bytes


def csv_download(export: AssessmentExport) -> StreamingResponse:
    """The export as CSV, streamed; cells that could run as formulas start with ``'``."""
    return StreamingResponse(
        csv_chunks(export.layout, export.rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export_file_name("csv")}"'},
    )


def xlsx_download(export: AssessmentExport) -> Response:
    """The export as an Excel workbook; text cells are never formulas."""
    return Response(
        xlsx_bytes(export.layout, export.rows),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{export_file_name("xlsx")}"'},
    )
