"""The organization table."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
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
    # Capacity for the program and the cost of staff time; null: the catalogue's default.
    roadmap_staff_hours_per_month: Mapped[int | None]
    roadmap_concurrent_actions: Mapped[int | None]
    roadmap_hourly_rate: Mapped[int | None]
    roadmap_budget_scope: Mapped[str] = mapped_column(
        String(20), default="center_fees", server_default="center_fees"
    )
    consultant_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BenchmarkSnapshot(Base):
    """Where every organization of one peer group ranked, per dimension, at one moment.

    Benchmarks are read from the latest snapshot of the group, so that submitting
    chosen scores and reading one's benchmark again shows nothing new until the next one.
    ``ranks`` maps an organization id to the assessment that was ranked and, per
    dimension, its score and percentile quarter among the others (never their scores).
    """

    __tablename__ = "benchmark_snapshots"
    __table_args__ = (
        Index("ix_benchmark_snapshots_peer_group_taken_at", "peer_group", "taken_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    peer_group: Mapped[str] = mapped_column(String(200))
    taken_at: Mapped[datetime]
    ranks: Mapped[dict[str, Any]]
