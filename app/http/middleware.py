"""The request path's middleware: the body size limit, and the unit of work around every
request (idempotent responses and the audit trail).

``BodySizeLimit`` refuses request bodies over the limit before anything parses them.

It applies to every route, including routes added later, without their doing anything:

- A write (any method but GET, HEAD, OPTIONS) keeps its transaction open past the
  operation (see ``request_session``). Its response is held back while this middleware adds
  the stored response for an ``Idempotency-Key`` and the audit event to that same
  transaction and commits. Only then does the response leave: a 201 means the object,
  its audit event and its replayable response are all stored, or none is.
- A failed or refused request is rolled back; its audit event (and, for an idempotent
  POST, its 4xx response) is written in a transaction of its own.
- Reads are committed as they always were; downloads (file responses), denials and
  sign-ins are then recorded in a short transaction of their own.

A write's background tasks (none so far) would run before its commit: they must not wait
for a database connection of their own, which SQLite's single one cannot give them.

A request's turn at the database (``app.http.deps.enter_database``) lasts until this middleware has
finished with it, so that the connection it holds is handed on only after the commit.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from anyio import to_thread
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.service import ANONYMOUS, Actor, Entry, Outcome
from app.config import Settings
from app.db import Base, utcnow
from app.errors import ServiceBusy
from app.http.context import Bookkeeping, bookkeeping
from app.http.deps import SAFE_METHODS, enter_database, leave_database
from app.idempotency import service as idempotency
from app.idempotency.service import IdempotencyCandidate, Replay
from app.intake.models import Assessment
from app.invitations.models import Invitation
from app.jobs.models import ReportJob
from app.organizations.models import Organization

log = logging.getLogger("smm.audit")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

# Path parameters that name an object, so that a 404 on one that exists outside the
# caller's scope is recorded as a denial, on routes written before or after this one.
_SCOPED_OBJECTS: dict[str, type[Base]] = {
    "organization_id": Organization,
    "assessment_id": Assessment,
    "job_id": ReportJob,
    "invitation_id": Invitation,
}
_COMMIT_FAILED = (
    b'{"error":"internal_error","detail":"Something went wrong on our side; nothing was stored."}'
)


@dataclass
class _Response:
    """What the application answered, held back (writes) or passed on (reads)."""

    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)


class UnitOfWork:
    """ASGI middleware: commit each write with its audit event and idempotent response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        book = bookkeeping(scope)
        method: str = scope["method"]
        writes = method not in SAFE_METHODS
        book.managed = True  # this middleware commits writes and hands on the database turn
        request_body = b""
        if writes:
            request_body, receive = await _read_body(receive)
            header = _header(scope, b"idempotency-key")
            if header is not None and idempotency.applies_to(method, scope["path"]):
                query = scope.get("query_string", b"").decode("latin-1")
                book.idempotency = IdempotencyCandidate(
                    header,
                    method,
                    scope["path"],
                    idempotency.fingerprint(method, scope["path"], query, request_body),
                )
        response = _Response()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                response.status = int(message["status"])
                response.headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1")
                    for k, v in message.get("headers", ())
                }
            if not writes:
                await send(message)
                return
            response.messages.append(message)
            if message["type"] == "http.response.body":
                response.body += message.get("body", b"")

        try:
            try:
                await self.app(scope, receive, capture)
            except Exception:
                # The error page (500) is sent by the outer error middleware; record it.
                response.status = 500
                await _finish_in_turn(scope, response, request_body)
                raise
            committed = await _finish_in_turn(scope, response, request_body)
        finally:
            leave_database(scope)
        if not writes:
            return
        if not committed:
            await _send_commit_failure(send)
            return
        for message in response.messages:
            await send(message)


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


# -- after the operation ---------------------------------------------------------------


async def _finish_in_turn(scope: Message, response: _Response, request_body: bytes) -> bool:
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
    return await to_thread.run_sync(_finish, scope, response, request_body)


