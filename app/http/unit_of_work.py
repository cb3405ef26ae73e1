"""The unit of work around every request: one commit, with the audit event in it.

It applies to every route, including routes added later, without their doing anything:

- The request's session (``app.http.deps.get_session``) is left open past the operation.
  When the response starts, this middleware adds what the request's record
  (``app.http.context.RequestRecord``) says to the same transaction: the key's use, the
  audit event and, for a request with an ``Idempotency-Key``, the stored response
  (``app.http.middleware.IdempotencyKeys``). It commits once, and only then does the
  response leave: a 201 means the object, its audit event and its replayable response are
  all stored, or none is.
- A failed or refused request is rolled back; its audit event (and, for an idempotent
  POST, its 4xx response) is then written and committed.
- Reads are recorded only when they are downloads, denials or sign-ins.

The audit event is built from the record alone, never from the bodies of the request or
the response.

A request's turn at the database (``app.http.deps.enter_database``) lasts until this
middleware has finished with it, so that the connection it holds is handed on only after
the commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.service import ANONYMOUS, Actor, Entry, Outcome
from app.auth.service import record_use
from app.config import Settings
from app.db import utcnow
from app.errors import ServiceBusy
from app.http.context import Bookkeeping, bookkeeping
from app.http.deps import enter_database, leave_database
from app.http.middleware import send_json
from app.idempotency import service as idempotency
from app.idempotency.service import Replay

log = logging.getLogger("smm.audit")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_COMMIT_FAILED = (
    b'{"error":"internal_error","detail":"Something went wrong on our side; nothing was stored."}'
)


@dataclass
class _Response:
    """What the application answered: status and headers, known when the response starts."""

    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)


class UnitOfWork:
    """ASGI middleware: commit each request once, with its audit event, before it answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bookkeeping(scope).managed = True  # this middleware commits and hands on the turn
        response = _Response()
        finished = False
        committed = True

        async def send_after_commit(message: Message) -> None:
            nonlocal finished, committed
            if message["type"] == "http.response.start" and not finished:
                finished = True
                response.status = int(message["status"])
                response.headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1")
                    for k, v in message.get("headers", ())
                }
                committed = await _finish_in_turn(scope, response)
                if not committed:
                    await send_json(send, 500, _COMMIT_FAILED)
                    return
            if committed:
                await send(message)

        try:
            try:
                await self.app(scope, receive, send_after_commit)
            except Exception:
                # The error page (500) is sent by the outer error middleware; record it.
                if not finished:
                    finished = True
                    response.status = 500
                    await _finish_in_turn(scope, response)
                raise
            if not finished:  # the application answered nothing
                await _finish_in_turn(scope, response)
        finally:
            leave_database(scope)


def install_unit_of_work(app: FastAPI) -> None:
    """Add the middleware and the answer to a retried idempotent request."""

    @app.exception_handler(Replay)
    async def replay(request: Request, exc: Replay) -> Response:
        bookkeeping(request.scope).replayed = True
        stored = exc.response
        return Response(
            stored.body,
            status_code=stored.status_code,
            headers=idempotency.response_headers(stored),
        )

    app.add_middleware(UnitOfWork)


# -- when the response starts ------------------------------------------------------------


async def _finish_in_turn(scope: Message, response: _Response) -> bool:
    """``_finish`` on a worker thread, once the request holds a turn at the database."""
    database = bookkeeping(scope).database
    if database.busy:
        return True  # refused before it touched anything: there is nothing to record
    if database.session is None and _worth_recording(scope, response):
        try:
            await enter_database(scope)
        except ServiceBusy:
            log.warning("no database turn to record %s %s", scope["method"], _template(scope))
            return True
    return await to_thread.run_sync(_finish, scope, response)


def _finish(scope: Message, response: _Response) -> bool:
    """Record what the request did and commit; roll a failure back first. False if a
    successful request's commit failed (its work is lost)."""
    session = bookkeeping(scope).database.session
    succeeded = response.status < 400
    try:
        if succeeded and session is not None:
            _record(session, scope, response)
            session.commit()
            return True
        if session is not None:
            session.rollback()  # nothing of a failed request stays, whatever the route left
        _record_alone(session, scope, response)
        return True
    except Exception:
        log.exception("could not finish %s %s", scope["method"], _template(scope))
        if session is not None:
            session.rollback()
        if not succeeded:
            return True
        # The work is lost and the client gets a 500: record that instead, if we can.
        response.status = 500
        try:
            _record_alone(session, scope, response)
        except Exception:
            log.exception("could not record the failure of %s", _template(scope))
        return False
    finally:
        if session is not None:
            session.close()


