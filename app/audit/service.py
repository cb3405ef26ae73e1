"""The audit trail: who wrote, downloaded, signed in or was refused, when, from where.

Events are only ever inserted (triggers refuse UPDATE and DELETE). Nothing secret goes in
``detail``: no tokens, no keys, no request bodies, no paths that could hold a token; only
the route's template and the method.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.db import utcnow


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"  # 401, 403, or 404 for an object outside the caller's scope
    FAILED = "failed"  # any other 4xx or 5xx


class ActorType(StrEnum):
    API_KEY = "api_key"
    USER = "user"
    INVITATION = "invitation"
    CLI = "cli"
    ANONYMOUS = "anonymous"


# Media types that make a response a download, whatever route sends it.
DOWNLOAD_MEDIA_TYPES = frozenset(
    {
        "application/pdf",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
        "application/zip",
        "application/octet-stream",
    }
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: an API key, a console user, an invitation (web form), the CLI, or no
    one known."""

    type: ActorType
    api_key_id: uuid.UUID | None = None
    invitation_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None

    @classmethod
    def key(cls, key_id: uuid.UUID) -> Actor:
        return cls(ActorType.API_KEY, api_key_id=key_id)

    @classmethod
    def user(cls, user_id: uuid.UUID, principal_id: uuid.UUID) -> Actor:
        return cls(ActorType.USER, api_key_id=principal_id, user_id=user_id)

    @classmethod
    def invitation(cls, invitation_id: uuid.UUID) -> Actor:
        return cls(ActorType.INVITATION, invitation_id=invitation_id)


CLI = Actor(ActorType.CLI)
ANONYMOUS = Actor(ActorType.ANONYMOUS)


@dataclass(frozen=True, slots=True)
class Entry:
    """One event to record."""

    actor: Actor
    action: str
    outcome: Outcome
    object_type: str | None = None
    object_id: str | None = None
    organization_id: uuid.UUID | None = None
    ip: str | None = None
    status_code: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def record(session: Session, entry: Entry, *, now: datetime | None = None) -> None:
    """Add an event to the session's transaction (the caller commits).

    One prepared INSERT: every request that writes records an event, and an ORM object
    and its flush would cost it several times what the row does.
    """
    session.execute(
        _INSERT_EVENT,
        {
            "occurred_at": now or utcnow(),
            "actor_type": entry.actor.type.value,
            "api_key_id": entry.actor.api_key_id,
            "invitation_id": entry.actor.invitation_id,
            "user_id": entry.actor.user_id,
            "action": entry.action[:64],
            "object_type": entry.object_type[:32] if entry.object_type else None,
            "object_id": entry.object_id[:64] if entry.object_id else None,
            "organization_id": entry.organization_id,
            "ip": entry.ip[:45] if entry.ip else None,
            "outcome": entry.outcome.value,
            "status_code": entry.status_code,
            "detail": entry.detail or None,
        },
    )


_INSERT_EVENT = insert(AuditEvent.metadata.tables[AuditEvent.__tablename__])


def outcome_of(status_code: int, *, out_of_scope: bool = False) -> Outcome:
    """Success below 400; denied for 401, 403 and out-of-scope 404s; failed otherwise."""
    if status_code < 400:
        return Outcome.SUCCESS
    if status_code in (401, 403) or (status_code == 404 and out_of_scope):
        return Outcome.DENIED
    return Outcome.FAILED


def action_name(route_name: str, route_path: str = "", *, download: bool = False) -> str:
    """A stable action from a route's function name: ``create_assessment`` -> ``assessment.create``.

    The first word is the verb, the rest the object; a download is ``<object>.download``.
    A one-word name (``submit`` on ``/form/submit``) takes the path's first word as object.
    """
    verb, _, noun = route_name.partition("_")
    if not noun:
        words = [w for w in route_path.split("/") if w and not w.startswith("{") and w != "v1"]
        noun = words[0] if words else "request"
    return f"{noun}.download" if download else f"{noun}.{verb}"


def is_download(media_type: str | None, content_disposition: str | None) -> bool:
    """Whether a response hands the client a file: by media type or an attachment header."""
    if content_disposition and content_disposition.lower().startswith("attachment"):
        return True
    if not media_type:
        return False
    return media_type.split(";", 1)[0].strip().lower() in DOWNLOAD_MEDIA_TYPES


def client_ip(
    peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[str]
) -> str | None:
    """The client's address: the peer, unless the peer is a trusted proxy.

    Behind trusted proxies, X-Forwarded-For is read from the right, skipping the trusted
    hops; the first untrusted address is the client. Without trusted proxies the header is
    ignored, since any client can send it.
    """
    if peer is None or peer not in trusted_proxies or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return hops[0] if hops else peer


# Actions are dotted words (`assessment.create`); anything else, a NUL byte included
# (which PostgreSQL refuses in text), cannot match one and is refused as a bad filter.
ACTION_PATTERN = r"^[A-Za-z0-9_.\-]+$"
MAX_ACTION_LENGTH = 64  # AuditEvent.action's column
# Event ids are 64-bit on every database: a larger cursor could not be bound.
MAX_EVENT_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What GET /v1/audit (and the console's audit page) narrows the trail to."""

    actor_key_id: uuid.UUID | None = None
    actor_user_id: uuid.UUID | None = None  # a console user's events
    organization_id: uuid.UUID | None = None
    action: str | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None


def list_events(
    session: Session, where: EventFilter, *, limit: int, offset: int
) -> tuple[list[AuditEvent], int]:
    """A page of events, newest first, and how many match."""
    conditions: list[ColumnElement[bool]] = []
    if where.actor_key_id is not None:
        conditions.append(AuditEvent.api_key_id == where.actor_key_id)
    if where.actor_user_id is not None:
        conditions.append(AuditEvent.user_id == where.actor_user_id)
    if where.organization_id is not None:
        conditions.append(AuditEvent.organization_id == where.organization_id)
    if where.action is not None:
        conditions.append(AuditEvent.action == where.action)
    if where.outcome is not None:
        conditions.append(AuditEvent.outcome == where.outcome.value)
    if where.since is not None:
        conditions.append(AuditEvent.occurred_at >= where.since)
    if where.until is not None:
        conditions.append(AuditEvent.occurred_at < where.until)
    if where.before_id is not None:
        conditions.append(AuditEvent.id < where.before_id)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    rows = session.scalars(
        select(AuditEvent)
        .where(*conditions)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total