def _finish(scope: Message, response: _Response, request_body: bytes) -> bool:
    """Record what the request did; for a successful write, commit it. False if that failed."""
    session = bookkeeping(scope).database.session
    writes = scope["method"] not in SAFE_METHODS
    succeeded = response.status < 400
    try:
        if writes and succeeded and session is not None:
            _record(session, scope, response, request_body)
            session.commit()
            return True
        if session is not None and writes:
            session.rollback()  # nothing of a failed write stays, whatever the route left
        _record_alone(session, scope, response, request_body)
        return True
    except Exception:
        log.exception("could not finish %s %s", scope["method"], _template(scope))
        if session is not None:
            session.rollback()
        if not (writes and succeeded):
            return True
        # The write is lost and the client gets a 500: record that instead, if we can.
        response.status, response.body = 500, bytearray()
        try:
            _record_alone(session, scope, response, request_body)
        except Exception:
            log.exception("could not record the failure of %s", _template(scope))
        return False
    finally:
        if session is not None:
            session.close()


def _record_alone(
    session: Session | None, scope: Message, response: _Response, request_body: bytes
) -> None:
    """Record a read's events, or a failure's, in a transaction of their own."""
    if not _worth_recording(scope, response):
        return
    own = session if session is not None else _new_session(scope)
    try:
        _record(own, scope, response, request_body)
        own.commit()
    finally:
        if own is not session:
            own.close()


def _worth_recording(scope: Message, response: _Response) -> bool:
    record = bookkeeping(scope).record
    if not isinstance(scope.get("route"), APIRoute):
        return False
    if scope["method"] not in SAFE_METHODS or record.key_signed_in:
        return True
    if record.action or response.status in (401, 403, 404):
        return True
    return response.status < 400 and audit.is_download(
        response.headers.get("content-type"), response.headers.get("content-disposition")
    )


def _record(session: Session, scope: Message, response: _Response, request_body: bytes) -> None:
    """Add the request's events (and an idempotent POST's response) to ``session``."""
    book = bookkeeping(scope)
    record = book.record
    route = scope.get("route")
    if not isinstance(route, APIRoute):
        return
    method: str = scope["method"]
    writes = method not in SAFE_METHODS
    principal = record.principal
    settings: Settings = scope["app"].state.settings
    now = utcnow()
    idempotent = book.idempotent
    if idempotent is not None and not book.replayed and response.status < 500:
        stored = idempotency.StoredResponse(
            response.status, dict(response.headers), bytes(response.body)
        )
        ttl = timedelta(hours=settings.idempotency_ttl_hours)
        idempotency.store(session, idempotent, stored, now, ttl)

    ip = audit.client_ip(
        (scope.get("client") or (None,))[0],
        _header(scope, b"x-forwarded-for"),
        settings.trusted_proxies,
    )
    actor = _actor(book)
    if principal is not None and record.key_signed_in:
        audit.record(
            session,
            Entry(
                actor,
                "auth.key",
                Outcome.SUCCESS,
                object_type="api_key",
                object_id=str(principal.key_id),
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
    response_json = _json(response) if writes else None
    request_json = _json_bytes(request_body) if writes else None
    out_of_scope = record.out_of_scope
    if response.status == 404 and principal is not None and not out_of_scope:
        out_of_scope = _hides_existing_object(session, scope, request_json, book)
    elif response.status >= 400 and record.organization_id is None:
        _hides_existing_object(session, scope, request_json, book)  # for its organization
    action = record.action or audit.action_name(route.name, route.path, download=download)
    outcome = audit.outcome_of(response.status, out_of_scope=out_of_scope)
    if action.startswith("auth.") and response.status >= 400:
        outcome = Outcome.DENIED  # a sign-in that did not work is a refused access
    if not (writes or download or record.action or outcome is Outcome.DENIED):
        return
    object_type, object_id = _object(route, scope, response_json)
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
            organization_id=_organization_id(
                book, scope, response_json, request_json, object_type, object_id
            ),
            ip=ip,
            status_code=response.status,
            detail=detail,
        ),
        now=now,
    )


