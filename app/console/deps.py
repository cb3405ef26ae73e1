"""The console's dependencies: the signed-in user, its scoped lookups, CSRF-checked forms.

The user's principal is put in the request's record exactly as an API key's is, so the
scoped lookups (``app.http.deps.ScopedLookup``), the services and the audit trail treat
both doors alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.accounts import service as accounts
from app.accounts.models import User
from app.auth.models import Role
from app.auth.service import Authentication, Principal
from app.console.errors import CSRF_FAILED, SignInRequired
from app.console.security import SESSION_COOKIE, csrf_token, token_ok
from app.http.context import record_of
from app.http.deps import ScopedLookup, SessionDep
from app.web.deps import KeyDep
from app.web.errors import WebPageError


@dataclass(frozen=True, slots=True)
class Console:
    """A signed-in browser: who, with what rights, and its forms' CSRF token."""

    user: User
    principal: Principal
    session_id: uuid.UUID
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.principal.role is Role.ADMIN


def signed_in(request: Request, session: SessionDep, key: KeyDep) -> Console:
    """The signed-in user, or a redirect to the sign-in page (and back)."""
    found = accounts.identify(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target if request.method == "GET" else "/console")
    # As an API key's would be: the audit trail names the user, lookups use its scope.
    record_of(request).authentication = Authentication(found.principal, False, None)
    return Console(found.user, found.principal, found.session_id, csrf_token(key, found.session_id))


ConsoleDep = Annotated[Console, Depends(signed_in)]


def admin(console: ConsoleDep) -> Console:
    """The signed-in user, who must be an admin (403 page otherwise)."""
    if not console.is_admin:
        raise WebPageError(
            403,
            "For administrators only",
            "Only an administrator can manage console users and API keys.",
            "Ask an administrator if you need a change.",
        )
    return console


AdminDep = Annotated[Console, Depends(admin)]


def lookup(request: Request, session: SessionDep, console: ConsoleDep) -> ScopedLookup:
    """The one scoped lookup, for the signed-in user: 404 outside its scope, as in the API."""
    return ScopedLookup(request, session, console.principal)


ConsoleLookupDep = Annotated[ScopedLookup, Depends(lookup)]


async def posted(request: Request, console: ConsoleDep) -> dict[str, list[str]]:
    """The posted fields (name -> every value), once the session's CSRF token checks."""
    form = await request.form()
    token = form.get("csrf_token")
    if not token_ok(console.csrf_token, token if isinstance(token, str) else None):
        raise CSRF_FAILED
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return fields


ConsoleFormDep = Annotated[dict[str, list[str]], Depends(posted)]


def first(fields: dict[str, list[str]], name: str) -> str:
    """The first value posted for ``name`` ('' when none)."""
    values = fields.get(name) or [""]
    return values[0].strip()
