"""Shared fixtures: a migrated database per backend, a transaction per test, API clients.

Every database test runs on SQLite, and on PostgreSQL too when SMM_TEST_DATABASE_URL
points at a server (CI sets it; then an unreachable server fails the run). Each run
creates its own PostgreSQL database and drops it at the end.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import create_key
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, normalize_url
from app.main import create_app
from app.migrate import upgrade
from app.organizations.models import Organization
from app.questionnaire.loader import load_directory
from app.questionnaire.registry import QuestionnaireRegistry, publish

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

POSTGRES_ENV = "SMM_TEST_DATABASE_URL"
EXAMPLES = PROJECT_ROOT / "examples"


def postgres_admin_url() -> str | None:
    """The PostgreSQL server tests may use, from SMM_TEST_DATABASE_URL."""
    url = os.environ.get(POSTGRES_ENV)
    return normalize_url(url) if url else None


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of the test PostgreSQL server; skips when none is configured."""
    url = postgres_admin_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}=postgresql://user@host:port/db")
    return url


def create_postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh, empty database on the test server, and a function that drops it."""
    name = f"smm_test_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of each backend for this test run."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    admin_url = request.getfixturevalue("postgres_server")
    url, drop = create_postgres_database(admin_url)
    try:
        yield url
    finally:
        drop()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The test database, migrated to head.

    More than the service's one SQLite connection: a test holds one for its transaction
    while the code under test may open another (readiness probes, runners).
    """
    engine = make_engine(database_url, pool_size=5, max_overflow=5)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def registry(engine: Engine) -> QuestionnaireRegistry:
    """The repository's questionnaires, published in the test database."""
    with Session(engine) as session, session.begin():
        return publish(session, load_directory(PROJECT_ROOT / "questionnaires"))


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()


def bound_session(connection: Connection) -> Session:
    """A session whose commits become savepoints of the test's outer transaction."""
    return Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    """A session for arranging and checking data in the test's transaction."""
    with bound_session(connection) as session:
        yield session


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    return Settings(database_url="sqlite:///" + str(tmp_path / "unused.db"), run_report_jobs=False)


@pytest.fixture
def app(
    connection: Connection, engine: Engine, registry: QuestionnaireRegistry, app_settings: Settings
) -> FastAPI:
    """The application, with each request's session joined to the test's transaction."""
    application = create_app(app_settings, engine=engine, registry=registry)
    # Every session the app opens (the request's, and the audit's own for requests that
    # failed before they had one) joins the test's transaction.
    application.state.session_factory = lambda: bound_session(connection)
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def make_key(db: Session) -> Callable[..., str]:
    """Create an API key in the test database and return its token."""

    def make(role: str = "admin", orgs: list[uuid.UUID] | None = None) -> str:
        issued = create_key(db, Role(role), orgs or [])
        db.commit()
        return issued.token

    return make


@pytest.fixture
def make_organization(db: Session) -> Callable[..., Organization]:
    """Create an organization directly in the test database."""

    def make(name: str = "Lakeside Community Hospital", beds: int = 120) -> Organization:
        organization = Organization(
            name=name, type="community_hospital", licensed_beds=beds, state="MN"
        )
        db.add(organization)
        db.commit()
        return organization

    return make


@pytest.fixture
def admin_headers(make_key: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_key('admin')}"}


def bearer(token: str) -> dict[str, str]:
    """Authorization header for a key."""
    return {"Authorization": f"Bearer {token}"}


def example(name: str) -> dict[str, Any]:
    """An example answers file from examples/, as a dict."""
    import json

    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of each backend, for tests that need real commits."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url, drop = create_postgres_database(request.getfixturevalue("postgres_server"))
    try:
        yield url
    finally:
        drop()
