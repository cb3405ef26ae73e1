"""The error responses a route can give, for its OpenAPI description."""

from __future__ import annotations

from typing import Any

from app.errors import ErrorBody

# A file in a response: generated clients hand it over as bytes.
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}

_DESCRIPTIONS = {
    400: "The body is not valid JSON.",
    401: "No API key, or a malformed, unknown or revoked one.",
    403: "The key's role may not do this.",
    404: "No such object within this key's organizations.",
    409: "The object is in a state that does not allow this.",
    413: "The request body is too large.",
    422: (
        "The request does not fit the schema or the questionnaire, or has a query parameter "
        "the operation does not take; `errors` names each field."
    ),
    429: (
        "This key has started too many report renders or jobs for now (`rate_limited`); "
        "`Retry-After` gives the seconds to wait."
    ),
    500: "The report could not be rendered (`render_failed`, with the reason).",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can fail with these status codes.

    401 and 422 always: every route needs a key and refuses unknown query parameters.
    """
    return {
        code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        for code in sorted({401, 422, *codes})
    }
