"""report jobs carry a priority

``report_jobs.priority`` (``app.jobs.models.JobPriority``): runners take the highest
first, then the oldest, so a pre-render someone is waiting for on the results page goes
before a partner's batch. Jobs stored before this are given the single-request priority.
The queue index becomes (status, priority, created_at).

Revision ID: 0012_report_job_priority
Revises: 0011_answers_document
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_report_job_priority"
down_revision: str | None = "0011_answers_document"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In place, not by a batch copy of the table (see 0011).
    op.add_column(
        "report_jobs",
        sa.Column("priority", sa.SmallInteger(), server_default="10", nullable=False),
    )
    op.drop_index("ix_report_jobs_status_created", table_name="report_jobs")
    op.create_index(
        "ix_report_jobs_queue", "report_jobs", ["status", "priority", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_report_jobs_queue", table_name="report_jobs")
    op.create_index(
        "ix_report_jobs_status_created", "report_jobs", ["status", "created_at"], unique=False
    )
    op.drop_column("report_jobs", "priority")
