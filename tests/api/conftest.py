"""Fixtures of the API tests that need a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.auth.models import Role
from app.auth.service import create_key
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, session_factory, transaction
from app.main import create_app
from app.migrate import upgrade
from tests.support.servers import served_in_thread


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real uvicorn on a fresh SQLite database, rendering report jobs; its URL and a key."""
    where = tmp_path_factory.mktemp("served")
    url = f"sqlite:///{where / 'smm.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        token = create_key(session, Role.ADMIN, []).token
    settings = Settings(
        database_url=url,
        run_report_jobs=True,
        secret_key_file=where / "secret",
        questionnaires_dir=PROJECT_ROOT / "questionnaires",
    )
    try:
        with served_in_thread(create_app(settings)) as base:
            yield base, token
    finally:
        engine.dispose()
