"""Errors as FHIR ``OperationOutcome`` resources: what FHIR clients know how to show.

Every issue names where it is with FHIRPath ``expression``s; for an answer, one of them is
``QuestionnaireResponse.repeat(item).where(linkId='...')``, which names the question.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from app.errors import AppError

# The FHIR issue type for each status this API gives (hl7.org/fhir/R4/valueset-issue-type).
_ISSUE_TYPES = {
    400: "structure",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    500: "exception",
}


def issue(
    code: str, diagnostics: str, expression: Sequence[str] = (), severity: str = "error"
) -> dict[str, Any]:
    """One OperationOutcome issue."""
    result: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        result["expression"] = list(expression)
    return result


def operation_outcome(issues: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """An OperationOutcome holding the issues."""
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


def item_expression(link_id: str) -> str:
    """The FHIRPath of a response item by its linkId, wherever it is nested."""
    quoted = link_id.replace("\\", "\\\\").replace("'", "\\'")
    return f"QuestionnaireResponse.repeat(item).where(linkId='{quoted}')"


class UnreadableResource(AppError):
    """The body is not JSON, or not a QuestionnaireResponse that FHIR R4 can read."""

    status_code = 400
    code = "bad_request"


class UnprocessableResponse(AppError):
    """A readable QuestionnaireResponse this service cannot take (e.g. no subject)."""

    status_code = 422
    code = "invalid_request"


class NotAcceptable(AppError):
    """The client asked for a format other than JSON."""

    status_code = 406
    code = "not_acceptable"


class UnsupportedMediaType(AppError):
    """A body declared as something other than JSON."""

    status_code = 415
    code = "unsupported_media_type"


def outcome_for(error: AppError) -> dict[str, Any]:
    """The OperationOutcome of a domain error: its own issues, or one from its detail."""
    issues = error.extra.get("issues")
    if issues:
        return operation_outcome(issues)
    code = _ISSUE_TYPES.get(error.status_code, "processing")
    return operation_outcome([issue(code, error.detail)])


def validation_issues(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Issues for FastAPI's request validation errors (query and path parameters)."""
    issues = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ()) if p not in ("query", "path")]
        name = ".".join(location) or "request"
        issues.append(issue("invalid", f"{name}: {error.get('msg', 'is not valid')}", [name]))
    return issues


_POSITION = re.compile(r"^[a-z_]+\[(?P<index>\d+)\]")


def answer_position(field: str) -> int | None:
    """The index of the answer an intake error names (``answers[3].value`` -> 3)."""
    match = _POSITION.match(field)
    return int(match["index"]) if match else None
