"""Report jobs on procrastinate: a PostgreSQL queue that `smm worker` processes consume.

The ReportJob row stays the record of a job's state; the queue only says "render job X".
API processes put that message on the queue in the same transaction that writes the row,
so a job the API acknowledged is on the queue exactly when its row exists. Rows that
reached the database some other way (while the embedded runner was in charge, or from a
code path that does not dispatch) are swept onto the queue by the workers. Both paths
key the message by the job id (procrastinate's ``queueing_lock`` and ``lock``), so a
job waits on the queue at most once and never runs twice at the same time; the row's
conditional claim turns away any duplicate delivery.

E-mails (``app.mail``) go the same way on their own queue: the EmailMessage row is the
record, the queue says "deliver e-mail X" (keyed ``email:<id>``), and the sweep queues
due messages that nothing dispatched.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, LiteralString

import procrastinate
import psycopg
from procrastinate import sql
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import normalize_url, utcnow
from app.jobs import service
from app.jobs.models import JobPriority
from app.mail import service as mail

log = logging.getLogger("smm.jobs")

SCHEMA = "procrastinate"
QUEUE = "reports"
TASK = "smm.render_report"
# pg_advisory_xact_lock key that serializes sweeps across workers ("smm-sweep").
SWEEP_LOCK = 0x736D6D2D7377
# E-mails: one queue message says "deliver e-mail X"; the EmailMessage row keeps its state.
EMAIL_QUEUE = "email"
EMAIL_TASK = "smm.send_email"


def conninfo(database_url: str) -> str:
    """The libpq connection string for a SQLAlchemy PostgreSQL URL."""
    url = make_url(normalize_url(database_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def connection_options() -> dict[str, Any]:
    """psycopg connection arguments that put the queue's schema on the search path."""
    return {"options": f"-c search_path={SCHEMA},public"}


def client_app(database_url: str) -> procrastinate.App:
    """A procrastinate App for putting jobs on the queue over connections we already hold."""
    connector = SyncPsycopgConnector(conninfo=conninfo(database_url), **connection_options())
    return procrastinate.App(connector=connector)


# The queue's schema at the end of the search path for the rest of the transaction, unless
# it is there already (a batch dispatches many jobs in one transaction): one statement.
# Last, so every name the request uses still resolves where it did (pg_catalog, then our
# schemas); only the queue's own ``procrastinate_*`` functions and tables are found there.
_APPEND_QUEUE_SCHEMA = text(
    f"SELECT CASE WHEN '{SCHEMA}' = ANY(current_schemas(false)) THEN NULL "
    f"ELSE set_config('search_path', current_setting('search_path') || ', {SCHEMA}', true) END"
)


def _queue_connection(session: Session) -> psycopg.Connection[Any]:
    """The session's psycopg connection, with the queue's schema on the search path.

    Within the current transaction only, and after the schemas already there, so the
    request's own statements resolve names exactly as before.
    """
    session.execute(_APPEND_QUEUE_SCHEMA)
    driver = session.connection().connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise TypeError("the report queue needs the psycopg 3 driver")
    return driver


def dispatch(
    app: procrastinate.App, session: Session, job_id: uuid.UUID, priority: JobPriority
) -> int:
    """Put job ``job_id`` on the queue in the session's transaction; the queue job's id.

    With the row's ``priority``: workers take the highest first, as the embedded runner does.
    """
    connection = _queue_connection(session)
    return _deferrer(app, job_id, priority, connection).defer(job_id=str(job_id))


def _deferrer(
    app: procrastinate.App,
    job_id: uuid.UUID,
    priority: JobPriority,
    connection: psycopg.Connection[Any],
) -> procrastinate.jobs.JobDeferrer:
    key = str(job_id)
    return app.configure_task(
        TASK,
        queue=QUEUE,
        lock=key,
        queueing_lock=key,
        priority=int(priority),
        connection=connection,
    )


def dispatch_email(
    app: procrastinate.App,
    session: Session,
    message_id: uuid.UUID,
    *,
    schedule_at: datetime | None = None,
) -> int:
    """Put "deliver e-mail ``message_id``" on the queue in the session's transaction.

    ``schedule_at``: not before then (a retry after its back-off). Keyed by the message id,
    so it waits on the queue at most once and is never delivered twice at the same time.
    """
    key = f"email:{message_id}"
    deferrer = app.configure_task(
        EMAIL_TASK,
        queue=EMAIL_QUEUE,
        lock=key,
        queueing_lock=key,
        schedule_at=schedule_at,
        connection=_queue_connection(session),
    )
    return deferrer.defer(message_id=str(message_id))


