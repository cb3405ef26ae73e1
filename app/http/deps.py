"""Dependencies both doors share: session, settings, registry, caller, scoped lookups."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Generator, MutableMapping
from datetime import datetime, timedelta
from typing import Annotated, Any

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import ApiKey
from app.auth.service import KEY_PATTERN, Principal, authenticate
from app.config import Settings
from app.db import ConnectionGate, utcnow
from app.errors import NotFound, ServiceBusy, Unauthenticated
from app.http.context import bookkeeping, record_of
from app.idempotency import service as idempotency
from app.intake.models import Assessment
from app.intake.service import get_assessment
from app.organizations.models import Organization
from app.organizations.service import get_organization
from app.questionnaire.registry import QuestionnaireRegistry
from app.text import text_problem

# Reads; every other method writes, and its transaction is committed by the unit of work.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed before the response is sent, or rolled back.

    The request first waits for its turn at the database on the event loop (see
    ``ConnectionGate``); the UnitOfWork middleware hands the turn on once it has finished.
    """
    await enter_database(request.scope)
    sessions = request_session(request, request.app.state.session_factory)
    session = next(sessions)
    try:
        try:
            yield session
        except BaseException as exc:
            await to_thread.run_sync(_throw, sessions, exc)
            raise
        await to_thread.run_sync(_close, sessions)
    finally:
        if not bookkeeping(request.scope).managed:
            leave_database(request.scope)  # no middleware will: hand the turn on now


async def enter_database(scope: MutableMapping[str, Any]) -> None:
    """Take a turn at the database for this request, once; 503 when none came in time."""
    database = bookkeeping(scope).database
    if database.turn is not None:
        return
    gate: ConnectionGate = scope["app"].state.db_gate
    turn = await gate.enter()
    if turn is None:
        database.busy = True
        raise ServiceBusy(
            "The database is busy with other requests; nothing was done. Try again shortly.",
            retry_after=max(1, round(gate.wait_seconds / 10)),
        )
    database.turn = turn


def leave_database(scope: MutableMapping[str, Any]) -> None:
    """Hand this request's turn at the database on to the next one waiting."""
    database = bookkeeping(scope).database
    turn, database.turn = database.turn, None
    if turn is not None:
        turn.release()


def _throw(sessions: Generator[Session, None, None], exc: BaseException) -> None:
    with contextlib.suppress(StopIteration):
        sessions.throw(exc)


def _close(sessions: Generator[Session, None, None]) -> None:
    with contextlib.suppress(StopIteration):
        next(sessions)


def request_session(
    request: Request, factory: Callable[[], Session]
) -> Generator[Session, None, None]:
    """The request's session from ``factory``; tests pass a factory bound to their transaction.

    A read is committed here, as soon as the operation returns. A write (any method but
    GET, HEAD or OPTIONS) is left open for the UnitOfWork middleware, which adds the
    idempotent response and the audit event to the same transaction, commits, and only
    then sends the response. On an error the work is rolled back; the middleware records
    the failure in a transaction of its own.
    """
    session = factory()
    bookkeeping(request.scope).database.session = session
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    if bookkeeping(request.scope).managed and request.method not in SAFE_METHODS:
        return
    try:
        session.commit()
    finally:
        session.close()


# scope="function": the commit happens before the response leaves, so a 201 means stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# No I/O in these two: async, so they run on the event loop instead of a thread-pool hop.
async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_registry(request: Request) -> QuestionnaireRegistry:
    """The questionnaire versions this process serves."""
    registry: QuestionnaireRegistry = request.app.state.registry
    return registry


RegistryDep = Annotated[QuestionnaireRegistry, Depends(get_registry)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `smm keys create`, sent as `Authorization: Bearer smm_...`.",
)


def get_principal(
    request: Request,
    session: SessionDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from its API key; 401 when the key is missing, malformed or revoked."""
    authorization = request.headers.get("authorization")
    book = bookkeeping(request.scope)
    previous_use = _last_use(session, authorization)
    try:
        principal = authenticate(session, authorization)
    except Unauthenticated as exc:
        book.record.denial_reason = exc.detail
        raise
    # The key's use is recorded in a transaction of its own: a request that then fails
    # (404, 409, 422...) rolls back its own work, not the record that the key was used.
    session.commit()
    book.record.principal = principal
    now = utcnow()
    book.record.key_signed_in = previous_use is None or now - previous_use > KEY_SESSION_GAP
    if book.idempotency is not None:
        # The lookup opens the transaction the operation's writes and stored response share.
        idempotent = book.idempotency.for_key(principal.key_id)
        idempotency.begin(session, idempotent, now)
        book.idempotent = idempotent
    return principal


# A key's use "signs in" (audit action auth.key) when it had not been used for this long.
KEY_SESSION_GAP = timedelta(minutes=30)


def _last_use(session: Session, authorization: str | None) -> datetime | None:
    """When the key in the header was last used, before this request counts."""
    _, _, token = (authorization or "").partition(" ")
    match = KEY_PATTERN.match(token.strip())
    if match is None:
        return None
    return session.scalar(select(ApiKey.last_used_at).where(ApiKey.prefix == match["prefix"]))


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def organization_by_id(
    request: Request, organization_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Organization:
    """The organization in the path, if the caller may see it (404 otherwise)."""
    try:
        organization = get_organization(session, principal, organization_id)
    except NotFound:
        if session.get(Organization, organization_id) is not None:
            record_of(request).hidden(organization_id)
        raise
    record_of(request).in_organization(organization.id)
    return organization


OrganizationDep = Annotated[Organization, Depends(organization_by_id)]


def assessment_by_id(
    request: Request, assessment_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Assessment:
    """The assessment in the path, if the caller may see it (404 otherwise)."""
    try:
        assessment = get_assessment(session, principal, assessment_id)
    except NotFound:
        existing = session.get(Assessment, assessment_id)
        if existing is not None:
            record_of(request).hidden(existing.organization_id)
        raise
    record_of(request).in_organization(assessment.organization_id)
    return assessment


AssessmentDep = Annotated[Assessment, Depends(assessment_by_id)]


def reject_unknown_query_parameters(request: Request, _: PrincipalDep) -> None:
    """422 for a query parameter the operation does not take (after authentication).

    Bodies refuse unknown fields; queries do too, so that a misspelt filter
    (`?organisation_id=`) is an error rather than a silently unfiltered list. Any query
    or path value that is not text (app.text: NUL and other control characters) is
    refused here too, for every operation, before a typed parameter or the database
    sees it (a path value that is not text names nothing: 404).
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    reject_invalid_parameter_text(request)
    known = _query_parameter_names(route.dependant)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "is not a parameter of this operation",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )


def reject_invalid_parameter_text(request: Request) -> None:
    """RequestValidationError naming each query or path parameter whose value is not text."""
    problems = [
        {"type": "value_error", "loc": ("query", name), "msg": problem, "input": ""}
        for name, value in request.query_params.multi_items()
        if (problem := text_problem(name) or text_problem(value)) is not None
    ]
    problems += [
        {"type": "value_error", "loc": ("path", name), "msg": problem, "input": ""}
        for name, value in request.path_params.items()
        if isinstance(value, str) and (problem := text_problem(value)) is not None
    ]
    if problems:
        raise RequestValidationError(problems)


def _query_parameter_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub_dependant in dependant.dependencies:
        names |= _query_parameter_names(sub_dependant)
    return names
