"""Fixtures of the API tests that need a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn

from app.auth.models import Role
from app.auth.service import create_key
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, session_factory, transaction
from app.main import create_app
from app.migrate import upgrade


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
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    while not served.started:
        assert thread.is_alive(), "uvicorn did not start"
        thread.join(0.05)
    port = served.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", token
    finally:
        served.should_exit = True
        thread.join(30)
        engine.dispose()
