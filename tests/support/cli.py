"""The `smm` command run as a real process, in an environment of the test's own."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from app.config import PROJECT_ROOT

SMM = [sys.executable, "-m", "app.cli"]


def run_smm(
    *args: str, env: dict[str, str], check: bool = True, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `smm ARGS...` to the end; with ``check``, fail showing its output unless it exits 0."""
    result = subprocess.run(
        [*SMM, *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"smm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def environment_without_settings() -> dict[str, str]:
    """This process's environment less every SMM_ setting, for a CLI run's own settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SMM_")}


def cli_environment(folder: Path) -> dict[str, str]:
    """The CLI's environment: no inherited settings, a SQLite file of its own in ``folder``."""
    environment = environment_without_settings()
    environment["SMM_DATABASE_URL"] = f"sqlite:///{folder / 'cli.db'}"
    environment["COLUMNS"] = "200"
    return environment


def migrated_environment(environment: dict[str, str]) -> dict[str, str]:
    """Run `smm migrate` in ``environment``; the same for an `smm serve` that skips migrating."""
    run_smm("migrate", env=environment)
    return {**environment, "SMM_MIGRATE_ON_START": "false"}


def sqlite_serve_environment(database: Path, **settings: str) -> dict[str, str]:
    """`smm serve` on a migrated SQLite file: no inherited settings, a fresh secret key,
    no report jobs, and ``settings`` (given by their SMM_ names)."""
    environment = environment_without_settings()
    environment.update(
        SMM_DATABASE_URL=f"sqlite:///{database}",
        SMM_SECRET_KEY=secrets.token_urlsafe(32),
        SMM_RUN_REPORT_JOBS="false",
        **settings,
    )
    return migrated_environment(environment)
