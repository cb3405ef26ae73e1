"""`smm report --all` in parallel, as a real process with a stand-in for WeasyPrint.

The stand-in (``tests.cli.standin_report``) keeps everything else real: the database, the
render pool's processes with their limits, the report cache, the files and the progress.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.auth.models import Role
from app.auth.service import Principal, create_key
from app.config import PROJECT_ROOT, usable_cpus
from app.db import make_engine, session_factory, transaction
from app.intake.schemas import AnswerIn
from app.intake.service import create_assessment
from app.migrate import upgrade
from app.organizations.models import Organization
from app.questionnaire.registry import publish
from tests.conftest import example
from tests.support.cli import cli_environment
from tests.support.questionnaires import loaded_questionnaires

STANDIN = [sys.executable, "-m", "tests.cli.standin_report"]


def arrange(url: str, names: list[str]) -> None:
    """Organizations, each with the community-hospital example submitted."""
    engine = make_engine(url)
    upgrade(engine)
    items = [AnswerIn.model_validate(a) for a in example("community-hospital")["answers"]]
    with transaction(session_factory(engine)) as session:
        registry = publish(session, loaded_questionnaires())
        admin = create_key(session, Role.ADMIN, [])
        for name in names:
            organization = Organization(
                name=name, type="community_hospital", licensed_beds=140, state="MN"
            )
            session.add(organization)
            session.flush()
            create_assessment(
                session,
                registry,
                Principal(admin.key.id, Role.ADMIN),
                organization_id=organization.id,
                questionnaire_id="hospital-social-media",
                version=1,
                status="submitted",
                items=items,
            )
    engine.dispose()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = cli_environment(tmp_path)
    marks = tmp_path / "marks"
    marks.mkdir()
    environment["STANDIN_MARKS"] = str(marks)
    return environment


def run(
    env: dict[str, str], *args: str, cpus: set[int] | None = None
) -> subprocess.CompletedProcess[str]:
    def pin() -> None:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)

    return subprocess.run(
        [*STANDIN, "report", "--all", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=pin,
    )


def renders(env: dict[str, str]) -> list[tuple[int, float, float]]:
    """(render process id, start, end) of each finished stand-in render."""
    spans = []
    for mark in Path(env["STANDIN_MARKS"]).iterdir():
        fields = mark.read_text().split()
        if len(fields) == 3:
            spans.append((int(fields[0]), float(fields[1]), float(fields[2])))
    return spans


def most_at_once(spans: list[tuple[int, float, float]]) -> int:
    events = sorted([(s, 1) for _, s, _ in spans] + [(e, -1) for _, _, e in spans])
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def test_one_failed_report_is_reported_and_the_others_are_written(env, tmp_path):
    arrange(env["SMM_DATABASE_URL"], ["Alpha Hospital", "Broken Bay Hospital", "Cedar Clinic"])
    out = tmp_path / "reports"

    result = run(env, "-o", str(out), "--workers", "2")

    assert result.returncode == 1
    assert "2 rendered, 0 from cache, 1 failed, 0 skipped." in result.stdout
    assert "this document cannot be laid out" in result.stdout
    names = sorted(p.name.rsplit("-", 5)[0] for p in out.iterdir())
    assert names == ["alpha-hospital", "cedar-clinic"]
    assert all(p.read_bytes().startswith(b"%PDF") for p in out.iterdir())


def test_without_a_terminal_each_report_gets_one_plain_progress_line(env, tmp_path):
    arrange(env["SMM_DATABASE_URL"], ["Alpha Hospital", "Broken Bay Hospital", "Cedar Clinic"])

    result = run(env, "-o", str(tmp_path / "reports"))

    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 3, result.stderr
    assert [line.split(" ", 1)[0] for line in lines] == ["1/3", "2/3", "3/3"]
    assert sum(" rendered: " in line for line in lines) == 2
    failed = [line for line in lines if " failed: " in line]
    assert len(failed) == 1
    assert "Broken Bay Hospital" in failed[0]
    assert "this document cannot be laid out" in failed[0]
    assert all("elapsed 0:" in line and "ETA " in line for line in lines)
    assert lines[-1].endswith("ETA 0:00:00")
    assert "\x1b" not in result.stderr


@pytest.mark.skipif(usable_cpus() < 2, reason="needs two CPUs to render two at once")
def test_by_default_one_report_renders_per_cpu_this_process_may_use(env, tmp_path):
    names = [f"Member hospital {n}" for n in range(4)]
    env = {**env, "STANDIN_RENDER_SECONDS": "1.5"}
    # Each run on a database of its own: the second must not find the first's reports cached.
    second = {**env, "SMM_DATABASE_URL": f"sqlite:///{tmp_path / 'second.db'}"}
    arrange(env["SMM_DATABASE_URL"], names)
    arrange(second["SMM_DATABASE_URL"], names)

    pinned = run(env, "-o", str(tmp_path / "one"), cpus={min(os.sched_getaffinity(0))})
    assert pinned.returncode == 0, pinned.stderr
    one_cpu = renders(env)
    for mark in Path(env["STANDIN_MARKS"]).iterdir():
        mark.unlink()
    free = run(second, "-o", str(tmp_path / "all"))
    assert free.returncode == 0, free.stderr
    every_cpu = renders(env)

    assert len(one_cpu) == len(every_cpu) == 4
    assert most_at_once(one_cpu) == 1
    assert len({pid for pid, _, _ in one_cpu}) == 1  # one render process, reused
    assert most_at_once(every_cpu) == min(usable_cpus(), 4)


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, pending = set(), [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize(
    "stop",
    [
        # A terminal's Ctrl-C: SIGINT to the whole foreground process group.
        pytest.param(lambda process: os.killpg(process.pid, signal.SIGINT), id="ctrl-c"),
        # A supervisor's stop: SIGTERM to the command alone.
        pytest.param(lambda process: process.terminate(), id="sigterm"),
    ],
)
def test_stopping_the_run_ends_it_at_once_leaving_no_file_and_no_process(env, tmp_path, stop):
    arrange(env["SMM_DATABASE_URL"], [f"Member hospital {n}" for n in range(6)])
    out = tmp_path / "reports"
    env = {**env, "STANDIN_RENDER_SECONDS": "60"}
    marks = Path(env["STANDIN_MARKS"])
    # Its own process group, as a terminal's foreground job.
    process = subprocess.Popen(
        [*STANDIN, "report", "--all", "-o", str(out), "--workers", "2"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(list(marks.iterdir())) == 2
        family = _descendants(process.pid)
        assert len(family) >= 3  # the fork server and two render processes

        started = time.monotonic()
        stop(process)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    assert time.monotonic() - started < 15  # not the minute the renders would take
    assert process.returncode == 130
    assert "Stopped: 0 of 6 reports written" in stderr
    assert "Traceback" not in stderr
    assert list(out.iterdir()) == []  # nothing written, not even a partial file
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in family) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in family if _alive(pid)]
