"""The console's sign-in, sign-out and account pages, and the console's wiring.

Every page is rendered on the server and works without JavaScript. GET never changes
anything; every POST carries the session's CSRF token (the sign-in form, which has no
session yet, a token bound to a nonce cookie of its own).
"""

from __future__ import annotations

import math
import threading

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.accounts import service as accounts
from app.accounts.models import User
from app.accounts.service import SignInRefused
from app.audit.service import client_ip
from app.auth.service import Authentication
from app.config import Settings
from app.console import admin, assessments, audit, organizations, portfolio
from app.console.deps import Console, ConsoleDep, ConsoleFormDep
from app.console.errors import CSRF_FAILED, ConsoleRoute
from app.console.pages import page, see_other
from app.console.security import (
    OIDC_COOKIE,
    OIDC_NEXT_COOKIE,
    OIDC_SECONDS,
    PRE_SESSION_COOKIE,
    PRE_SESSION_SECONDS,
    SESSION_COOKIE,
    clear_cookie,
    new_nonce,
    pre_session_token,
    safe_next,
    set_cookie,
    token_ok,
)
from app.http.context import record_of
from app.http.deps import SessionDep, SettingsDep
from app.oidc import OidcClient, OidcRefused, open_start, seal_start
from app.ratelimit import app_limiter
from app.web.deps import KeyDep

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


# -- signing in and out -------------------------------------------------------------------


@router.get("/console/sign-in")
def sign_in_page(
    request: Request, key: KeyDep, settings: SettingsDep, next: str = "/console"
) -> Response:
    """The sign-in form (a fresh nonce cookie for its CSRF token)."""
    return _sign_in_form(request, key, settings, next_url=safe_next(next))


