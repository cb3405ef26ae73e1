"""Dependencies both doors share: session, settings, registry, caller, scoped lookups."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from anyio import to_thread
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth.service import Principal, authenticate
from app.config import Settings
from app.db import ConnectionGate, utcnow
from app.errors import NotFound, ServiceBusy, Unauthenticated
from app.http.context import bookkeeping, record_of
from app.idempotency import service as idempotency
from app.intake.models import Assessment
from app.intake.service import get_assessment
from app.invitations.models import Invitation
from app.invitations.service import get_invitation
from app.jobs.models import ReportJob
from app.jobs.service import get_job
from app.organizations.models import Organization
from app.organizations.service import get_organization
from app.questionnaire.registry import QuestionnaireRegistry
from app.text import text_problem

_Scoped = TypeVar("_Scoped", Organization, Assessment, ReportJob, Invitation)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request, committed once, before the response is sent.

    The request first waits for its turn at the database on the event loop (see
    ``ConnectionGate``). The unit of work (``app.http.unit_of_work``) commits the session
    with the request's audit event and idempotent response as the response starts (or
    rolls it back and records the failure), then hands the turn on.
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
        if bookkeeping(request.scope).managed:
            _close(sessions)  # leaves the session open for the unit of work: no I/O, no thread
        else:
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
    """The request's session from ``factory``, left open for the unit of work to commit.

    On an error the work is rolled back here. Only an application without the unit of
    work (``Bookkeeping.managed`` false) has its session committed here.
    """
    session = factory()
    bookkeeping(request.scope).database.session = session
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    if bookkeeping(request.scope).managed:
        return
    try:
        session.commit()
    finally:
        session.close()


# scope="function": the session is done with when the operation returns, before the response
# is serialised and the unit of work commits.
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
    record = record_of(request)
    try:
        authentication = authenticate(session, request.headers.get("authorization"))
    except Unauthenticated as exc:
        record.denial_reason = exc.detail
        raise
    record.authentication = authentication  # its use is recorded as the request commits
    return authentication.principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def claim_idempotency_key(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> None:
    """For a request with an Idempotency-Key: wait for its turn, or answer a retry (Replay).

    422 when the header is malformed. The lookup opens the transaction that the
    operation's writes and its stored response share. A request without the header costs
    nothing here (it runs on the event loop; only the lookup goes to a worker thread).
    """
    book = bookkeeping(request.scope)
    if book.idempotency is None or book.idempotent is not None:
        return
    idempotent = book.idempotency.for_key(principal.key_id)
    await to_thread.run_sync(idempotency.begin, session, idempotent, utcnow())
    book.idempotent = idempotent


IdempotencyDep = Annotated[None, Depends(claim_idempotency_key)]


class ScopedLookup:
    """The one way to find an object by id within the caller's scope.

    What it finds names the request's organization in its record; a 404 for an object
    that exists outside the scope is noted as a denial.
    """

    def __init__(self, request: Request, session: Session, principal: Principal) -> None:
        self.record = record_of(request)
        self.session = session
        self.principal = principal

    def organization(self, organization_id: uuid.UUID) -> Organization:
        """The organization, if the caller may see it (404 otherwise)."""
        return self._find(
            Organization,
            organization_id,
            lambda: get_organization(self.session, self.principal, organization_id),
        )

    def assessment(self, assessment_id: uuid.UUID, *, for_update: bool = False) -> Assessment:
        """The assessment, if the caller may see it (404 otherwise); locked ``for_update``."""
        return self._find(
            Assessment,
            assessment_id,
            lambda: get_assessment(
                self.session, self.principal, assessment_id, for_update=for_update
            ),
        )

    def job(self, job_id: uuid.UUID) -> ReportJob:
        """The report job, if the caller may see its organization (404 otherwise)."""
        return self._find(ReportJob, job_id, lambda: get_job(self.session, self.principal, job_id))

    def invitation(self, invitation_id: uuid.UUID) -> Invitation:
        """The invitation, if the caller may see its organization (404 otherwise)."""
        return self._find(
            Invitation,
            invitation_id,
            lambda: get_invitation(self.session, self.principal, invitation_id),
        )

    @contextmanager
    def filtering(self, organization_id: uuid.UUID | None) -> Iterator[None]:
        """Around a service call that filters by ``organization_id`` and checks it itself."""
        try:
            yield
        except NotFound:
            named = organization_id is not None
            if named and self.session.get(Organization, organization_id) is not None:
                self.record.hidden(organization_id)
            raise

    def _find(
        self, model: type[_Scoped], object_id: uuid.UUID, find: Callable[[], _Scoped]
    ) -> _Scoped:
        try:
            found = find()
        except NotFound:
            existing = self.session.get(model, object_id)
            if existing is not None:
                self.record.hidden(_organization_of(existing))
            raise
        self.record.in_organization(_organization_of(found))
        return found


def _organization_of(found: Organization | Assessment | ReportJob | Invitation) -> uuid.UUID:
    # Every scoped object belongs to an organization; an organization to itself.
    return found.id if isinstance(found, Organization) else found.organization_id


async def get_lookup(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> ScopedLookup:
    """The scoped lookup for this request's caller (no I/O until it is used: no thread)."""
    return ScopedLookup(request, session, principal)


LookupDep = Annotated[ScopedLookup, Depends(get_lookup)]


def organization_by_id(
    request: Request, organization_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Organization:
    """The organization in the path, if the caller may see it (404 otherwise)."""
    return ScopedLookup(request, session, principal).organization(organization_id)


OrganizationDep = Annotated[Organization, Depends(organization_by_id)]


def assessment_by_id(assessment_id: uuid.UUID, lookup: LookupDep) -> Assessment:
    """The assessment in the path, if the caller may see it (404 otherwise)."""
    return lookup.assessment(assessment_id)


AssessmentDep = Annotated[Assessment, Depends(assessment_by_id)]


async def reject_unknown_query_parameters(
    request: Request, _: PrincipalDep, __: IdempotencyDep
) -> None:
    """422 for a query parameter the operation does not take (after authentication, and
    after an Idempotency-Key is claimed).

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