def sweep_email(app: procrastinate.App, session: Session, settings: Settings) -> int:
    """Queue due e-mails that are not on the queue, fail those stuck ``sending``; how many queued.

    Rows queued where nothing dispatched them (the CLI, the embedded runner's time, a retry
    whose dispatch failed) reach a worker this way; one sweep at a time, as for reports.
    """
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK})
    stuck = mail.fail_stuck(session, mail.stuck_cutoff(settings))
    candidates = mail.due(session, now=utcnow() - timedelta(seconds=5), limit=500)
    dispatched = 0
    if candidates:
        with _queue_connection(session).cursor() as cursor:
            cursor.execute(
                "SELECT queueing_lock FROM procrastinate_jobs "
                "WHERE queueing_lock = ANY(%s) AND status IN ('todo', 'doing')",
                ([f"email:{c}" for c in candidates],),
            )
            waiting = {row[0] for row in cursor.fetchall()}
        for message_id in candidates:
            if f"email:{message_id}" not in waiting:
                dispatch_email(app, session, message_id)
                dispatched += 1
    if dispatched or stuck:
        log.info("swept the e-mail queue: %d queued, %d failed as left sending", dispatched, stuck)
    return dispatched


def sweep(app: procrastinate.App, session: Session, stalled_after: float) -> tuple[int, int]:
    """Queue what is not on the queue, retry what dead workers held: (dispatched, retried).

    One sweep at a time across all workers (an advisory lock for the transaction), so two
    sweepers never retry the same stalled job or queue the same row twice.
    """
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK})
    # A row a few seconds old may still be in its request's transaction; leave it be.
    candidates = service.undispatched(session, utcnow() - timedelta(seconds=5))
    dispatched = retried = 0
    connection = _queue_connection(session)
    with connection.cursor() as cursor:
        waiting = set()
        if candidates:
            cursor.execute(
                "SELECT queueing_lock FROM procrastinate_jobs "
                "WHERE queueing_lock = ANY(%s) AND status IN ('todo', 'doing')",
                ([str(job_id) for job_id, _ in candidates],),
            )
            waiting = {row[0] for row in cursor.fetchall()}
        for job_id, priority in candidates:
            if str(job_id) not in waiting:
                _deferrer(app, job_id, priority, connection).defer(job_id=str(job_id))
                dispatched += 1
        # A row left running by a delivery that is over (its attempts spent while the
        # database was unreachable) goes back to queued, and out on the next sweep.
        cursor.execute(
            "UPDATE report_jobs SET status = 'queued', worker = NULL "
            "WHERE status = 'running' AND queue_job_id IS NOT NULL AND NOT EXISTS ("
            " SELECT 1 FROM procrastinate_jobs WHERE id = report_jobs.queue_job_id"
            " AND status IN ('todo', 'doing'))"
        )
        released = cursor.rowcount
        cursor.execute(
            _query("select_stalled_jobs_by_heartbeat"),
            {"queue": QUEUE, "task_name": TASK, "seconds_since_heartbeat": stalled_after},
        )
        for stalled in cursor.fetchall():
            cursor.execute(
                _query("retry_job"),
                {
                    "job_id": stalled[0],
                    "retry_at": utcnow(),
                    "new_priority": None,
                    "new_queue_name": None,
                    "new_lock": None,
                },
            )
            retried += 1
    if dispatched or retried or released:
        log.info(
            "swept the report queue: %d job(s) queued, %d retried from dead workers, "
            "%d handed back after their delivery ended",
            dispatched,
            retried,
            released,
        )
    return dispatched, retried


def _query(name: str) -> LiteralString:
    query: LiteralString = sql.queries[name]
    return query


def sweep_now(app: procrastinate.App, engine: Engine, stalled_after: float) -> tuple[int, int]:
    """One sweep in its own transaction."""
    with Session(engine) as session, session.begin():
        return sweep(app, session, stalled_after)


def sweep_email_now(app: procrastinate.App, engine: Engine, settings: Settings) -> int:
    """One e-mail sweep in its own transaction."""
    with Session(engine) as session, session.begin():
        return sweep_email(app, session, settings)
