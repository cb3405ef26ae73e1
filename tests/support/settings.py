"""The settings a TestClient test runs with: a key file of the test's own, no report jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.config import Settings

# Sign-in limits no console test reaches.
SIGN_IN_UNLIMITED = {"sign_in_rate_limit": 100_000, "sign_in_rate_burst": 100_000}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings on a database URL the test's app never opens (the test's engine serves it),
    with a secret key file under ``tmp_path``; ``overrides`` set any other field."""
    return Settings(
        database_url="sqlite:///" + str(tmp_path / "unused.db"),
        run_report_jobs=False,
        secret_key_file=tmp_path / "secret_key",
        **overrides,
    )
