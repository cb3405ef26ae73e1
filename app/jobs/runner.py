"""The embedded runner: a thread that claims queued jobs and renders them in a pool.

Each API process runs one, and with it, when an SMTP server is configured, the mail
sender (``app.mail.sender``): a sibling thread that delivers queued e-mails. Claims are
atomic in the database, so several processes (or machines) can share the queue; a job
left running by a process that died is re-queued once it is older than any render could be.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import transaction
from app.errors import AppError
from app.intake.models import Assessment
from app.jobs import service
from app.jobs.models import ReportJob
from app.mail.sender import MailSender
from app.observability.logs import log_context
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.inputs import PlanRequest
from app.reports.sandbox import RenderFailed
from app.reports.service import (
    OwnTransactions,
    ReportOrder,
    SandboxedRenderer,
    get_or_render,
)

log = logging.getLogger("smm.jobs")


class LocalRunner:
    """Renders queued report jobs with ``settings.render_workers`` isolated processes."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        registry: QuestionnaireRegistry,
        settings: Settings,
        poll_seconds: float = 0.25,
    ) -> None:
        self.factory = factory
        self.registry = registry
        self.settings = settings
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._slots = threading.Semaphore(settings.render_workers)
        self._pool = ThreadPoolExecutor(settings.render_workers, thread_name_prefix="smm-render")
        self._thread = threading.Thread(target=self._loop, name="smm-jobs", daemon=True)
        self.mail = MailSender(factory, settings) if settings.sends_email else None

    def start(self) -> None:
        self._thread.start()
        if self.mail is not None:
            self.mail.start()

    def stop(self) -> None:
        self._stop.set()
        if self.mail is not None:
            self.mail.stop()
        self._thread.join(10)
        self._pool.shutdown(wait=True, cancel_futures=False)

    def _loop(self) -> None:
        with transaction(self.factory) as session:
            recovered = service.recover_stale(
                session, service.stale_cutoff(self.settings.render_timeout_seconds)
            )
        if recovered:
            log.info("re-queued %d report job(s) left running by a stopped process", recovered)
        while not self._stop.is_set():
            try:
                claimed = self._claim_while_free()
            except Exception:  # the database may be briefly unavailable; try again
                log.exception("could not claim report jobs")
                claimed = False
            if not claimed:
                self._stop.wait(self.poll_seconds)

    def _claim_while_free(self) -> bool:
        claimed_any = False
        while self._slots.acquire(blocking=False):
            with transaction(self.factory) as session:
                job = service.claim_next(session)
                job_id = job.id if job else None
            if job_id is None:
                self._slots.release()
                return claimed_any
            claimed_any = True
            self._pool.submit(self._run, job_id)
        return claimed_any

    def _run(self, job_id: uuid.UUID) -> None:
        try:
            with log_context(job_id=str(job_id)):
                run_job(self.factory, self.registry, self.settings, job_id)
        finally:
            self._slots.release()


def run_job(
    factory: sessionmaker[Session],
    registry: QuestionnaireRegistry,
    settings: Settings,
    job_id: uuid.UUID,
) -> None:
    """Render one claimed job and record how it went (never raises for a failed render).

    The runner owns the job's transactions: the job is read (and finished when its report
    is cached) in one, rendered outside any, and stored and finished in another.
    """

    def load(session: Session) -> tuple[Assessment, PlanRequest]:
        job = session.get_one(ReportJob, job_id)
        return session.get_one(Assessment, job.assessment_id), PlanRequest.from_dict(job.options)

    def on_read(session: Session, order: ReportOrder, cached: bool) -> None:
        # The organization or templates may have changed since the job was queued.
        session.get_one(ReportJob, job_id).cache_key = order.key
        if cached:
            service.finish(session, job_id)

    try:
        report = get_or_render(
            OwnTransactions(factory),
            registry,
            SandboxedRenderer.from_settings(settings),
            load,
            on_read=on_read,
            on_stored=lambda session, _order: service.finish(session, job_id),
        )
    except (RenderFailed, AppError) as exc:
        error = exc.detail if isinstance(exc, AppError) else str(exc)
        with transaction(factory) as session:
            service.finish(session, job_id, error=error)
        log.warning("report job %s failed: %s", job_id, error)
        return
    except Exception:
        with transaction(factory) as session:
            service.finish(session, job_id, error="rendering failed unexpectedly")
        log.exception("report job %s failed unexpectedly", job_id)
        return
    if report.rendered:
        log.info("report job %s rendered in %d ms", job_id, report.render_ms)
