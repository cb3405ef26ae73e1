"""procrastinate's job queue schema (PostgreSQL), and which worker renders a report job

On PostgreSQL the queue's tables and functions live in their own schema, ``procrastinate``,
so they never mix with the application's tables (nor with Alembic's comparison of them);
connections that use the queue put that schema on their search_path. SQLite has no queue:
there the embedded runner renders reports.

Revision ID: 0005_procrastinate
Revises: 0004_audit_idempotency
Create Date: 2026-11-29 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.config import get_settings

revision: str = "0005_procrastinate"
down_revision: str | None = "0004_audit_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_SCHEMA = "procrastinate"


def upgrade() -> None:
    with op.batch_alter_table("report_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("queue_job_id", sa.BigInteger(), nullable=True))
    if op.get_context().dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    op.execute(f"CREATE SCHEMA {QUEUE_SCHEMA}")
    op.execute(f"SET LOCAL search_path TO {QUEUE_SCHEMA}")
    # Several statements and no parameters: straight to psycopg, which then leaves its
    # percent signs alone (a driver-level call with parameters would not).
    op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())
    op.execute("SET LOCAL search_path TO DEFAULT")
    role = get_settings().database_app_role
    if role:
        quoted = op.get_context().dialect.identifier_preparer.quote(role)
        op.execute(f"GRANT USAGE ON SCHEMA {QUEUE_SCHEMA} TO {quoted}")
        for kind in ("TABLES", "SEQUENCES", "FUNCTIONS"):
            op.execute(f"GRANT ALL ON ALL {kind} IN SCHEMA {QUEUE_SCHEMA} TO {quoted}")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA {QUEUE_SCHEMA} CASCADE")
    with op.batch_alter_table("report_jobs", schema=None) as batch_op:
        batch_op.drop_column("queue_job_id")
        batch_op.drop_column("worker")
