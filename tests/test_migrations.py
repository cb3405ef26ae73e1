"""Migrations go up and down cleanly and match the models exactly."""

from __future__ import annotations

import uuid
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import Principal
from app.db import make_engine
from app.intake.models import Assessment
from app.intake.schemas import AnswerIn
from app.intake.service import create_assessment
from app.migrate import downgrade, upgrade
from app.models import Base
from app.organizations.models import Organization
from app.questionnaire.registry import publish
from tests.conftest import example
from tests.support.questionnaires import loaded_questionnaires


def test_upgrade_downgrade_upgrade_leaves_no_drift_from_the_models(fresh_database_url):
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)

        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
        assert {
            "organizations",
            "assessments",
            "api_keys",
            "questionnaire_versions",
        } <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_answers_move_into_one_document_per_assessment_and_back_unchanged(fresh_database_url):
    engine = make_engine(fresh_database_url)
    try:
        upgrade(engine)
        with Session(engine) as session, session.begin():
            registry = publish(session, loaded_questionnaires())
        with Session(engine) as session, session.begin():
            organization = Organization(
                name="Lakeside", type="community_hospital", licensed_beds=60, state="MN"
            )
            session.add(organization)
            session.flush()
            for status, answers in [
                ("submitted", example("community-hospital")["answers"]),  # comments and an NA
                ("draft", []),  # no answer at all
            ]:
                create_assessment(
                    session,
                    registry,
                    Principal(None, Role.ADMIN),  # type: ignore[arg-type]
                    organization_id=organization.id,
                    questionnaire_id="hospital-social-media",
                    version=1,
                    status=status,
                    items=[AnswerIn.model_validate(a) for a in answers],
                )
        before = _documents(engine)
        assert sorted(len(d) for d in before.values()) == [0, 40]

        downgrade(engine, "0010_console_accounts")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT assessment_id, question_id, position, na, comment FROM answers")
            ).all()
        submitted = next(d for d in before.values() if d)
        assert len(rows) == len(submitted)
        assert {(r.question_id, r.position, bool(r.na), r.comment) for r in rows} == {
            (a["question_id"], a["position"], a["na"], a["comment"]) for a in submitted
        }

        upgrade(engine)
        assert _documents(engine) == before
    finally:
        engine.dispose()


def _documents(engine) -> dict[uuid.UUID, list[dict[str, Any]]]:
    with Session(engine) as session:
        return {
            assessment.id: assessment.answer_document
            for assessment in session.scalars(select(Assessment))
        }
