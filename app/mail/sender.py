"""The embedded mail sender: a thread that delivers due e-mails, one at a time.

The embedded runner starts one in each API process when an SMTP server is configured.
Claims are atomic in the database, so several processes can share the table; each
delivery follows the rules of ``app.mail.service``.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import transaction
from app.mail import service
from app.mail.smtp import Transport, send_smtp
from app.observability.logs import log_context

log = logging.getLogger("smm.mail")

# How often the sender looks for messages a stopped process left ``sending``.
STUCK_CHECK_SECONDS = 60.0


class MailSender:
    """Polls for due e-mails every ``poll_seconds`` and delivers them."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        *,
        poll_seconds: float = 1.0,
        transport: Transport = send_smtp,
        backoff: service.Backoff | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.transport = transport
        self.backoff = backoff
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="smm-mail", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.settings.smtp_timeout_seconds + 10)

    def _loop(self) -> None:
        checked_stuck = -STUCK_CHECK_SECONDS
        while not self._stop.is_set():
            try:
                if time.monotonic() - checked_stuck >= STUCK_CHECK_SECONDS:
                    self.fail_stuck()
                    checked_stuck = time.monotonic()
                sent_any = self.deliver_due()
            except Exception:  # the database may be briefly unavailable; try again
                log.exception("could not deliver e-mails")
                sent_any = False
            if not sent_any:
                self._stop.wait(self.poll_seconds)

    def fail_stuck(self) -> int:
        """Fail the messages a stopped sender left ``sending`` (delivery uncertain)."""
        with transaction(self.factory) as session:
            failed = service.fail_stuck(session, service.stuck_cutoff(self.settings))
        if failed:
            log.warning("%d e-mail(s) left sending by a stopped process: failed", failed)
        return failed

    def deliver_due(self) -> bool:
        """Deliver every message due now; whether any was claimed."""
        with transaction(self.factory) as session:
            candidates = service.due(session)
        claimed_any = False
        for message_id in candidates:
            if self._stop.is_set():
                break
            with log_context(email_id=str(message_id)):
                delivery = service.deliver(
                    self.factory,
                    self.settings,
                    message_id,
                    transport=self.transport,
                    backoff=self.backoff,
                )
            claimed_any = claimed_any or delivery.outcome is not service.Outcome.NOT_CLAIMED
        return claimed_any
