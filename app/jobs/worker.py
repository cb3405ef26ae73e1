"""`smm worker`: render report jobs from the procrastinate queue.

Each worker runs ``concurrency`` jobs at once (``SMM_RENDER_WORKERS`` unless
`--concurrency` says otherwise: by default one per CPU), each in its own long-lived render
process (replaced every ``SMM_RENDER_RECYCLE_JOBS`` documents, with the per-job time and
memory limits), so one worker process keeps every core of its machine busy and its memory
stays within ``concurrency`` times ``SMM_RENDER_MEMORY_MB``. Claims stay exactly-once
whatever the concurrency: each delivery claims its job row in the database first.

A sweeper thread, at start and then every heartbeat, queues job rows that are
not on the queue and retries jobs held by workers that stopped sending heartbeats
(killed, or their machine gone), so another worker finishes them.

Workers also deliver e-mails (``smm.send_email`` on the ``email`` queue): one task per
message, following ``app.mail.service``'s rules; a retry is put back on the queue for
when its back-off ends, and the sweeper queues due messages nothing dispatched.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field

import procrastinate
from procrastinate import JobContext, RetryStrategy
from procrastinate.psycopg_connector import PsycopgConnector
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import make_engine, session_factory, transaction
from app.errors import AppError
from app.intake.models import Assessment
from app.jobs import metrics, queue, service
from app.jobs.models import ReportJob
from app.mail import service as mail
from app.mail.smtp import Transport, send_smtp
from app.observability.logs import log_context
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.inputs import PlanRequest
from app.reports.render import render_pdf
from app.reports.sandbox import RenderFailed, RenderPool, RenderProcessDied
from app.reports.service import OwnTransactions, PooledRenderer, ReportOrder, get_or_render

log = logging.getLogger("smm.worker")


class RetryLater(Exception):
    """This attempt failed for a reason that may pass (a render process died, the
    database blinked); procrastinate runs the job again after a back-off."""


@dataclass
class Worker:
    """What a worker process needs to render jobs: database, questionnaires, render pool."""

    settings: Settings
    factory: sessionmaker[Session]
    registry: QuestionnaireRegistry
    concurrency: int
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    # Puts e-mail retries back on the queue (a client App over our own connections).
    queue_client: procrastinate.App | None = None
    transport: Transport = send_smtp
    pool: RenderPool = field(init=False)

    def __post_init__(self) -> None:
        self.pool = RenderPool.from_settings(self.concurrency, self.settings)

    def close(self) -> None:
        """Stop every render process."""
        self.pool.close()

    def handle(self, job_id: uuid.UUID, queue_job_id: int, *, last_attempt: bool) -> None:
        """Render one delivered job, unless another delivery has it or it is finished."""
        with transaction(self.factory) as session:
            claimed = service.claim(session, job_id, worker=self.name, queue_job_id=queue_job_id)
        if not claimed:
            log.info("report job %s is taken or finished; this delivery does nothing", job_id)
            return
        metrics.JOBS_RUNNING.inc()
        try:
            self._render(job_id, last_attempt=last_attempt)
        finally:
            metrics.JOBS_RUNNING.dec()

    def send_email(self, message_id: uuid.UUID) -> mail.Delivery:
        """Deliver one e-mail from the queue (see ``send_queued_email``)."""
        return send_queued_email(
            self.factory,
            self.settings,
            message_id,
            queue_client=self.queue_client,
            transport=self.transport,
        )

    def _render(self, job_id: uuid.UUID, *, last_attempt: bool) -> None:
        def load(session: Session) -> tuple[Assessment, PlanRequest]:
            job = session.get_one(ReportJob, job_id)
            assessment = session.get_one(Assessment, job.assessment_id)
            return assessment, PlanRequest.from_dict(job.options)

        def on_read(session: Session, order: ReportOrder, cached: bool) -> None:
            # The organization or templates may have changed since the job was queued.
            session.get_one(ReportJob, job_id).cache_key = order.key
            if cached:
                service.finish(session, job_id)
                metrics.JOBS_FINISHED.labels("done").inc()

        renderer = PooledRenderer(self.pool, self.settings.render_timeout_seconds, render_pdf)
        try:
            report = get_or_render(
                OwnTransactions(self.factory),
                self.registry,
                renderer,
                load,
                on_read=on_read,
                on_stored=lambda session, _order: service.finish(session, job_id),
            )
        except (RenderProcessDied, RetryLater) as exc:
            self._fail_or_retry(job_id, str(exc), last_attempt=last_attempt)
            return
        except (RenderFailed, AppError) as exc:
            # Over its time or memory, or a document the renderer rejects: again would fail.
            self._fail(job_id, exc.detail if isinstance(exc, AppError) else str(exc))
            return
        except Exception:
            log.exception("report job %s failed unexpectedly", job_id)
            self._fail_or_retry(job_id, "rendering failed unexpectedly", last_attempt=last_attempt)
            return
        if report.rendered:
            metrics.JOBS_FINISHED.labels("done").inc()
            log.info("report job %s rendered by %s in %d ms", job_id, self.name, report.render_ms)

    def _fail(self, job_id: uuid.UUID, error: str) -> None:
        with transaction(self.factory) as session:
            service.finish(session, job_id, error=error)
        metrics.JOBS_FINISHED.labels("failed").inc()
        log.warning("report job %s failed: %s", job_id, error)

    def _fail_or_retry(self, job_id: uuid.UUID, error: str, *, last_attempt: bool) -> None:
        if last_attempt:
            self._fail(job_id, error)
            return
        # If the database is what failed, this raises too; the row stays running and the
        # retry of this same delivery may take it over (see service.claim).
        with transaction(self.factory) as session:
            service.release(session, job_id, error)
        metrics.JOBS_FINISHED.labels("retried").inc()
        raise RetryLater(error)


def send_queued_email(
    factory: sessionmaker[Session],
    settings: Settings,
    message_id: uuid.UUID,
    *,
    queue_client: procrastinate.App | None,
    transport: Transport = send_smtp,
) -> mail.Delivery:
    """Deliver one e-mail; a retry goes back on the queue for when its back-off ends.

    A delivery that finds the message taken, not due or finished does nothing, so a
    duplicate queue message never sends it twice.
    """
    delivery = mail.deliver(factory, settings, message_id, transport=transport)
    if delivery.outcome is mail.Outcome.NOT_CLAIMED:
        log.info("e-mail %s is taken, not due or done; this delivery does nothing", message_id)
    if delivery.outcome is mail.Outcome.RETRY and queue_client is not None:
        retry_at = delivery.retry_at
        try:
            with transaction(factory) as session:
                queue.dispatch_email(queue_client, session, message_id, schedule_at=retry_at)
        except procrastinate.exceptions.AlreadyEnqueued:
            pass  # the sweeper queued it already
    return delivery


def queue_app(worker: Worker) -> procrastinate.App:
    """The procrastinate App of a worker process, with the render task bound to ``worker``."""
    settings = worker.settings
    connector = PsycopgConnector(
        conninfo=queue.conninfo(settings.database_url), kwargs=queue.connection_options()
    )
    app = procrastinate.App(connector=connector)

    @app.task(
        name=queue.TASK,
        queue=queue.QUEUE,
        pass_context=True,
        retry=RetryStrategy(
            max_attempts=settings.job_max_attempts - 1,
            exponential_wait=settings.job_retry_seconds,
        ),
    )
    def render_report(context: JobContext, job_id: str) -> None:
        with log_context(job_id=job_id):
            worker.handle(
                uuid.UUID(job_id),
                context.job.id or 0,
                last_attempt=context.job.attempts + 1 >= settings.job_max_attempts,
            )

    @app.task(name=queue.EMAIL_TASK, queue=queue.EMAIL_QUEUE)
    def send_email(message_id: str) -> None:
        with log_context(email_id=message_id):
            worker.send_email(uuid.UUID(message_id))

    return app


def _sweep_forever(
    app: procrastinate.App, engine: Engine, settings: Settings, stop: threading.Event
) -> None:
    while True:
        try:
            queue.sweep_now(app, engine, settings.worker_stalled_seconds)
            if settings.sends_email:
                queue.sweep_email_now(app, engine, settings)
        except Exception:  # the database may be briefly unavailable; try again
            log.exception("could not sweep the report queue")
        if stop.wait(settings.worker_heartbeat_seconds):
            return


def run(settings: Settings, registry: QuestionnaireRegistry, concurrency: int) -> None:
    """Consume the report queue until SIGINT or SIGTERM; running jobs finish first."""
    engine = make_engine(settings.database_url, pool_size=concurrency + 2)
    client = queue.client_app(settings.database_url)
    worker = Worker(settings, session_factory(engine), registry, concurrency, queue_client=client)
    app = queue_app(worker)
    stop = threading.Event()
    sweeper = threading.Thread(
        target=_sweep_forever, args=(client, engine, settings, stop), name="smm-sweep", daemon=True
    )
    sweeper.start()
    log.info("worker %s consuming the report queue with %d slot(s)", worker.name, concurrency)
    try:
        app.run_worker(
            queues=[queue.QUEUE, queue.EMAIL_QUEUE],
            concurrency=concurrency,
            name=worker.name,
            update_heartbeat_interval=settings.worker_heartbeat_seconds,
            stalled_worker_timeout=settings.worker_stalled_seconds,
            fetch_job_polling_interval=settings.worker_heartbeat_seconds,
            install_signal_handlers=True,
        )
    finally:
        stop.set()
        sweeper.join(10)
        worker.close()
        engine.dispose()
