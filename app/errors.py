"""Domain errors that carry their HTTP status and a stable code; one JSON shape for all.

Every error response is ``{"error": "<code>", "detail": "<sentence>", ...extra}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from app.text import printable


class AppError(Exception):
    """Base of every error the service reports to a client on purpose."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body for this error."""
        return {"error": self.code, "detail": self.detail, **self.extra}

    def headers(self) -> dict[str, str]:
        """Response headers this error needs (none by default)."""
        return {}


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class RetryLater(AppError):
    """Nothing was done; ``Retry-After`` (and ``retry_after`` in the body) says when to retry."""

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RateLimited(RetryLater):
    """Too many requests of one kind from one key."""

    status_code = 429
    code = "rate_limited"


class ServiceBusy(RetryLater):
    """Too many requests were already waiting for the database."""

    status_code = 503
    code = "busy"


class RenderError(AppError):
    """A report could not be rendered (too large, too slow, or the renderer failed)."""

    status_code = 500
    code = "render_failed"


class InvalidRequest(AppError):
    """A request that fits the schema but not the data (e.g. a target for no dimension)."""

    status_code = 422
    code = "invalid_request"


class InvalidAnswers(AppError):
    """Answers that do not fit the questionnaire version; ``errors`` names each question."""

    status_code = 422
    code = "invalid_answers"


class FieldError(BaseModel):
    """One problem with a request: where it is, and what is wrong."""

    field: str = Field(description="Where in the request, e.g. `answers[3].value` or `name`.")
    question_id: str | None = Field(default=None, description="The question concerned, if any.")
    message: str
    # What kind of problem it is, for a door that words it its own way (the web form);
    # internal: left out of every JSON body and of the OpenAPI document.
    code: SkipJsonSchema[str | None] = Field(default=None, exclude=True)


def field_path(location: Iterable[str | int], start: str = "", *, escape: bool = True) -> str:
    """Where in a document a problem is: ``("answers", 3, "value")`` -> ``answers[3].value``.

    ``start`` names the document (``QuestionnaireResponse``); names are escaped with
    ``printable`` unless ``escape`` is false, since a key a client sent is echoed back.
    """
    path = start
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            name = printable(str(part)) if escape else str(part)
            path += f".{name}" if path else name
    return path


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str = Field(description="A stable, machine-readable code.", examples=["not_found"])
    detail: str = Field(description="A sentence for people.")
    errors: list[FieldError] | None = Field(
        default=None, description="For 422: every offending field or question."
    )
