"""The form's error pages: each problem as a friendly HTML page, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, ServiceBusy
from app.invitations.schemas import InvitationStatus
from app.invitations.service import InvitationUnavailable
from app.web.templating import templates

log = logging.getLogger("smm.web")


class WebPageError(Exception):
    """A page that explains a problem: its status, title, message and what to do."""

    def __init__(
        self,
        status: int,
        title: str,
        message: str,
        advice: str,
        link: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.message = message
        self.advice = advice
        self.link = link  # (href, text): where to go from here


NO_SESSION = WebPageError(
    403,
    "Please open your invitation link",
    "This page belongs to an assessment, and this browser has not opened its link yet "
    "(or the session has ended).",
    "Open the link from your invitation email again; your saved answers will be there.",
)
CSRF_FAILED = WebPageError(
    403,
    "This page has expired",
    "For your security, the form could not be accepted: it came from an old page or another site.",
    "Go back, reload the page, and try again. Answers you saved earlier are kept.",
)
NO_SECTION = WebPageError(404, "Page not found", "There is no such section in this assessment.", "")
ROADMAP_NOT_READY = WebPageError(
    409,
    "The roadmap is not ready yet",
    "The roadmap is made once the assessment is submitted.",
    "Review your answers and submit them first.",
)
ADVICE = {
    None: "Check that you copied the whole link from your invitation. If it still does not "
    "work, ask the person who invited you for a new link.",
    InvitationStatus.EXPIRED: "Your saved answers are kept. Ask the person who invited you "
    "for a new link to finish the assessment.",
    InvitationStatus.REVOKED: "Ask the person who invited you whether there is a new link.",
    InvitationStatus.SUBMITTED: "Nothing more is needed from you, and the answers can no longer "
    "change. Your results and the roadmap PDF stay on the results page until the link expires.",
}
RESULTS_LINK = ("/form/results", "See your results")


def error_page(request: Request, error: WebPageError) -> Response:
    """The friendly page for a problem; never a stack trace."""
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": error.title,
            "message": error.message,
            "advice": error.advice,
            "link": error.link,
            "lang": "en",
        },
        status_code=error.status,
    )


def as_page_error(exc: Exception) -> WebPageError | None:
    """The page for an exception a form page raised; None for one nobody meant (a bug)."""
    if isinstance(exc, WebPageError):
        return exc
    if isinstance(exc, InvitationUnavailable):
        submitted = exc.reason is InvitationStatus.SUBMITTED
        return WebPageError(
            exc.status,
            exc.detail,
            _unavailable_message(exc),
            ADVICE[exc.reason],
            RESULTS_LINK if submitted else None,
        )
    if isinstance(exc, RequestValidationError):
        return WebPageError(404, "Page not found", "There is no such page in this assessment.", "")
    if isinstance(exc, AppError):
        return WebPageError(exc.status_code, "Something needs attention", exc.detail, "")
    return None


def _unavailable_message(exc: InvitationUnavailable) -> str:
    if exc.reason is InvitationStatus.SUBMITTED:
        return "Thank you: the answers for this invitation were submitted."
    if exc.reason is None:
        return "We could not find an assessment for this link."
    return "Invitation links work for a limited time and can be withdrawn."


class WebRoute(APIRoute):
    """A route whose failures are friendly HTML pages, logged without the request path.

    A failure nobody meant (a bug) is logged and answered with ``UNEXPECTED``. Another
    door's pages (the console's) subclass it, saying which page an exception is
    (``page_error``), how a page is shown (``error_response``) and the answer to an
    exception that is not a failure (``answer``).
    """

    LOG = log
    DOOR = "web"
    UNEXPECTED = WebPageError(
        500,
        "Something went wrong on our side",
        "Your answers up to the last page you saved are safe.",
        "Please try again in a few minutes.",
    )

    def page_error(self, exc: Exception) -> WebPageError | None:
        return as_page_error(exc)

    def error_response(self, request: Request, error: WebPageError) -> Response:
        return error_page(request, error)

    def answer(self, exc: Exception) -> Response | None:
        return None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        template = self.path  # "/i/{token}", never the token itself

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except StarletteHTTPException:
                raise
            except Exception as exc:
                answer = self.answer(exc)
                if answer is not None:
                    return answer
                page = self.page_error(exc)
                if page is None:
                    self.LOG.exception("%s page %s %s failed", self.DOOR, request.method, template)
                    page = self.UNEXPECTED
                return self.error_response(request, page)

        return guarded


def rate_limited_page(wait: float) -> bytes:
    """The page for a network that sent too many requests (the rate limit middleware's)."""
    template = templates.get_template("error.html")
    return template.render(
        title="Please slow down",
        message="This assessment received too many requests from your network in a short time.",
        advice=f"Wait {max(1, round(wait))} seconds, then try again. Your saved answers are safe.",
        lang="en",
    ).encode()


def busy_page(busy: ServiceBusy) -> bytes:
    """The page for a request that found no turn at the database in time."""
    template = templates.get_template("error.html")
    return template.render(
        title="The service is busy",
        message=busy.detail,
        advice=f"Wait {busy.retry_after} seconds, then try again. Your saved answers are safe.",
        lang="en",
    ).encode()
