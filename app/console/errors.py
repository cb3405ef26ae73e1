"""The console's error pages, and the redirect to sign-in for a browser that is not."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse

from app.console.templating import templates
from app.errors import AppError, NotFound
from app.web.errors import WebPageError, WebRoute

log = logging.getLogger("smm.console")


class SignInRequired(Exception):
    """The page needs a signed-in user; ``target`` is where to come back to."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


CSRF_FAILED = WebPageError(
    403,
    "This page has expired",
    "For your security, the form could not be accepted: it came from an old page, another "
    "site, or a session that has ended.",
    "Go back, reload the page, and try again.",
)


def console_error_page(request: Request, error: WebPageError) -> Response:
    return templates.TemplateResponse(
        request,
        "console/error.html",
        {"title": error.title, "message": error.message, "advice": error.advice},
        status_code=error.status,
    )


def _page_error(exc: Exception) -> WebPageError | None:
    if isinstance(exc, WebPageError):
        return exc
    if isinstance(exc, RequestValidationError):
        problems = list(exc.errors())
        if any(problem.get("loc", ("",))[0] == "path" for problem in problems):
            # An id that is not an id names nothing, as in the API.
            return WebPageError(404, "Not found", "There is no such page.", "")
        fields = ", ".join(str(problem["loc"][-1]) for problem in problems if problem.get("loc"))
        return WebPageError(
            422, "Something needs attention", f"These values are not valid: {fields}.", ""
        )
    if isinstance(exc, NotFound):
        # The same 404 the REST API gives: nothing says whether the object exists elsewhere.
        return WebPageError(404, "Not found", exc.detail, "Go back to your portfolio.")
    if isinstance(exc, AppError):
        return WebPageError(exc.status_code, "Something needs attention", exc.detail, "")
    return None


class ConsoleRoute(WebRoute):
    """A console route: a failure is a page in the console's layout, never a stack trace;
    a browser that is not signed in is sent to the sign-in page (and back afterwards)."""

    LOG = log
    DOOR = "console"
    UNEXPECTED = WebPageError(
        500,
        "Something went wrong on our side",
        "Nothing was changed by the request that failed.",
        "Please try again in a few minutes.",
    )

    def page_error(self, exc: Exception) -> WebPageError | None:
        return _page_error(exc)

    def error_response(self, request: Request, error: WebPageError) -> Response:
        return console_error_page(request, error)

    def answer(self, exc: Exception) -> Response | None:
        if isinstance(exc, SignInRequired):
            return RedirectResponse(
                f"/console/sign-in?next={quote(exc.target, safe='/')}", status_code=303
            )
        return None
