"""The bookkeeping of one request, in one typed place: ``bookkeeping(scope)``.

``RequestRecord`` is what the audit event is built from: which principal (or invitation)
acted, what was done, to which object, in which organization. The scoped lookups and the
routes that create or change objects fill it explicitly; nothing is inferred from the
response. ``RequestDatabase`` is the request's turn at the database and its session.
"""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import Request
from sqlalchemy.orm import Session

from app.auth.service import Authentication, Principal
from app.idempotency.service import IdempotencyCandidate, IdempotentRequest, StoredResponse

_KEY = "smm.bookkeeping"


@dataclass
class RequestRecord:
    """What a request did, to which object, in which organization, by which principal."""

    # The key the caller authenticated with (and what its use means), or why it was refused.
    authentication: Authentication | None = None
    denial_reason: str | None = None
    # A visitor of the web form, who has no key: the invitation it came by.
    invitation_id: uuid.UUID | None = None
    # The action when it is not the route's own (e.g. a sign-in by invitation link).
    action: str | None = None
    # The object acted on, when it is not the last id in the path (e.g. one just created).
    object_id: str | None = None
    organization_id: uuid.UUID | None = None
    # A 404 that hides an object outside the caller's scope: recorded as a denial.
    out_of_scope: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def principal(self) -> Principal | None:
        """The caller's key and role, once authenticated."""
        return self.authentication.principal if self.authentication is not None else None

    def acted_on(self, object_id: uuid.UUID, organization_id: uuid.UUID | None) -> None:
        """Name the object the request created or changed, and its organization."""
        self.object_id = str(object_id)
        self.in_organization(organization_id)

    def in_organization(self, organization_id: uuid.UUID | None) -> None:
        """Name the organization the request concerns."""
        if organization_id is not None:
            self.organization_id = organization_id

    def hidden(self, organization_id: uuid.UUID | None) -> None:
        """Note that a 404 hides an object that exists in ``organization_id``."""
        self.out_of_scope = True
        self.organization_id = organization_id


@dataclass
class RequestDatabase:
    """The request's turn at the database (see ``ConnectionGate``) and its session."""

    turn: anyio.Semaphore | None = None
    busy: bool = False  # refused a turn: nothing was done
    session: Session | None = None


@dataclass
class Bookkeeping:
    """Everything the request path keeps about one request, besides the request itself."""

    record: RequestRecord = field(default_factory=RequestRecord)
    database: RequestDatabase = field(default_factory=RequestDatabase)
    # Set by the idempotency middleware when the request carries an Idempotency-Key.
    idempotency: IdempotencyCandidate | None = None
    idempotent: IdempotentRequest | None = None
    replayed: bool = False
    # The response an idempotent request answered, once complete, to store with its writes.
    response: StoredResponse | None = None
    # Whether the unit of work ends this request's transaction and database turn.
    managed: bool = False


def bookkeeping(scope: MutableMapping[str, Any]) -> Bookkeeping:
    """The request's bookkeeping, created on first use."""
    found = scope.get(_KEY)
    if not isinstance(found, Bookkeeping):
        found = Bookkeeping()
        scope[_KEY] = found
    return found


def record_of(request: Request) -> RequestRecord:
    """The audit record of ``request``."""
    return bookkeeping(request.scope).record
