"""peer benchmark snapshots

Benchmarks are published from a stored snapshot of each peer group (questionnaire and
size band), taken again once it is older than SMM_BENCHMARK_SNAPSHOT_HOURS.

Revision ID: 0007_benchmark_snapshots
Revises: 0006_rate_limits
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.db

revision: str = "0007_benchmark_snapshots"
down_revision: str | None = "0006_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "benchmark_snapshots",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("peer_group", sa.String(length=200), nullable=False),
        sa.Column("taken_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "ranks",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benchmark_snapshots")),
    )
    op.create_index(
        "ix_benchmark_snapshots_peer_group_taken_at",
        "benchmark_snapshots",
        ["peer_group", "taken_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_benchmark_snapshots_peer_group_taken_at", table_name="benchmark_snapshots")
    op.drop_table("benchmark_snapshots")
