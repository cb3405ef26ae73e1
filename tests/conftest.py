"""Shared fixtures: a migrated database per backend, a transaction per test, API clients.

Every database test runs on SQLite, and on PostgreSQL too when SMM_TEST_DATABASE_URL
points at a server (CI sets it; then an unreachable server fails the run). Each run, and
under xdist each worker, creates its own SQLite file (under its own tmp_path_factory) and
its own randomly named PostgreSQL database, and drops that at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import create_key
from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from app.organizations.models import Organization
from app.questionnaire.registry import QuestionnaireRegistry, publish
from tests.support.browser import launched_chromium
from tests.support.cli import cli_environment
from tests.support.databases import (
    POSTGRES_ENV,
    create_postgres_database,
    migrated_engine,
    postgres_admin_url,
    postgres_database,
)
from tests.support.questionnaires import loaded_questionnaires

# Each xdist worker loads these profiles itself; the example database (.hypothesis/) is
# shared by the workers, which is safe: every test has its own key in it, and examples are
# written to a temporary file and renamed into place.
settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

EXAMPLES = PROJECT_ROOT / "examples"

# Modules whose tests run on one xdist worker, one after another (scripts/test uses
# --dist loadgroup), and why:
# - browser: each module launches chromium (and the web tests `smm serve`) once for all its
#   tests; one chromium at a time also keeps two of them from starving a 2-core machine.
# - timing: the load test and the worker fault tests measure waits, heartbeats and stalls
#   of real processes; two of them side by side would be testing the machine.
# - one group per module: a module-scoped server, generated client or rendered report
#   that all its tests share, built once instead of once per worker.
XDIST_GROUPS = {
    "tests/web/test_browser.py": "browser",
    "tests/fhir/test_lforms.py": "browser",
    "tests/api/test_openapi_docs_browser.py": "browser",
    "tests/test_load.py": "timing",
    "tests/jobs/test_workers.py": "timing",
    "tests/jobs/test_worker_cli.py": "timing",
    "tests/api/test_openapi_client.py": "openapi_client",
    "tests/reports/test_v2_report.py": "v2_report",
    "tests/reports/test_long_text.py": "long_text",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests of the modules in XDIST_GROUPS with their xdist group."""
    for item in items:
        group = XDIST_GROUPS.get(item.path.relative_to(config.rootpath).as_posix())
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


__all__ = ["create_postgres_database", "postgres_admin_url"]  # also imported from here

# The fake OpenID Connect provider's fixtures (oidc_provider), for every test directory.
pytest_plugins = ["tests.support.oidc"]


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of the test PostgreSQL server; skips when none is configured."""
    url = postgres_admin_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}=postgresql://user@host:port/db")
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database of each backend for this test run."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    with postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The test database, migrated to head.

    More than the service's one SQLite connection: a test holds one for its transaction
    while the code under test may open another (readiness probes, runners).
    """
    with migrated_engine(database_url, pool_size=5, max_overflow=5) as engine:
        yield engine


@pytest.fixture(scope="session")
def registry(engine: Engine) -> QuestionnaireRegistry:
    """The repository's questionnaires, published in the test database."""
    with Session(engine) as session, session.begin():
        return publish(session, loaded_questionnaires())


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
def env(tmp_path: Path) -> dict[str, str]:
    """The `smm` command's environment: no inherited settings, a SQLite file of its own."""
    return cli_environment(tmp_path)


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
    with postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def fresh_postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test alone, dropped after it."""
    with postgres_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, one per test module (skipped or failed where it is missing)."""
    with launched_chromium() as chromium:
        yield chromium