def _record_alone(session: Session | None, scope: Message, response: _Response) -> None:
    """Record a failure's events (or a session-less request's) and commit them."""
    if not _worth_recording(scope, response):
        return
    own = session if session is not None else _new_session(scope)
    try:
        _record(own, scope, response)
        own.commit()
    finally:
        if own is not session:
            own.close()


def _worth_recording(scope: Message, response: _Response) -> bool:
    record = bookkeeping(scope).record
    if not isinstance(scope.get("route"), APIRoute):
        return False
    if scope["method"] not in SAFE_METHODS or record.authentication is not None:
        return True  # a write, or a key whose use is to be recorded
    if record.action or response.status in (401, 403, 404):
        return True
    return response.status < 400 and audit.is_download(
        response.headers.get("content-type"), response.headers.get("content-disposition")
    )


def _record(session: Session, scope: Message, response: _Response) -> None:
    """Add the key's use, the request's events and an idempotent response to ``session``."""
    book = bookkeeping(scope)
    record = book.record
    route = scope.get("route")
    if not isinstance(route, APIRoute):
        return
    method: str = scope["method"]
    writes = method not in SAFE_METHODS
    authentication = record.authentication
    settings: Settings = scope["app"].state.settings
    now = utcnow()
    if authentication is not None:
        record_use(session, authentication)
    idempotent, answered = book.idempotent, book.response
    if idempotent and answered and not book.replayed and response.status < 500:
        ttl = timedelta(hours=settings.idempotency_ttl_hours)
        idempotency.store(session, idempotent, answered, now, ttl)

    ip = audit.client_ip(
        (scope.get("client") or (None,))[0],
        _header(scope, b"x-forwarded-for"),
        settings.trusted_proxies,
    )
    actor = _actor(book)
    if authentication is not None and authentication.signed_in:
        audit.record(
            session,
            Entry(
                actor,
                "auth.key",
                Outcome.SUCCESS,
                object_type="api_key",
                object_id=str(authentication.principal.key_id),
                ip=ip,
                status_code=response.status,
            ),
            now=now,
        )
    if book.replayed:
        return  # a retry answered from the stored response: nothing was written again
    download = response.status < 400 and audit.is_download(
        response.headers.get("content-type"), response.headers.get("content-disposition")
    )
    action = record.action or audit.action_name(route.name, route.path, download=download)
    outcome = audit.outcome_of(response.status, out_of_scope=record.out_of_scope)
    if action.startswith("auth.") and response.status >= 400:
        outcome = Outcome.DENIED  # a sign-in that did not work is a refused access
    if not (writes or download or record.action or outcome is Outcome.DENIED):
        return
    object_type, object_id = _object(route, scope, book)
    detail: dict[str, Any] = {"method": method, "route": route.path}
    detail.update(record.detail)  # counts and ids a route chose to add
    if record.denial_reason and response.status == 401:
        detail["reason"] = record.denial_reason
    audit.record(
        session,
        Entry(
            actor,
            action,
            outcome,
            object_type=object_type,
            object_id=object_id,
            organization_id=_organization_id(book, scope, object_type, object_id),
            ip=ip,
            status_code=response.status,
            detail=detail,
        ),
        now=now,
    )


def _actor(book: Bookkeeping) -> Actor:
    principal = book.record.principal
    if principal is not None and principal.user_id is not None:
        return Actor.user(principal.user_id, principal.key_id)
    if principal is not None:
        return Actor.key(principal.key_id)
    if book.record.invitation_id is not None:
        return Actor.invitation(book.record.invitation_id)
    return ANONYMOUS


def _object(route: APIRoute, scope: Message, book: Bookkeeping) -> tuple[str | None, str | None]:
    """What the request acted on: the object the route named, else the last id in the path."""
    if book.record.object_id is not None:
        noun = audit.action_name(route.name, route.path).split(".", 1)[0]
        return noun, book.record.object_id
    ids = [(k, v) for k, v in scope.get("path_params", {}).items() if k.endswith("_id")]
    if ids:
        name, value = ids[-1]
        return name.removesuffix("_id"), str(value)
    return None, None


def _organization_id(
    book: Bookkeeping, scope: Message, object_type: str | None, object_id: str | None
) -> uuid.UUID | None:
    candidates: list[Any] = [
        book.record.organization_id,
        scope.get("path_params", {}).get("organization_id"),
    ]
    if object_type == "organization":
        candidates.append(object_id)
    for candidate in candidates:
        parsed = _uuid(candidate)
        if parsed is not None:
            return parsed
    return None


def _template(scope: Message) -> str:
    route = scope.get("route")
    return route.path if isinstance(route, APIRoute) else "?"


def _new_session(scope: Message) -> Session:
    factory: Callable[[], Session] = scope["app"].state.session_factory
    return factory()


def _header(scope: Message, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return None
    return None
