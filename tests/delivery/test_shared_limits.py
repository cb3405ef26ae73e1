"""On PostgreSQL every API process spends from one rate-limit budget.

Two applications, each with its own engine and connection pool (as two processes or two
machines would have), on one fresh PostgreSQL database with real commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from app.auth.models import Role
from app.auth.service import create_key
from app.config import Settings
from app.db import make_engine, session_factory, transaction
from app.main import create_app
from app.questionnaire.registry import QuestionnaireRegistry, publish
from app.ratelimit import RateLimitState
from tests.conftest import bearer
from tests.support.databases import migrated_engine
from tests.support.questionnaires import loaded_questionnaires

pytestmark = pytest.mark.postgres


@pytest.fixture
def shared_database(fresh_postgres_url: str) -> str:
    return fresh_postgres_url


@pytest.fixture
def shared_registry(shared_database: str) -> QuestionnaireRegistry:
    with (
        migrated_engine(shared_database) as engine,
        transaction(session_factory(engine)) as session,
    ):
        return publish(session, loaded_questionnaires())


def _instance(
    url: str, registry: QuestionnaireRegistry, tmp_path: Path
) -> tuple[TestClient, Engine]:
    settings = Settings(
        database_url=url,
        job_backend="local",
        run_report_jobs=False,
        secret_key="shared-secret-for-both-instances",
        secret_key_file=tmp_path / "unused",
        web_rate_burst=3,
        web_rate_limit=1,
        report_rate_burst=2,
        report_rate_limit=1,
    )
    engine = make_engine(url)
    return TestClient(create_app(settings, engine=engine, registry=registry)), engine


@pytest.fixture
def instances(
    shared_database: str, shared_registry: QuestionnaireRegistry, tmp_path: Path
) -> Iterator[tuple[TestClient, TestClient]]:
    first, first_engine = _instance(shared_database, shared_registry, tmp_path)
    second, second_engine = _instance(shared_database, shared_registry, tmp_path)
    assert first_engine is not second_engine
    try:
        yield first, second
    finally:
        first_engine.dispose()
        second_engine.dispose()


def test_two_instances_share_one_invitation_rate_limit(
    instances: tuple[TestClient, TestClient],
) -> None:
    first, second = instances
    # A client guessing links, its requests spread over both instances: 3 in all, then 429.
    statuses = [
        client.get(f"/i/guess-{n}", follow_redirects=False).status_code
        for n, client in enumerate([first, second, first, second, first])
    ]
    assert statuses == [404, 404, 404, 429, 429]
    refused = second.get("/i/another-guess")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "Please slow down" in refused.text


def test_two_instances_share_one_report_budget_per_key(
    instances: tuple[TestClient, TestClient], shared_database: str
) -> None:
    first, second = instances
    engine = make_engine(shared_database)
    try:
        with transaction(session_factory(engine)) as session:
            key = create_key(session, Role.ADMIN, []).token
            other = create_key(session, Role.ADMIN, []).token
        assert first.post("/v1/reports/batch", headers=bearer(key)).status_code == 202
        assert second.post("/v1/reports/batch", headers=bearer(key)).status_code == 202
        for client in (first, second):
            refused = client.post("/v1/reports/batch", headers=bearer(key))
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"] == "rate_limited"
            assert int(refused.headers["retry-after"]) >= 1
        assert second.post("/v1/reports/batch", headers=bearer(other)).status_code == 202
        with transaction(session_factory(engine)) as session:
            keys = session.scalar(select(func.count()).select_from(RateLimitState))
        assert keys == 2  # one budget per key, in the database, whichever instance spent it
    finally:
        engine.dispose()
