"""What keeps the form safe: signed sessions and CSRF tokens, headers, rate limits, logs.

A session cookie names the invitation and a random nonce, signed with the secret key. The
CSRF token every form carries is a second HMAC over the same pair, so it is bound to this
invitation and this browser session, and cannot be forged without the key (unlike a
double-submit cookie, which anyone who can set a cookie can match).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from app.errors import ServiceBusy
from app.http.deps import enter_database
from app.http.middleware import send_body
from app.observability.logs import redact
from app.ratelimit import RateLimiter

SESSION_COOKIE = "smm_form"
WEB_PREFIXES = ("/i/", "/form", "/static/", "/console")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


def _mac(key: bytes, *parts: str) -> str:
    digest = hmac.new(key, "|".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class FormSession:
    """A browser's session on one invitation."""

    invitation_id: uuid.UUID
    nonce: str

    @classmethod
    def new(cls, invitation_id: uuid.UUID) -> FormSession:
        return cls(invitation_id, secrets.token_urlsafe(18))

    def cookie(self, key: bytes) -> str:
        """The signed cookie value."""
        body = f"{self.invitation_id.hex}.{self.nonce}"
        return f"{body}.{_mac(key, 'session', body)}"

    @classmethod
    def from_cookie(cls, value: str | None, key: bytes) -> FormSession | None:
        """The session a cookie names, or None when it is missing, malformed or forged."""
        if not value or len(value) > 200 or value.count(".") != 2:
            return None
        invitation_hex, nonce, signature = value.split(".")
        body = f"{invitation_hex}.{nonce}"
        if not hmac.compare_digest(signature, _mac(key, "session", body)):
            return None
        try:
            return cls(uuid.UUID(hex=invitation_hex), nonce)
        except ValueError:
            return None

    def csrf_token(self, key: bytes) -> str:
        """The token this session's forms carry."""
        return _mac(key, "csrf", self.invitation_id.hex, self.nonce)

    def csrf_ok(self, token: str | None, key: bytes) -> bool:
        """Whether a submitted token is this session's."""
        return token is not None and hmac.compare_digest(token, self.csrf_token(key))


Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


def is_web_path(path: str) -> bool:
    """Whether a path is one of the web pages' (the form's, the console's, links, assets)."""
    return path == "/form" or path.startswith(WEB_PREFIXES)


class SecurityHeaders:
    """Add the CSP and friends to every web page's response; pages are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        is_asset = scope["path"].startswith("/static/")

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if not (name.lower() == b"cache-control" and not is_asset)
                ]
                headers.extend(SECURITY_HEADERS)
                if not is_asset:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class RateLimit:
    """429 for a client that asks too much of one invitation (or tries too many links).

    The budgets are the limiter's: in this process on SQLite, in the database (so every
    process shares them) on PostgreSQL.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        page: Callable[[float], bytes],
        busy_page: Callable[[ServiceBusy], bytes],
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.page = page
        self.busy_page = busy_page

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/form" or path.startswith(("/i/", "/form/"))):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        # Links are limited per client across all tokens, so guessing tokens is slow too.
        target = "links" if path.startswith("/i/") else _session_key(scope)
        key = f"{client}|{target}"
        state = scope["app"].state
        if self.limiter.shared:
            # A database round trip: off the event loop, and within the request's turn at
            # the database (which the page then keeps). A check holding a pooled connection
            # outside the turns could leave a request that has a turn waiting for one.
            try:
                await enter_database(scope)
            except ServiceBusy as busy:
                await _send_page(send, 503, self.busy_page(busy), busy.retry_after)
                return
            wait = await anyio.to_thread.run_sync(
                self.limiter.wait, key, lambda: state.session_factory
            )
        else:
            wait = self.limiter.wait(key, lambda: state.session_factory)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        await _send_page(send, 429, self.page(wait), max(1, round(wait)))


async def _send_page(send: Send, status: int, body: bytes, retry_after: int) -> None:
    retry = [(b"retry-after", str(retry_after).encode())]
    await send_body(send, status, body, b"text/html; charset=utf-8", retry)


def _session_key(scope: MutableMapping[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie, _, content = part.strip().partition("=")
                if cookie == SESSION_COOKIE:
                    invitation: str = content.split(".")[0][:32]  # the invitation id
                    return invitation
    return "no-session"


class RedactInvitationLinks(logging.Filter):
    """Redact (as the service's formatters do) any token-like path a log record carries.

    For handlers with formatters of their own: ``/i/<token>`` in any spelling, and
    mistyped links that look like a token anywhere in the path.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def _redact(value: object) -> object:
    return redact(value) if isinstance(value, str) else value


_REDACTOR = RedactInvitationLinks()


def redact_invitation_links(*logger_names: str) -> None:
    """Install the redacting filter on these loggers (once each)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
