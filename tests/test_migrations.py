"""Migrations go up and down cleanly and match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db import make_engine
from app.migrate import downgrade, upgrade
from app.models import Base


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
            "answers",
            "api_keys",
            "questionnaire_versions",
        } <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
