"""The organization table."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, new_id, utcnow


class Organization(Base):
    """A hospital or health system that answers questionnaires."""

    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    licensed_beds: Mapped[int]
    state: Mapped[str] = mapped_column(String(2))
    created_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL"), index=True
    )
    # Roadmap settings, applied to every roadmap, report and results page of the
    # organization unless a request overrides them.
    roadmap_targets: Mapped[dict[str, Any]] = mapped_column(default=dict)
    roadmap_budget: Mapped[int | None]
    roadmap_excluded_services: Mapped[list[str]] = mapped_column(default=list)
    consultant_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
