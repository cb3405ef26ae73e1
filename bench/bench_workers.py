"""Report jobs per second with 1 and with 2 `smm worker` processes on PostgreSQL.

    .venv/bin/python bench/bench_workers.py [--jobs 200] [--database-url postgresql://...]

For each worker count, a fresh database on the server (default: SMM_TEST_DATABASE_URL, or
postgresql://postgres@127.0.0.1:5432/postgres) is migrated and given ``--jobs``
organizations, each a different size with its own submitted assessment, so every report
has its own cache key and is really rendered (WeasyPrint, the full 16-page report). The
workers (`smm worker --concurrency 1` each) are started and their render processes warmed
with one report each; then all jobs are put on the queue in one transaction and the
clock runs until the last is done. Printed: jobs/s for each count and the ratio (goal: at
least 1.8 with 2 workers on a 2-core machine), with the machine's CPU use meanwhile, since
other work on a shared machine takes cores the workers would use.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import (  # noqa: E402
    against_goal,
    code_note,
    machine_busy_seconds,
    machine_note,
    print_table,
)
from sqlalchemy import Engine  # noqa: E402

from app.config import Settings  # noqa: E402
from app.db import make_engine, session_factory, transaction  # noqa: E402
from app.intake.models import Assessment  # noqa: E402
from app.jobs import queue, service  # noqa: E402
from app.jobs.models import JobPriority  # noqa: E402
from app.main import load_registry  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.reports.inputs import PlanRequest, cache_key, gather_inputs  # noqa: E402
from tests.conftest import create_postgres_database  # noqa: E402
from tests.jobs.fleet import Fleet, seed, wait_until_finished, worker_environment  # noqa: E402


def enqueue_all(
    engine: Engine, database_url: str, assessment_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """A report job per assessment, each put on the queue, all in one transaction."""
    registry = load_registry(Settings(database_url=database_url), engine)
    app = queue.client_app(database_url)
    ids = []
    with transaction(session_factory(engine)) as session:
        for assessment_id in assessment_ids:
            assessment = session.get_one(Assessment, assessment_id)
            inputs = gather_inputs(session, registry, assessment)
            job = service.enqueue(
                session,
                assessment_id=assessment_id,
                organization_id=assessment.organization_id,
                options=PlanRequest().to_dict(),
                cache_key=cache_key(inputs, PlanRequest()),
                requested_by=None,
            )
            queue.dispatch(app, session, job.id, JobPriority(job.priority))
            ids.append(job.id)
    return ids


def run(admin_url: str, workers: int, jobs: int, folder: Path) -> tuple[float, float]:
    """(jobs per second, machine CPU busy fraction) for ``jobs`` reports on ``workers``."""
    url, drop = create_postgres_database(admin_url)
    engine = make_engine(url)
    fleet = Fleet(worker_environment(url, worker_heartbeat_seconds="1"), folder)
    try:
        upgrade(engine)
        seeded = seed(engine, jobs + workers)
        for _ in range(workers):
            fleet.start()
        # Warm-up: one report per worker starts its render process and fills its caches.
        warm = enqueue_all(engine, url, seeded.assessment_ids[:workers])
        wait_until_finished(engine, warm, seconds=600, fleet=fleet)
        busy, started = machine_busy_seconds(), time.perf_counter()
        measured = enqueue_all(engine, url, seeded.assessment_ids[workers:])
        done = wait_until_finished(engine, measured, seconds=24 * 3600, fleet=fleet)
        elapsed = time.perf_counter() - started
        cpu = (machine_busy_seconds() - busy) / elapsed / (os.cpu_count() or 1)
        failed = [j.error for j in done.values() if j.status != "done"]
        if failed:
            raise SystemExit(f"{len(failed)} report job(s) failed: {failed[:3]}")
        return jobs / elapsed, cpu
    finally:
        fleet.stop()
        engine.dispose()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "SMM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server where databases may be created",
    )
    arguments = parser.parse_args()
    import tempfile

    print(machine_note())
    print(code_note())
    rows, rates = [], {}
    with tempfile.TemporaryDirectory(prefix="smm-bench-workers-") as folder:
        for workers in (1, 2):
            rate, cpu = run(arguments.database_url, workers, arguments.jobs, Path(folder))
            rates[workers] = rate
            rows.append(
                [f"{workers} worker(s)", f"{arguments.jobs}", f"{rate:.3f} jobs/s", f"{cpu:.0%}"]
            )
            print(f"  {workers} worker(s): {rate:.3f} jobs/s, machine CPU {cpu:.0%}", flush=True)
    print()
    print_table(["workers", "jobs", "throughput", "machine CPU busy"], rows)
    ratio = rates[2] / rates[1]
    print(f"2 workers / 1 worker: {ratio:.2f}x  {against_goal(ratio, 1.8, higher_is_better=True)}")
    print(machine_note())


if __name__ == "__main__":
    main()
