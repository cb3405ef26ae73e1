"""The report wing's names under their earlier import path, for doors not yet moved.

Everything here lives in ``app.reports``: the options, inputs, plan and cache key in
``app.reports.inputs``, the use case (``report_pdf``, ``get_or_render``) in
``app.reports.service``. New code imports those modules; this one only re-exports them,
and like them it never imports ``app.jobs``.
"""

from __future__ import annotations

from app.reports.inputs import (
    PlanRequest,
    ReportInputs,
    cache_key,
    gather_inputs,
    plan,
    report_html,
    stored_settings,
)
from app.reports.service import report_pdf

__all__ = [
    "PlanRequest",
    "ReportInputs",
    "cache_key",
    "gather_inputs",
    "plan",
    "report_html",
    "report_pdf",
    "stored_settings",
]
