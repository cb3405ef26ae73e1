"""The Dockerfile and compose.yaml, checked as far as a machine without Docker can.

The image's pip steps are replayed in a fresh virtualenv from the same lock, with the files
its COPY lines copy, and the service it builds is started and probed with the image's own
HEALTHCHECK. The commands the image and compose run must exist, every SMM_ variable they
set must be a setting with a valid value, and the system packages must be the ones
scripts/system-deps installs for WeasyPrint.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
import yaml

from app.cli import cli
from app.config import PROJECT_ROOT, Settings
from tests.support.cli import environment_without_settings
from tests.support.servers import free_port

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
COMPOSE = PROJECT_ROOT / "compose.yaml"
VENV = "/opt/venv"
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - what a server in a container binds to
IMAGE_REQUIREMENTS = "/tmp/requirements.txt"  # noqa: S108 - a path inside the build stage


@dataclass
class Stage:
    """One FROM ... AS name stage: its instructions, in order, continuation lines joined."""

    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for instruction, args in self.instructions if instruction == keyword]


def parse_dockerfile(text: str) -> list[Stage]:
    """The stages of a Dockerfile (enough of the syntax for ours: comments, continuations)."""
    stages: list[Stage] = []
    logical = re.sub(r"\\\n(?:\s*#[^\n]*\n)*", " ", text)  # join continued lines
    for line in logical.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append(Stage(args.split(" AS ")[-1].strip() if " AS " in args else args))
        elif stages:
            stages[-1].instructions.append((instruction, args.strip()))
    return stages


STAGES = {stage.name: stage for stage in parse_dockerfile(DOCKERFILE.read_text())}
RUNTIME = STAGES["runtime"]


def exec_form(args: str) -> list[str]:
    """A CMD or HEALTHCHECK CMD in exec (JSON) form."""
    command: list[str] = json.loads(args)
    return command


def image_environment() -> dict[str, str]:
    """The runtime stage's ENV, as ``KEY=value`` pairs."""
    environment = {}
    for args in RUNTIME.all("ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            environment[key] = value
    return environment


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def with_defaults(value: str) -> str:
    """A compose value with each ``${NAME:-default}`` replaced by its default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def settings_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in [n for n in os.environ if n.startswith("SMM_")]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings()


# --- The install steps, replayed ---------------------------------------------------------


def copy_sources(stage: Stage, app_dir: Path) -> None:
    """Do what the stage's COPY lines (from the build context) do, into ``app_dir``."""
    for args in stage.all("COPY"):
        if args.startswith("--from"):
            continue
        *sources, destination = shlex.split(args)
        target = app_dir / destination
        for source in sources:
            path = PROJECT_ROOT / source
            assert path.exists(), f"the Dockerfile copies {source}, which does not exist"
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / path.name)


def replay(stage: Stage, app_dir: Path, venv: Path) -> None:
    """Run the stage's RUN lines that build the virtualenv, in ``app_dir``, into ``venv``."""
    python = shlex.quote(sys.executable)
    for args in stage.all("RUN"):
        command = re.sub(r"--mount=\S+\s+", "", args).replace(VENV, str(venv))
        command = re.sub(r"(^|&&\s*)python ", rf"\g<1>{python} ", command)
        command = command.replace(IMAGE_REQUIREMENTS, str(app_dir / "requirements.txt"))
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=app_dir,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, f"RUN {command}\n{done.stdout}\n{done.stderr}"


def test_the_image_install_steps_build_a_service_that_passes_its_healthcheck(tmp_path):
    app_dir, venv, state = tmp_path / "app", tmp_path / "venv", tmp_path / "state"
    app_dir.mkdir()
    state.mkdir()
    copy_sources(STAGES["build"], app_dir)
    replay(STAGES["build"], app_dir, venv)
    copy_sources(RUNTIME, app_dir)
    port = free_port()
    environment = {
        **environment_without_settings(),
        **{k: v for k, v in image_environment().items() if k.startswith("SMM_")},
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "SMM_DATABASE_URL": f"sqlite:///{state / 'smm.db'}",
        "SMM_SECRET_KEY_FILE": str(state / "secret_key"),
        "SMM_PORT": str(port),
        "SMM_MIGRATE_ON_START": "false",
    }
    smm = str(venv / "bin" / "smm")

    listing = subprocess.run(
        [smm, "--help"], env=environment, capture_output=True, text=True, timeout=60, check=True
    )
    migrated = subprocess.run(
        [smm, "migrate"], env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    command = exec_form(RUNTIME.all("CMD")[0])
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(venv / "bin" / command[0]), *command[1:]],
            env=environment,
            cwd=tmp_path,  # not the repository: the venv's own copy of the code must serve
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        health = healthcheck_until_healthy(venv, environment, server, log)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).json()
        report = httpx.get(f"http://127.0.0.1:{port}/v1/questionnaires", timeout=10)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert {"serve", "migrate"} <= set(re.findall(r"^│ (\w+)", listing.stdout, re.M))
    assert health.returncode == 0
    on_disk = len(list((PROJECT_ROOT / "questionnaires").glob("*/v*.yaml")))
    assert ready == {"status": "ok", "database": "ok", "questionnaires": on_disk}
    assert report.status_code == 401  # served by the copy in app_dir, with auth in place
    assert all(json.loads(line)["level"] for line in log.read_text().splitlines() if line)


