"""organizations, questionnaires, assessments, answers and API keys

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-29 03:06:27.182203
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import app.db
from sqlalchemy.dialects import postgresql

revision: str = '0001_initial'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    op.create_table('questionnaire_versions',
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=400), nullable=False),
    sa.Column('definition', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('published_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('questionnaire_id', 'version', name=op.f('pk_questionnaire_versions'))
    )
    op.create_table('organizations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('licensed_beds', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('created_by_key_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_key_id'], ['api_keys.id'], name=op.f('fk_organizations_created_by_key_id_api_keys'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations'))
    )
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organizations_created_by_key_id'), ['created_by_key_id'], unique=False)

    op.create_table('api_key_grants',
    sa.Column('key_id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['api_keys.id'], name=op.f('fk_api_key_grants_key_id_api_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_api_key_grants_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key_id', 'organization_id', name=op.f('pk_api_key_grants'))
    )
    with op.batch_alter_table('api_key_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_grants_organization_id'), ['organization_id'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('questionnaire_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_by_key_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('engine_version', sa.String(length=32), nullable=False),
    sa.Column('scores', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_key_id'], ['api_keys.id'], name=op.f('fk_assessments_created_by_key_id_api_keys'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_assessments_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['questionnaire_id', 'questionnaire_version'], ['questionnaire_versions.questionnaire_id', 'questionnaire_versions.version'], name=op.f('fk_assessments_questionnaire_id_questionnaire_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_organization_created', ['organization_id', 'created_at'], unique=False)

    op.create_table('answers',
    sa.Column('assessment_id', sa.Uuid(), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('value', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('na', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_answers_assessment_id_assessments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assessment_id', 'question_id', name=op.f('pk_answers'))
    )


def downgrade() -> None:
    op.drop_table('answers')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_organization_created')

    op.drop_table('assessments')
    with op.batch_alter_table('api_key_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_grants_organization_id'))

    op.drop_table('api_key_grants')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organizations_created_by_key_id'))

    op.drop_table('organizations')
    op.drop_table('questionnaire_versions')
    op.drop_table('api_keys')
