"""answers as one JSON document per assessment

Each assessment's answers move from the ``answers`` table (a row each) into a JSON column
``assessments.answers``: a list, in questionnaire order, of objects with ``question_id``,
``position``, ``value``, ``na`` and ``comment``. Storing or reading an assessment is then
one row. The downgrade rebuilds the table from the documents, row for row.

Revision ID: 0011_answers_document
Revises: 0010_console_accounts
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_answers_document"
down_revision: str | None = "0010_console_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
FIELDS = ("question_id", "position", "value", "na", "comment")
BATCH = 500

assessments = sa.table(
    "assessments", sa.column("id", sa.Uuid()), sa.column("answers", JSON_DOCUMENT)
)
answers = sa.table(
    "answers",
    sa.column("assessment_id", sa.Uuid()),
    sa.column("question_id", sa.String(64)),
    sa.column("position", sa.Integer()),
    sa.column("value", JSON_DOCUMENT),
    sa.column("na", sa.Boolean()),
    sa.column("comment", sa.Text()),
)


def upgrade() -> None:
    # Added in place (not by copying the table, as a batch operation on SQLite would: that
    # drops the old table, and with foreign keys on, what cascades from it).
    op.add_column(
        "assessments",
        sa.Column("answers", JSON_DOCUMENT, server_default=sa.text("'[]'"), nullable=False),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(answers).order_by(answers.c.assessment_id, answers.c.position)
    ).all()
    documents = (
        {"assessment": assessment_id, "document": [_item(row) for row in group]}
        for assessment_id, group in groupby(rows, key=lambda row: row.assessment_id)
    )
    update = (
        sa.update(assessments)
        .where(assessments.c.id == sa.bindparam("assessment"))
        .values(answers=sa.bindparam("document", type_=JSON_DOCUMENT))
    )
    for batch in _batches(documents):
        connection.execute(update, batch)
    op.drop_table("answers")


def downgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("value", JSON_DOCUMENT, nullable=True),
        sa.Column("na", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_answers_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assessment_id", "question_id", name=op.f("pk_answers")),
    )
    connection = op.get_bind()
    stored = connection.execute(sa.select(assessments.c.id, assessments.c.answers)).all()
    rows = (
        {"assessment_id": assessment_id, **{field: item.get(field) for field in FIELDS}}
        for assessment_id, document in stored
        for item in document or ()
    )
    for batch in _batches(rows):
        connection.execute(sa.insert(answers), batch)
    if connection.dialect.name == "sqlite":
        # In place (SQLite 3.35+), for the reason given in upgrade().
        op.execute("ALTER TABLE assessments DROP COLUMN answers")
    else:
        op.drop_column("assessments", "answers")


def _item(row: Any) -> dict[str, Any]:
    return {
        "question_id": row.question_id,
        "position": row.position,
        "value": row.value,
        "na": bool(row.na),
        "comment": row.comment,
    }


def _batches(items: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