def healthcheck_until_healthy(
    venv: Path, environment: dict[str, str], server: subprocess.Popen[bytes], log: Path
) -> subprocess.CompletedProcess[str]:
    """Run the image's HEALTHCHECK command until it passes (as Docker's start period does)."""
    healthcheck = next(a for a in RUNTIME.all("HEALTHCHECK"))
    command = exec_form(healthcheck[healthcheck.index("CMD ") + 4 :])
    command[0] = str(venv / "bin" / command[0])
    deadline = time.monotonic() + 90
    while True:
        assert server.poll() is None, f"the server exited:\n{log.read_text()}"
        check = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=10, check=False
        )
        if check.returncode == 0 or time.monotonic() > deadline:
            return check
        time.sleep(0.5)


# --- What the image and compose name must exist -------------------------------------------


def smm_commands() -> set[str]:
    group = typer.main.get_command(cli)
    return set(group.commands)  # type: ignore[attr-defined]


def named_commands() -> dict[str, list[str]]:
    """Every command the image and compose's services run, by where it is named."""
    named = {"Dockerfile CMD": exec_form(RUNTIME.all("CMD")[0])}
    for name, service in compose()["services"].items():
        if "command" in service:
            named[f"compose service {name}"] = service["command"]
    return named


def test_every_command_the_image_and_compose_run_is_an_smm_command():
    named = named_commands()

    assert {tuple(c) for c in named.values()} >= {
        ("smm", "serve", "--host", ANY_ADDRESS),
        ("smm", "migrate"),
        ("smm", "worker"),
    }
    for where, command in named.items():
        assert command[0] == "smm", where
        assert command[1] in smm_commands(), f"{where} runs `smm {command[1]}`, which is missing"


def test_compose_runs_postgres_migrations_once_then_the_api_and_two_workers():
    services = compose()["services"]

    assert set(services) == {"postgres", "migrate", "api", "worker"}
    assert services["postgres"]["healthcheck"]["test"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "worker"):
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["api"]["ports"] == ["8000:8000"]


@pytest.mark.parametrize("service", ["migrate", "api", "worker"])
def test_compose_sets_only_settings_that_exist_with_values_they_accept(service, monkeypatch):
    environment = {
        k: with_defaults(str(v)) for k, v in compose()["services"][service]["environment"].items()
    }
    postgres = compose()["services"]["postgres"]["environment"]

    unknown = [
        name
        for name in environment
        if name.startswith("SMM_")
        and name.removeprefix("SMM_").lower() not in Settings.model_fields
    ]
    settings = settings_from(environment, monkeypatch)

    assert unknown == []
    assert settings.log_format == "json"
    user, password, database = (
        postgres["POSTGRES_USER"],
        with_defaults(postgres["POSTGRES_PASSWORD"]),
        postgres["POSTGRES_DB"],
    )
    assert settings.database_url == f"postgresql://{user}:{password}@postgres:5432/{database}"
    if service == "api":
        assert settings.migrate_on_start is False  # the migrate service does it, once
        assert settings.port == 8000


def test_the_image_sets_only_settings_that_exist_with_values_they_accept(monkeypatch):
    environment = {k: v for k, v in image_environment().items() if k.startswith("SMM_")}

    settings = settings_from(environment, monkeypatch)

    assert all(n.removeprefix("SMM_").lower() in Settings.model_fields for n in environment)
    assert settings.host == ANY_ADDRESS
    assert settings.log_format == "json"
    assert settings.database_url.startswith("sqlite:////var/lib/smm/")


# --- The runtime image itself -------------------------------------------------------------


def system_deps_packages() -> set[str]:
    script = (PROJECT_ROOT / "scripts" / "system-deps").read_text()
    return set(re.findall(r"missing\+=\(([\w.+-]+)\)", script))


def test_the_image_installs_the_system_packages_scripts_system_deps_names():
    installed: set[str] = set()
    for args in RUNTIME.all("RUN"):
        for command in args.split("&&"):
            words = command.split()
            if words[:2] == ["apt-get", "install"]:
                installed |= {w for w in words[2:] if not w.startswith("-")}

    assert installed == system_deps_packages()
    assert "fonts-dejavu-core" in installed
    assert "fonts-noto-color-emoji" in installed  # emoji in answers and notes


def test_the_image_runs_as_a_user_without_privileges_and_serves_by_default():
    users = RUNTIME.all("USER")

    assert users
    assert users[-1] not in ("root", "0")
    assert exec_form(RUNTIME.all("CMD")[0]) == ["smm", "serve", "--host", ANY_ADDRESS]
    assert "/healthz" in RUNTIME.all("HEALTHCHECK")[0]
    assert list(STAGES) == ["build", "runtime"]
    assert all(
        s.startswith("python:3.1")
        for s in re.findall(r"PYTHON_IMAGE=(\S+)", DOCKERFILE.read_text())
    )


def docker_ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context (last match wins)."""
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(
            fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, pattern.removeprefix("**/"))
            for p in prefixes
        ):
            ignored = not negated
    return ignored


def test_the_build_context_holds_what_the_image_copies_and_no_local_state():
    patterns = [
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [
        source
        for stage in STAGES.values()
        for args in stage.all("COPY")
        if not args.startswith("--from")
        for source in shlex.split(args)[:-1]
    ]

    assert [s for s in copied if docker_ignored(s, patterns)] == []
    for local in (
        ".venv/bin/python",
        "var/secret_key",
        "var/smm.db",
        ".git/config",
        "tests/conftest.py",
    ):
        assert docker_ignored(local, patterns), local
    assert docker_ignored("app/__pycache__/main.cpython-311.pyc", patterns)