def _actor(book: Bookkeeping) -> Actor:
    if book.record.principal is not None:
        return Actor.key(book.record.principal.key_id)
    if book.record.invitation_id is not None:
        return Actor.invitation(book.record.invitation_id)
    return ANONYMOUS


def _object(route: APIRoute, scope: Message, response_json: Any) -> tuple[str | None, str | None]:
    """What the request acted on: the object a write returned, else the last id in the path."""
    if isinstance(response_json, dict) and isinstance(response_json.get("id"), str):
        noun = audit.action_name(route.name, route.path).split(".", 1)[0]
        return noun, response_json["id"]
    ids = [(k, v) for k, v in scope.get("path_params", {}).items() if k.endswith("_id")]
    if ids:
        name, value = ids[-1]
        return name.removesuffix("_id"), str(value)
    return None, None


def _organization_id(
    book: Bookkeeping,
    scope: Message,
    response_json: Any,
    request_json: Any,
    object_type: str | None,
    object_id: str | None,
) -> uuid.UUID | None:
    candidates: list[Any] = [
        book.record.organization_id,
        scope.get("path_params", {}).get("organization_id"),
    ]
    if isinstance(response_json, dict):
        candidates.append(response_json.get("organization_id"))
    if object_type == "organization":
        candidates.append(object_id)
    if isinstance(request_json, dict):
        candidates.append(request_json.get("organization_id"))
    for candidate in candidates:
        parsed = _uuid(candidate)
        if parsed is not None:
            return parsed
    return None


def _hides_existing_object(
    session: Session, scope: Message, request_json: Any, book: Bookkeeping
) -> bool:
    """Whether a 404 was about an object that exists: then the caller was out of scope.

    Objects are named by id in the path, the query or a JSON body's ``organization_id``.
    """
    named: list[tuple[str, Any]] = list(scope.get("path_params", {}).items())
    named += parse_qsl(scope.get("query_string", b"").decode("latin-1"))
    if isinstance(request_json, dict) and "organization_id" in request_json:
        named.append(("organization_id", request_json["organization_id"]))
    for name, value in named:
        model = _SCOPED_OBJECTS.get(name)
        object_id = _uuid(value)
        if model is None or object_id is None:
            continue
        found: Any = session.get(model, object_id)
        if found is not None:
            # Every scoped object belongs to an organization; an organization to itself.
            book.record.organization_id = (
                found.id if isinstance(found, Organization) else found.organization_id
            )
            return True
    return False


def _template(scope: Message) -> str:
    route = scope.get("route")
    return route.path if isinstance(route, APIRoute) else "?"


def _new_session(scope: Message) -> Session:
    factory: Callable[[], Session] = scope["app"].state.session_factory
    return factory()


# -- small helpers -----------------------------------------------------------------------


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a receive that hands it on to the application."""
    chunks: list[bytes] = []
    pending: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            pending.append(message)
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if not pending:
        pending.append({"type": "http.request", "body": body, "more_body": False})

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return body, replay


def _header(scope: Message, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _json(response: _Response) -> Any:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    return _json_bytes(bytes(response.body))


def _json_bytes(body: bytes) -> Any:
    if not body or len(body) > 4_000_000:
        return None
    try:
        return json.loads(body)
    except ValueError:
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


async def _send_commit_failure(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_COMMIT_FAILED)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _COMMIT_FAILED})


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before anything parses them.

    The body is read here, chunk by chunk, and handed on whole: a body sent without a
    Content-Length (chunked) is cut off as soon as it passes the limit, as one with an
    honest Content-Length is refused before a byte of it is read.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._too_large(send)
                return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away; let the app see it
                pending: list[Message] = [message]
                break
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
                break

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        body = (
            b'{"error":"payload_too_large","detail":"The request body is larger than '
            + str(self.max_bytes).encode()
            + b' bytes."}'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
