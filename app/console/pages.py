"""How every console page answers: a template with the user and its CSRF token, or a
redirect after a POST (post/redirect/get)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from app.console.templating import templates

if TYPE_CHECKING:
    from app.console.deps import Console


def page(
    request: Request,
    template: str,
    console: Console | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A console page, with the signed-in user (if any) and its CSRF token."""
    return templates.TemplateResponse(
        request,
        template,
        {
            "console": console,
            "csrf_token": console.csrf_token if console is not None else None,
            **context,
        },
        status_code=status_code,
    )


def see_other(url: str) -> RedirectResponse:
    """Where to go after a POST that worked."""
    return RedirectResponse(url, status_code=303)
