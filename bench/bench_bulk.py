"""`smm report --all` with 1 and with 2 render workers, and report batches by render slots.

    .venv/bin/python bench/bench_bulk.py [--organizations 40] [--rounds 1] [--workers 1 2]
    .venv/bin/python bench/bench_bulk.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

A throwaway SQLite database in a temporary directory is given ``--organizations``
organizations through the intake service, each with its own submitted assessment whose
answers differ from every other's (each mixes the two v1 examples' answers differently),
so every report has its own cache key and is really rendered. Each run starts from a copy
of that seeded database, so it has an empty report cache, and writes into an empty
directory: `smm report --all -o DIR --workers N` as a process of its own (``default`` runs
it without ``--workers``). Rounds alternate the order of the worker counts.

Printed per run: wall seconds, reports per minute, reports per minute per core (divided
by the render workers the run used, at most the CPUs), the CPU seconds the command and its
render processes used per report, the machine's busy share and the load average; then the
median speed-up of each worker count over the first (goal: 2 workers at least 1.8x 1).

With ``--database-url`` (a PostgreSQL server where databases may be created), report
batches too: for each slot count (``--slots``, default 1 2), a fresh database with the
same organizations, one `smm worker --concurrency N`, one warm-up report per slot, then one
``POST /v1/reports/batch`` of every organization through the API, timed until the last
job is done. ``--batch-local`` does the same on SQLite with the embedded runner
(``SMM_RENDER_WORKERS=N``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import (  # noqa: E402
    against_goal,
    code_note,
    machine_busy_seconds,
    machine_note,
    print_table,
)
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.auth.models import Role  # noqa: E402
from app.auth.service import Principal, create_key  # noqa: E402
from app.db import make_engine, session_factory, transaction  # noqa: E402
from app.intake.schemas import AnswerIn  # noqa: E402
from app.intake.service import create_assessment  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.organizations.models import Organization  # noqa: E402
from app.questionnaire.registry import publish  # noqa: E402
from tests.support.cli import environment_without_settings  # noqa: E402
from tests.support.questionnaires import loaded_questionnaires  # noqa: E402

SMM = [sys.executable, "-m", "app.cli"]
EXAMPLES = ("community-hospital", "academic-medical-center")
SUMMARY = re.compile(r"(\d+) rendered, (\d+) from cache, (\d+) failed, (\d+) skipped\.")
ORG_TYPES = ("community_hospital", "critical_access_hospital", "academic_medical_center")


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --- seeding -------------------------------------------------------------------------


def _example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "examples" / f"{name}.json").read_text())
    return document


def distinct_answer_sets(count: int) -> list[list[dict[str, Any]]]:
    """``count`` complete v1 answer sets, no two alike: each question's answer is taken from
    one example or the other (a follow-up question always from its parent's source), and a
    number answer is nudged by the set's number so that every set differs."""
    documents = [_example(name)["answers"] for name in EXAMPLES]
    by_source = [{a["question_id"]: a for a in answers} for answers in documents]
    follows = {  # show_if follow-up -> the question it depends on
        "pr_platforms_other": "pr_platforms",
        "pr_clinician_program": "pr_clinician_participation",
        "co_strategy_approved": "co_strategy",
        "se_incident_exercised": "se_incident_plan",
    }
    order = list(dict.fromkeys([a["question_id"] for a in documents[1]] + list(by_source[0])))
    sets, seen = [], set()
    number = 0
    while len(sets) < count:
        pick = random.Random(number)
        base = number % 2
        source = {q: (1 - base if pick.random() < 0.4 else base) for q in order if q not in follows}
        answers = []
        for question in order:
            chosen = source[follows.get(question, question)]
            answer = by_source[chosen].get(question)
            if answer is None:
                continue
            answer = copy.deepcopy(answer)
            if question == "pr_posts_per_week":
                answer["value"] = 1 + number % 30
            answers.append(answer)
        fingerprint = json.dumps(answers, sort_keys=True)
        if fingerprint not in seen:
            seen.add(fingerprint)
            sets.append(answers)
        number += 1
    return sets


def seed(engine: Engine, count: int) -> list[uuid.UUID]:
    """``count`` organizations, each with a distinct submitted v1 assessment; their ids."""
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        registry = publish(session, loaded_questionnaires())
        admin = create_key(session, Role.ADMIN, [])
        principal = Principal(admin.key.id, Role.ADMIN)
        ids = []
        for number, answers in enumerate(distinct_answer_sets(count)):
            organization = Organization(
                name=f"Member hospital {number:03d}",
                type=ORG_TYPES[number % len(ORG_TYPES)],
                licensed_beds=25 + 20 * number,
                state="MN",
            )
            session.add(organization)
            session.flush()
            create_assessment(
                session,
                registry,
                principal,
                organization_id=organization.id,
                questionnaire_id="hospital-social-media",
                version=1,
                status="submitted",
                items=[AnswerIn.model_validate(a) for a in answers],
            )
            ids.append(organization.id)
    return ids


# --- smm report --all ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    """One `smm report --all` run."""

    workers: str
    wall_seconds: float
    cpu_seconds: float
    machine_busy: float
    load_before: float
    rendered: int

    @property
    def per_minute(self) -> float:
        return self.rendered / self.wall_seconds * 60

    @property
    def cores(self) -> int:
        wanted = usable_cpus() if self.workers == "default" else int(self.workers)
        return min(wanted, usable_cpus())


def report_all(seeded: Path, folder: Path, workers: str, expected: int) -> Run:
    """`smm report --all` on a fresh copy of the seeded database into an empty directory."""
    database = folder / f"run-{secrets.token_hex(4)}.db"
    shutil.copyfile(seeded, database)
    output = folder / f"out-{database.stem}"
    environment = environment_without_settings()
    environment.update(SMM_DATABASE_URL=f"sqlite:///{database}", COLUMNS="200")
    command = [*SMM, "report", "--all", "-o", str(output)]
    if workers != "default":
        command += ["--workers", workers]
    load = os.getloadavg()[0]
    busy, cpu = machine_busy_seconds(), _children_cpu()
    started = time.perf_counter()
    finished = subprocess.run(
        command, env=environment, cwd=ROOT, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    reap_orphans()
    cpu = _children_cpu() - cpu
    machine = (machine_busy_seconds() - busy) / wall / (os.cpu_count() or 1)
    summary = SUMMARY.search(finished.stdout)
    written = len(list(output.glob("*.pdf")))
    if finished.returncode != 0 or summary is None or int(summary[1]) != expected:
        raise SystemExit(
            f"smm report --all --workers {workers} did not render all {expected} reports "
            f"(exit {finished.returncode}):\n{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}"
        )
    if written != expected:
        raise SystemExit(f"{written} PDF files written, {expected} expected")
    shutil.rmtree(output)
    database.unlink()
    return Run(workers, wall, cpu, machine, load, int(summary[1]))


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def become_subreaper() -> None:
    """Adopt this process's orphaned descendants (Linux), so their CPU time is counted.

    `smm report --all` renders in children of multiprocessing's fork server, which reaps
    them; the fork server outlives `smm` by a moment and would be reparented to init, its
    CPU time (and its children's) lost to the count. As a subreaper this process adopts
    it, and reaping it adds all of that to ``os.times().children_*``.
    """
    import ctypes

    pr_set_child_subreaper = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_orphans() -> None:
    """Wait for every adopted descendant to end (each adds its CPU time when reaped)."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a live process tree, with what its members' reaped children used."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text(encoding="ascii")
        except OSError:
            continue
        values = fields.rsplit(")", 1)[1].split()
        total += sum(int(v) for v in values[11:15])  # utime, stime, cutime, cstime
        pending.extend(children.get(current, []))
    return total / os.sysconf("SC_CLK_TCK")


def bench_report_all(folder: Path, organizations: int, rounds: int, counts: list[str]) -> None:
    seeded = folder / "seeded.db"
    engine = make_engine(f"sqlite:///{seeded}")
    seed(engine, organizations)
    engine.dispose()  # the last connection checkpoints the WAL: one self-contained file
    print(f"seeded {organizations} organizations with distinct submitted assessments")
    runs: list[Run] = []
    for number in range(rounds):
        order = counts if number % 2 == 0 else list(reversed(counts))
        for workers in order:
            run = report_all(seeded, folder, workers, organizations)
            runs.append(run)
            print(
                f"  round {number + 1}, --workers {workers}: {run.wall_seconds:.1f} s, "
                f"{run.per_minute:.2f} reports/min, {run.cpu_seconds / run.rendered:.2f} CPU s "
                f"per report, machine {run.machine_busy:.0%} busy, load {run.load_before:.2f} "
                "before",
                flush=True,
            )
    rows = []
    medians: dict[str, float] = {}
    for workers in counts:
        mine = [r for r in runs if r.workers == workers]
        rates = [r.per_minute for r in mine]
        medians[workers] = statistics.median(rates)
        cores = mine[0].cores
        rows.append(
            [
                workers,
                ", ".join(f"{r.wall_seconds:.1f}" for r in mine),
                ", ".join(f"{rate:.2f}" for rate in rates),
                f"{medians[workers] / cores:.2f} ({cores} core(s))",
                ", ".join(f"{r.cpu_seconds / r.rendered:.2f}" for r in mine),
                ", ".join(f"{r.machine_busy:.0%}" for r in mine),
                ", ".join(f"{r.load_before:.2f}" for r in mine),
            ]
        )
    print()
    print(f"smm report --all, {organizations} reports, {rounds} round(s)")
    print_table(
        [
            "--workers",
            "wall s",
            "reports/min",
            "reports/min/core (median)",
            "CPU s/report",
            "machine busy",
            "load before",
        ],
        rows,
    )
    first = counts[0]
    for workers in counts[1:]:
        ratio = medians[workers] / medians[first]
        goal = ""
        if first == "1" and workers in ("2", "default"):
            goal = "  " + against_goal(ratio, 1.8, higher_is_better=True)
        print(f"speed-up --workers {workers} / --workers {first}: {ratio:.2f}x{goal}")


# --- report batches ------------------------------------------------------------------


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A throwaway database on the server, dropped when the block ends."""
    name = f"h_bulk_{secrets.token_hex(5)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _batch(client: Any, headers: dict[str, str], ids: list[uuid.UUID]) -> list[uuid.UUID]:
    response = client.post(
        "/v1/reports/batch", json={"organization_ids": [str(i) for i in ids]}, headers=headers
    )
    if response.status_code != 202:
        raise SystemExit(f"POST /v1/reports/batch: {response.status_code} {response.text}")
    body = response.json()
    if body["errors"] or body["skipped"]:
        raise SystemExit(f"the batch left organizations out: {body['errors'] or body['skipped']}")
    return [uuid.UUID(job["id"]) for job in body["jobs"]]


def batch_run(url: str, folder: Path, slots: int, organizations: int, *, local: bool) -> Run:
    """A warm-up job per slot, then a batch of ``organizations`` reports through the API."""
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    from tests.jobs.fleet import Fleet, wait_until_finished, worker_environment

    engine = make_engine(url)
    ids = seed(engine, organizations + slots)
    with transaction(session_factory(engine)) as session:
        token = create_key(session, Role.ADMIN, []).token
    headers = {"Authorization": f"Bearer {token}"}
    unrationed = {"report_rate_limit": 100_000, "report_rate_burst": 10_000}
    fleet = Fleet(worker_environment(url, worker_heartbeat_seconds="1"), folder)
    if local:
        settings = Settings(database_url=url, render_workers=slots, **unrationed)
    else:
        settings = Settings(database_url=url, **unrationed)
        fleet.start(concurrency=slots)
    try:
        with TestClient(create_app(settings)) as client:
            warm = _batch(client, headers, ids[:slots])
            wait_until_finished(engine, warm, seconds=900, fleet=fleet)
            pid = os.getpid() if local else fleet.workers[0].process.pid
            load = os.getloadavg()[0]
            busy, cpu = machine_busy_seconds(), tree_cpu_seconds(pid)
            started = time.perf_counter()
            jobs = _batch(client, headers, ids[slots:])
            done = wait_until_finished(engine, jobs, seconds=24 * 3600, fleet=fleet)
            wall = time.perf_counter() - started
            cpu = tree_cpu_seconds(pid) - cpu
            machine = (machine_busy_seconds() - busy) / wall / (os.cpu_count() or 1)
    finally:
        fleet.stop()
        engine.dispose()
    failed = [job.error for job in done.values() if job.status != "done"]
    if failed:
        raise SystemExit(f"{len(failed)} report job(s) failed: {failed[:3]}")
    return Run(str(slots), wall, cpu, machine, load, len(jobs))


def bench_batches(
    admin_url: str | None, folder: Path, organizations: int, slot_counts: list[int], local: bool
) -> None:
    runs = []
    for slots in slot_counts:
        if local:
            database = folder / f"batch-{slots}.db"
            run = batch_run(f"sqlite:///{database}", folder, slots, organizations, local=True)
        else:
            assert admin_url is not None
            with postgres_database(admin_url) as url:
                run = batch_run(url, folder, slots, organizations, local=False)
        runs.append(run)
        print(
            f"  batch, {slots} slot(s): {run.wall_seconds:.1f} s, {run.per_minute:.2f} "
            f"reports/min, {run.cpu_seconds / run.rendered:.2f} CPU s per report, machine "
            f"{run.machine_busy:.0%} busy, load {run.load_before:.2f} before",
            flush=True,
        )
    where = "embedded runner, SQLite" if local else "one `smm worker`, PostgreSQL"
    print()
    print(f"POST /v1/reports/batch of {organizations} organizations, {where}")
    print_table(
        ["slots", "wall s", "reports/min", "reports/min/core", "CPU s/report", "machine busy"],
        [
            [
                r.workers,
                f"{r.wall_seconds:.1f}",
                f"{r.per_minute:.2f}",
                f"{r.per_minute / r.cores:.2f}",
                f"{r.cpu_seconds / r.rendered:.2f}",
                f"{r.machine_busy:.0%}",
            ]
            for r in runs
        ],
    )
    for run in runs[1:]:
        ratio = run.per_minute / runs[0].per_minute
        goal = against_goal(ratio, 1.8, higher_is_better=True) if run.workers == "2" else ""
        print(f"speed-up {run.workers} slots / {runs[0].workers}: {ratio:.2f}x  {goal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--organizations", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--workers",
        nargs="+",
        default=["1", "2"],
        help="--workers values to compare (`default`: no --workers)",
    )
    parser.add_argument("--database-url", help="PostgreSQL server for the batch benchmark")
    parser.add_argument("--slots", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--batch-local", action="store_true", help="batches on SQLite, embedded runner"
    )
    parser.add_argument("--no-report-all", action="store_true", help="batches only")
    arguments = parser.parse_args()
    print(machine_note())
    print(code_note())
    print(f"CPUs this process may use: {usable_cpus()}")
    become_subreaper()
    with tempfile.TemporaryDirectory(prefix="smm-bench-bulk-") as name:
        folder = Path(name)
        if not arguments.no_report_all:
            bench_report_all(folder, arguments.organizations, arguments.rounds, arguments.workers)
        if arguments.database_url:
            bench_batches(
                arguments.database_url,
                folder,
                arguments.organizations,
                arguments.slots,
                local=False,
            )
        if arguments.batch_local:
            bench_batches(None, folder, arguments.organizations, arguments.slots, local=True)
    print(machine_note())


if __name__ == "__main__":
    main()
