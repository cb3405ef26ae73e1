"""roadmap capacity, hourly rate and budget scope

An organization's roadmap settings gain the staff hours a month its people can give the
program, the actions it can run at once, the cost of an internal staff hour, and what the
budget caps (the Center's fees, or everything). Null means the catalogue's default.

Revision ID: 0008_roadmap_capacity
Revises: 0007_benchmark_snapshots
Create Date: 2026-12-02 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_roadmap_capacity"
down_revision: str | None = "0007_benchmark_snapshots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("roadmap_staff_hours_per_month", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("roadmap_concurrent_actions", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("roadmap_hourly_rate", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "roadmap_budget_scope",
                sa.String(length=20),
                nullable=False,
                server_default="center_fees",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("roadmap_budget_scope")
        batch_op.drop_column("roadmap_hourly_rate")
        batch_op.drop_column("roadmap_concurrent_actions")
        batch_op.drop_column("roadmap_staff_hours_per_month")
