"""rate-limit budgets shared by every API process (used on PostgreSQL)

Revision ID: 0006_rate_limits
Revises: 0005_procrastinate
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import app.db

revision: str = '0006_rate_limits'
down_revision: str | None = '0005_procrastinate'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limit_states',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('expires_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_states'))
    )
    with op.batch_alter_table('rate_limit_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_states_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rate_limit_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_states_expires_at'))
    op.drop_table('rate_limit_states')
