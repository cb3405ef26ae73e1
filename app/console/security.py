"""What keeps the console safe: its cookies, CSRF tokens and the sign-in rate limits.

The session cookie holds a random token (its hash names a ``console_sessions`` row). Every
form carries a CSRF token that is an HMAC of that session's id, so it is bound to this
session and cannot be made without the secret key. Before sign-in there is no session:
the sign-in form's token is an HMAC of a random nonce kept in a short-lived cookie of its
own, so a sign-in cannot be forced from another site either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

from fastapi import Request, Response

from app.config import Settings

SESSION_COOKIE = "smm_console"
PRE_SESSION_COOKIE = "smm_console_pre"
COOKIE_PATH = "/console"
PRE_SESSION_SECONDS = 30 * 60
# The state, nonce and PKCE verifier of a sign-in at the identity provider, and where to go.
OIDC_COOKIE = "smm_console_oidc"
OIDC_NEXT_COOKIE = "smm_console_next"
OIDC_SECONDS = 10 * 60


def _mac(key: bytes, *parts: str) -> str:
    digest = hmac.new(key, "|".join(("console", *parts)).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_token(key: bytes, session_id: uuid.UUID) -> str:
    """The token a signed-in session's forms carry."""
    return _mac(key, "csrf", session_id.hex)


def pre_session_token(key: bytes, nonce: str) -> str:
    """The token the sign-in form carries, for the nonce in this browser's cookie."""
    return _mac(key, "sign-in", nonce)


def token_ok(expected: str, given: str | None) -> bool:
    """Whether a submitted token is the expected one (in constant time)."""
    return given is not None and hmac.compare_digest(expected, given)


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def cookie_secure(settings: Settings, request: Request) -> bool:
    """``Secure`` always, never, or when the request is https (as uvicorn, behind a
    trusted proxy, reports it)."""
    if settings.cookie_secure == "auto":
        return request.url.scheme == "https"
    return settings.cookie_secure == "always"


def set_cookie(
    response: Response, settings: Settings, request: Request, name: str, value: str, max_age: int
) -> None:
    """An HttpOnly, SameSite=Lax cookie for the console's paths only."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(settings, request),
    )


def clear_cookie(response: Response, settings: Settings, request: Request, name: str) -> None:
    response.delete_cookie(
        name,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(settings, request),
    )


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a console path only, never another site."""
    if (
        not target
        or not target.startswith("/console")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x20 for c in target)
    ):
        return "/console"
    return target[:500]