def _sign_in_form(
    request: Request,
    key: bytes,
    settings: Settings,
    *,
    next_url: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    nonce = new_nonce()
    response = page(
        request,
        "console/sign_in.html",
        None,
        status_code=status_code,
        title="Sign in",
        sign_in_token=pre_session_token(key, nonce),
        next_url=next_url,
        email=email,
        error=error,
        signed_out=request.query_params.get("signed_out") is not None,
        oidc_label=settings.oidc_display_name if settings.oidc_enabled else None,
    )
    set_cookie(response, settings, request, PRE_SESSION_COOKIE, nonce, PRE_SESSION_SECONDS)
    return response


@router.post("/console/sign-in")
async def authenticate_user(
    request: Request, session: SessionDep, key: KeyDep, settings: SettingsDep
) -> Response:
    """Check the password, then start a new session (a new id: nothing set before sign-in
    survives it) and go where the user was going."""
    record = record_of(request)
    record.action = "auth.sign_in"  # recorded whatever the outcome
    fields = await _pre_session_form(request, key)
    email = fields.get("email", "").strip()
    password = fields.get("password", "")
    next_url = safe_next(fields.get("next"))

    def again(error: str, status_code: int) -> Response:
        return _sign_in_form(
            request,
            key,
            settings,
            next_url=next_url,
            email=email,
            error=error,
            status_code=status_code,
        )

    wait = _sign_in_wait(request, settings, email)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        record.denial_reason = "rate limited"
        return again(f"Too many sign-in attempts. Wait {seconds} seconds, then try again.", 429)
    try:
        user = accounts.check_password(session, email, password)
    except SignInRefused as exc:
        record.detail["reason"] = "locked" if "locked" in exc.detail else "refused"
        session.commit()  # end the read: the failure is counted in a transaction of its own
        if accounts.record_failure(request.app.state.session_factory, email):
            record.detail["locked"] = True
        return again(exc.detail, 401)
    return _signed_in(request, session, settings, user, next_url)


async def _pre_session_form(request: Request, key: bytes) -> dict[str, str]:
    """The fields of a form posted before sign-in, once its token matches the nonce cookie
    (403 page otherwise)."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    nonce = request.cookies.get(PRE_SESSION_COOKIE) or ""
    if not nonce or not token_ok(pre_session_token(key, nonce), fields.get("csrf_token")):
        raise CSRF_FAILED
    return fields


def _signed_in(
    request: Request,
    session: SessionDep,
    settings: Settings,
    user: User,
    next_url: str,
) -> Response:
    issued = accounts.start_session(session, user)
    principal = accounts.principal_of(session, user)
    record = record_of(request)
    record.authentication = Authentication(principal, False, None)
    record.object_id = str(user.id)
    response = see_other(next_url)
    lifetime = int(accounts.SESSION_LIFETIME.total_seconds())
    set_cookie(response, settings, request, SESSION_COOKIE, issued.token, lifetime)
    clear_cookie(response, settings, request, PRE_SESSION_COOKIE)
    return response


def _sign_in_wait(request: Request, settings: Settings, email: str) -> float:
    """Seconds to wait before another attempt from this client or on this account (0: go)."""
    limiter = app_limiter(
        request.app.state,
        "sign-in",
        per_minute=settings.sign_in_rate_limit,
        burst=settings.sign_in_rate_burst,
        shared=not settings.is_sqlite,
    )
    client = client_ip(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        settings.trusted_proxies,
    )
    factory = lambda: request.app.state.session_factory  # noqa: E731
    by_client = limiter.wait(f"client:{client}", factory)
    by_account = limiter.wait(f"account:{accounts.normal_email(email)}", factory)
    return max(by_client, by_account)


# -- signing in through the organization's identity provider (OpenID Connect) -------------


_OIDC_LOCK = threading.Lock()


def _oidc_client(request: Request, settings: Settings) -> OidcClient:
    """The process's one OpenID Connect client (it caches the provider's metadata)."""
    with _OIDC_LOCK:
        client: OidcClient | None = getattr(request.app.state, "oidc_client", None)
        if client is None:
            client = OidcClient(settings)
            request.app.state.oidc_client = client
        return client


def _callback_url(request: Request, settings: Settings) -> str:
    base = settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/console/sign-in/oidc/callback"


@router.post("/console/sign-in/oidc")
async def start_oidc_sign_in(request: Request, key: KeyDep, settings: SettingsDep) -> Response:
    """Send the browser to the identity provider, with a fresh state, nonce and PKCE
    verifier kept in a short-lived signed cookie."""
    if not settings.oidc_enabled:
        return _sign_in_form(
            request, key, settings, next_url="/console", error=_NO_OIDC, status_code=404
        )
    fields = await _pre_session_form(request, key)
    client = _oidc_client(request, settings)
    try:
        start = await run_in_threadpool(client.begin, _callback_url(request, settings))
    except OidcRefused as exc:
        record_of(request).action = "auth.sign_in"
        record_of(request).detail["reason"] = f"oidc {exc.reason}"
        return _sign_in_form(
            request, key, settings, next_url="/console", error=exc.detail, status_code=502
        )
    response = see_other(start.url)
    set_cookie(response, settings, request, OIDC_COOKIE, seal_start(start, key), OIDC_SECONDS)
    next_url = safe_next(fields.get("next"))
    set_cookie(response, settings, request, OIDC_NEXT_COOKIE, next_url, OIDC_SECONDS)
    return response


_NO_OIDC = "Sign-in through an identity provider is not set up here; use your password."
_OIDC_EXPIRED = (
    "The sign-in through your identity provider took too long or was started in another "
    "browser; please try again."
)


@router.get("/console/sign-in/oidc/callback")
async def finish_oidc_sign_in(
    request: Request, session: SessionDep, key: KeyDep, settings: SettingsDep
) -> Response:
    """Check what the provider sent back, then sign in the console user it vouches for."""
    record = record_of(request)
    record.action = "auth.sign_in"
    record.detail["method"] = "oidc"
    if not settings.oidc_enabled:
        return _sign_in_form(
            request, key, settings, next_url="/console", error=_NO_OIDC, status_code=404
        )
    start = open_start(request.cookies.get(OIDC_COOKIE), key, OIDC_SECONDS)
    next_url = safe_next(request.cookies.get(OIDC_NEXT_COOKIE))
    if start is None:
        record.detail["reason"] = "oidc state"
        return _sign_in_form(
            request, key, settings, next_url=next_url, error=_OIDC_EXPIRED, status_code=401
        )
    query = request.query_params
    client = _oidc_client(request, settings)
    try:
        claims = await run_in_threadpool(
            lambda: client.finish(
                _callback_url(request, settings),
                code=query.get("code"),
                state_expected=start.state,
                state_received=query.get("state"),
                nonce=start.nonce,
                code_verifier=start.code_verifier,
                error=query.get("error"),
            )
        )
    except OidcRefused as exc:
        record.detail["reason"] = f"oidc {exc.reason}"
        return _oidc_refused(request, key, settings, next_url, exc.detail)
    try:
        user = await run_in_threadpool(
            lambda: accounts.user_for_identity(
                session,
                issuer=claims.issuer,
                subject=claims.subject,
                email=claims.email,
                email_verified=claims.email_verified,
            )
        )
    except SignInRefused as exc:
        record.detail["reason"] = "oidc no account"
        return _oidc_refused(request, key, settings, next_url, exc.detail)
    response = await run_in_threadpool(_signed_in, request, session, settings, user, next_url)
    clear_cookie(response, settings, request, OIDC_COOKIE)
    clear_cookie(response, settings, request, OIDC_NEXT_COOKIE)
    return response


def _oidc_refused(
    request: Request, key: bytes, settings: Settings, next_url: str, detail: str
) -> Response:
    response = _sign_in_form(
        request, key, settings, next_url=next_url, error=detail, status_code=401
    )
    clear_cookie(response, settings, request, OIDC_COOKIE)
    return response


@router.post("/console/sign-out")
def sign_out(
    request: Request,
    console: ConsoleDep,
    _: ConsoleFormDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """End this browser's session."""
    response = _signed_out(request, console, settings, "auth.sign_out")
    accounts.end_session(session, console.session_id)
    return response


@router.post("/console/account/sign-out-everywhere")
def sign_out_everywhere(
    request: Request,
    console: ConsoleDep,
    _: ConsoleFormDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """End every session the user has, on every browser."""
    response = _signed_out(request, console, settings, "auth.sign_out_everywhere")
    record_of(request).detail["sessions"] = accounts.end_all_sessions(session, console.user)
    return response


def _signed_out(request: Request, console: Console, settings: Settings, action: str) -> Response:
    """A sign-out's answer: recorded as ``action`` on the user, the session cookie
    cleared, back to the sign-in page (the caller ends the sessions)."""
    record = record_of(request)
    record.action = action
    record.object_id = str(console.user.id)
    response = see_other("/console/sign-in?signed_out=1")
    clear_cookie(response, settings, request, SESSION_COOKIE)
    return response


@router.get("/console/account")
def account_page(request: Request, console: ConsoleDep, session: SessionDep) -> Response:
    """Who is signed in, with which rights, and on how many browsers."""
    return page(
        request,
        "console/account.html",
        console,
        title="Your account",
        account=accounts.account(session, console.user),
        sessions=accounts.open_sessions(session, console.user),
    )


# -- wiring -------------------------------------------------------------------------------


def install_console(app: FastAPI) -> None:
    """Add the console's pages to ``app`` (headers and assets are the web form's)."""
    app.include_router(router)
    app.include_router(portfolio.router)
    app.include_router(organizations.router)
    app.include_router(assessments.router)
    app.include_router(admin.router)
    app.include_router(audit.router)


__all__ = ["install_console"]
