"""The audit trail, for administrators."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BeforeValidator, Field

from app.api.responses import errors
from app.audit import service
from app.audit.service import ACTION_PATTERN, MAX_EVENT_ID, EventFilter, Outcome
from app.auth.models import Role
from app.auth.service import require_role
from app.http.deps import PrincipalDep, SessionDep, reject_unknown_query_parameters
from app.schemas import ReadModel


def _iso_only(value: object) -> object:
    """A date-time as ISO 8601 text; pydantic would also read ``0.5`` as a Unix time."""
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-11-29T08:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]


router = APIRouter(
    prefix="/v1/audit",
    tags=["audit"],
    dependencies=[Depends(reject_unknown_query_parameters)],
)


class AuditEventRead(ReadModel):
    """One recorded event."""

    id: int
    occurred_at: datetime
    actor_type: str
    api_key_id: uuid.UUID | None = Field(
        description="The API key, or for a console user (actor_type user) its principal."
    )
    user_id: uuid.UUID | None = Field(description="The console user, when one acted.")
    invitation_id: uuid.UUID | None
    action: str
    object_type: str | None
    object_id: str | None
    organization_id: uuid.UUID | None
    ip: str | None
    outcome: str
    status_code: int | None
    detail: dict[str, Any] | None


class AuditEventPage(ReadModel):
    items: list[AuditEventRead]
    total: int
    limit: int
    offset: int
    next_before_id: int | None


@router.get("", responses=errors(403))
def list_audit_events(
    session: SessionDep,
    principal: PrincipalDep,
    actor_key_id: Annotated[uuid.UUID | None, Query(description="Events of this API key.")] = None,
    organization_id: Annotated[
        uuid.UUID | None, Query(description="Events about this organization.")
    ] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=ACTION_PATTERN,
            description="e.g. `assessment.create`, `auth.key`.",
        ),
    ] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    since: Annotated[IsoDateTime | None, Query(description="At or after (ISO 8601).")] = None,
    until: Annotated[IsoDateTime | None, Query(description="Before (ISO 8601).")] = None,
    before_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_EVENT_ID, description="Only events older than this id (a cursor)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> AuditEventPage:
    """List audit events, newest first (admin keys only)."""
    require_role(principal, Role.ADMIN, action="read the audit trail")
    where = EventFilter(
        actor_key_id=actor_key_id,
        organization_id=organization_id,
        action=action,
        outcome=outcome,
        since=_utc(since),
        until=_utc(until),
        before_id=before_id,
    )
    rows, total = service.list_events(session, where, limit=limit, offset=offset)
    return AuditEventPage(
        items=[AuditEventRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
        next_before_id=rows[-1].id if len(rows) == limit else None,
    )


def _utc(moment: datetime | None) -> datetime | None:
    """A timestamp without an offset is taken as UTC, the trail's own zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
