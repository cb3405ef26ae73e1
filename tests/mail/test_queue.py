"""E-mails on the procrastinate queue (PostgreSQL): dispatched, swept, retried by the worker."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from app.db import transaction
from app.jobs import queue
from app.jobs.worker import send_queued_email
from app.mail import service as mail
from app.mail.models import EmailStatus

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(world):
    with world.factory() as session:
        url = session.get_bind().engine.url
    if url.get_backend_name() != "postgresql":
        pytest.skip("the job queue is PostgreSQL's")
    return queue.client_app(url.render_as_string(hide_password=False))


def _queued(world, message_id: uuid.UUID) -> list[tuple[str, str, str]]:
    with transaction(world.factory) as session:
        rows = session.execute(
            text(
                "SELECT task_name, queue_name, status FROM procrastinate.procrastinate_jobs "
                "WHERE queueing_lock = :lock ORDER BY id"
            ),
            {"lock": f"email:{message_id}"},
        )
        return [tuple(row) for row in rows]


def test_dispatch_puts_the_message_on_the_email_queue(world, client):
    queued, _link = world.queue()
    with transaction(world.factory) as session:
        queue.dispatch_email(client, session, queued.id)

    assert _queued(world, queued.id) == [(queue.EMAIL_TASK, queue.EMAIL_QUEUE, "todo")]


def test_the_sweep_queues_a_due_message_once_however_often_it_runs(world, client):
    queued, _link = world.queue()  # stored the way the CLI and the embedded runner do
    with transaction(world.factory) as session:
        session.execute(
            text("UPDATE email_messages SET next_attempt_at = now() - interval '1 minute'")
        )

    swept = [queue.sweep_email_now(client, session_engine(world), world.settings) for _ in range(3)]

    assert swept == [1, 0, 0]
    assert len(_queued(world, queued.id)) == 1


def test_a_retry_goes_back_on_the_queue_and_the_next_delivery_sends_it(world, client, recorder):
    recorder.refuse_data = 1
    queued, _link = world.queue()

    first = send_queued_email(world.factory, world.settings, queued.id, queue_client=client)
    second = send_queued_email(world.factory, world.settings, queued.id, queue_client=client)
    duplicate = send_queued_email(world.factory, world.settings, queued.id, queue_client=client)

    assert [d.outcome for d in (first, second, duplicate)] == [
        mail.Outcome.RETRY,
        mail.Outcome.SENT,
        mail.Outcome.NOT_CLAIMED,
    ]
    assert _queued(world, queued.id) == [(queue.EMAIL_TASK, queue.EMAIL_QUEUE, "todo")]
    assert len(recorder.received) == 1
    assert world.message(queued.id).status == EmailStatus.SENT


def session_engine(world):
    with world.factory() as session:
        return session.get_bind().engine
