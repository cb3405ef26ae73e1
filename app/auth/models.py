"""API keys and the organizations granted to them."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.auth.roles import Role as Role  # re-exported beside the models
from app.db import Base, new_id, utcnow


class ApiKey(Base):
    """A principal: its role and (through grants) the organizations it may work on.

    ``kind`` is ``key`` for a bearer key, of which only a SHA-256 hash of the secret part
    is stored, or ``user`` for the principal a console user acts as
    (``app.accounts``): it has no usable secret and is never accepted as a bearer token,
    but it has a role and grants like a key, so one set of rules scopes both doors.
    """

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8), default="key", server_default="key")
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApiKeyGrant(Base):
    """An organization a consultant or partner key may work on."""

    __tablename__ = "api_key_grants"

    key_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
