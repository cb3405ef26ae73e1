"""`smm serve`: what it hands uvicorn's supervisor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli import server
from app.config import get_settings


@pytest.fixture
def uvicorn_calls(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[list[dict[str, Any]]]:
    """`smm serve` on a fresh SQLite database, with uvicorn.run recording its arguments."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("SMM_DATABASE_URL", f"sqlite:///{tmp_path / 'smm.db'}")
    monkeypatch.setenv("SMM_SECRET_KEY_FILE", str(tmp_path / "secret_key"))
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_worker_processes_short_of_cpu_are_not_replaced_after_uvicorns_five_seconds(
    uvicorn_calls: list[dict[str, Any]],
) -> None:
    server.serve(host=None, port=None, workers=2)
    (call,) = uvicorn_calls
    assert call["workers"] == 2
    assert call["timeout_worker_healthcheck"] == 60


def test_the_health_check_wait_is_a_setting(
    uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMM_WORKER_HEALTHCHECK_SECONDS", "15")
    get_settings.cache_clear()
    server.serve(host=None, port=None, workers=None)
    assert uvicorn_calls[0]["timeout_worker_healthcheck"] == 15


def test_an_idle_connection_outlasts_a_persons_pause_between_pages(
    uvicorn_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server.serve(host=None, port=None, workers=None)
    assert uvicorn_calls[0]["timeout_keep_alive"] == 75  # uvicorn's own 5 s is shorter

    monkeypatch.setenv("SMM_KEEP_ALIVE_SECONDS", "20")
    get_settings.cache_clear()
    server.serve(host=None, port=None, workers=None)
    assert uvicorn_calls[1]["timeout_keep_alive"] == 20


def test_a_setting_out_of_range_ends_the_command_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    monkeypatch.setenv("SMM_RENDER_NICENESS", "25")
    monkeypatch.setenv("SMM_KEEP_ALIVE_SECONDS", "soon")
    monkeypatch.setattr("sys.argv", ["smm", "serve"])
    get_settings.cache_clear()

    with pytest.raises(SystemExit) as ended:
        main()

    assert ended.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "smm: SMM_KEEP_ALIVE_SECONDS: Input should be a valid integer, unable to parse "
        "string as an integer (got 'soon')",
        "smm: SMM_RENDER_NICENESS: Input should be less than or equal to 19 (got '25')",
    ]
