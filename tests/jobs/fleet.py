"""A PostgreSQL database with many assessments, and real `smm worker` processes on it.

Used by the worker fault tests and by bench/bench_workers.py: each organization gets its
own name and size, so every report has its own cache key and is really rendered.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from app.auth.models import Role
from app.auth.service import Principal, create_key
from app.config import PROJECT_ROOT
from app.db import session_factory, transaction
from app.intake.schemas import AnswerIn
from app.intake.service import create_assessment
from app.jobs.models import JobStatus, ReportJob
from app.organizations.models import Organization
from app.questionnaire.registry import publish
from tests.support.cli import environment_without_settings
from tests.support.questionnaires import loaded_questionnaires

SMM = str(Path(sys.executable).with_name("smm"))
RENDERED = re.compile(r"report job ([0-9a-f-]{36}) rendered by")


@dataclass
class Seeded:
    """An admin API key and the submitted assessments to request reports of."""

    admin_key: str
    assessment_ids: list[uuid.UUID]


def seed(engine: Engine, count: int) -> Seeded:
    """``count`` organizations, each with a submitted assessment, and an admin key."""
    factory = session_factory(engine)
    examples = ["community-hospital", "academic-medical-center"]
    documents = [
        json.loads((PROJECT_ROOT / "examples" / f"{name}.json").read_text()) for name in examples
    ]
    with transaction(factory) as session:
        registry = publish(session, loaded_questionnaires())
        key = create_key(session, Role.ADMIN, [])
        ids = []
        for number in range(count):
            organization = Organization(
                name=f"Member hospital {number:04d}",
                type="community_hospital",
                licensed_beds=25 + number,
                state="MN",
            )
            session.add(organization)
            session.flush()
            document = documents[number % len(documents)]
            assessment = create_assessment(
                session,
                registry,
                Principal(key.key.id, Role.ADMIN),
                organization_id=organization.id,
                questionnaire_id=document["questionnaire"]["id"],
                version=document["questionnaire"]["version"],
                status="submitted",
                items=[AnswerIn.model_validate(a) for a in document["answers"]],
            )
            ids.append(assessment.id)
    return Seeded(admin_key=key.token, assessment_ids=ids)


def worker_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of an `smm` subprocess on ``database_url``, quick to spot dead workers."""
    environment = environment_without_settings()
    environment.update(
        SMM_DATABASE_URL=database_url,
        SMM_WORKER_HEARTBEAT_SECONDS="0.5",
        SMM_WORKER_STALLED_SECONDS="3",
        SMM_JOB_RETRY_SECONDS="0",
        SMM_LOG_LEVEL="info",
        # The fleet tests queue bursts of jobs with one key: the per-key report budget
        # (tested on its own) must not ration them.
        SMM_REPORT_RATE_LIMIT="100000",
        SMM_REPORT_RATE_BURST="10000",
    )
    environment.update({f"SMM_{k.upper()}": v for k, v in settings.items()})
    return environment


@dataclass
class WorkerProcess:
    """One `smm worker` subprocess and its log file."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def name_suffix(self) -> str:
        """How the worker names itself in job rows: host:pid."""
        return f":{self.process.pid}"

    def rendered(self) -> list[str]:
        """Ids of the jobs this worker says it rendered, from its log."""
        return RENDERED.findall(self.log.read_text(errors="replace"))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Fleet:
    """Worker processes started for one test or benchmark run; stopped together."""

    environment: dict[str, str]
    folder: Path
    workers: list[WorkerProcess] = field(default_factory=list)

    def start(
        self, concurrency: int | None = 1, *, quick: bool = False, metrics_port: int | None = None
    ) -> WorkerProcess:
        """A worker; ``quick`` swaps WeasyPrint for a stand-in (tests of the queue only);
        ``concurrency`` None leaves `--concurrency` out (the default: one per CPU)."""
        log = self.folder / f"worker-{len(self.workers)}.log"
        command = [SMM] if not quick else [sys.executable, "-m", "tests.jobs.quick_worker"]
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [
                    *command,
                    "worker",
                    *(["--concurrency", str(concurrency)] if concurrency else []),
                    *(["--metrics-port", str(metrics_port)] if metrics_port else []),
                ],
                cwd=PROJECT_ROOT,
                env=self.environment,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(process, log)
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()

    def render_counts(self) -> Counter[str]:
        """How many times each job id was rendered, over every worker's log."""
        return Counter(job for worker in self.workers for job in worker.rendered())

    def logs(self) -> str:
        return "\n".join(w.log.read_text(errors="replace")[-3000:] for w in self.workers)


def wait_until_finished(
    engine: Engine, job_ids: list[uuid.UUID], seconds: float, fleet: Fleet | None = None
) -> dict[uuid.UUID, ReportJob]:
    """The jobs once every one is done or failed; AssertionError after ``seconds``."""
    factory = session_factory(engine)
    deadline = time.monotonic() + seconds
    while True:
        with transaction(factory) as session:
            jobs = {
                job.id: job
                for job in session.scalars(select(ReportJob).where(ReportJob.id.in_(job_ids)))
            }
            session.expunge_all()
        finished = [j for j in jobs.values() if j.status in (JobStatus.DONE, JobStatus.FAILED)]
        if len(finished) == len(job_ids):
            return jobs
        if time.monotonic() > deadline:
            states = Counter(j.status for j in jobs.values())
            logs = fleet.logs() if fleet else ""
            raise AssertionError(f"jobs unfinished after {seconds} s: {states}\n{logs}")
        time.sleep(0.2)
