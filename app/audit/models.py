"""The audit event table. Rows are inserted, never updated or deleted."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow

# BIGINT identity on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(Base):
    """One write, download, sign-in or denied access.

    Actors are recorded by id without foreign keys: a key or invitation that goes away
    must not rewrite (or block) the history that names it.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_api_key_id", "api_key_id"),
        Index("ix_audit_events_user_id", "user_id"),
        Index("ix_audit_events_organization_id", "organization_id"),
        Index("ix_audit_events_action", "action"),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    # api_key, user (console), invitation, cli, anonymous
    actor_type: Mapped[str] = mapped_column(String(16))
    api_key_id: Mapped[uuid.UUID | None]  # a console user's: its principal
    user_id: Mapped[uuid.UUID | None]
    invitation_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    organization_id: Mapped[uuid.UUID | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    outcome: Mapped[str] = mapped_column(String(16))  # success, denied, failed
    status_code: Mapped[int | None]
    detail: Mapped[dict[str, Any] | None]
