"""Handing one message to the SMTP server (standard library smtplib), and what went wrong.

Every failure is one of three kinds, because the sender must know whether it may try
again without ever sending a message twice:

- ``Refused(permanent=True)``: the server answered no with a 5xx reply (the recipient,
  the sender, or the message); trying again would be refused too.
- ``Refused(permanent=False)``: the message was certainly not taken (no connection, TLS or
  login failed, a 4xx reply such as 451 greylisting); it may be tried again.
- ``Uncertain``: the connection broke or timed out while the message itself was being
  sent, before the server's final reply; the server may have taken it, so it is not sent
  again.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage as MimeMessage
from email.policy import SMTP as SMTP_POLICY

from app.config import Settings


class DeliveryError(Exception):
    """Why an attempt failed, in a short sentence without any secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason[:280])
        self.reason = reason[:280]


class Refused(DeliveryError):
    """The server did not take the message; ``permanent``: it would refuse it again."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Uncertain(DeliveryError):
    """The server may or may not have taken the message."""


# How a message is handed over: (settings, message, envelope sender, recipient).
Transport = Callable[[Settings, MimeMessage, str, str], None]


def _reply(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {' '.join(text.split())[:160]}".strip()


def _refusal(step: str, code: int, reply: bytes | str) -> Refused:
    return Refused(f"the SMTP server refused {step}: {_reply(code, reply)}", permanent=code >= 500)


def _connect(settings: Settings) -> smtplib.SMTP:
    host, timeout = settings.smtp_host or "", settings.smtp_timeout_seconds
    if settings.smtp_security == "tls":
        context = ssl.create_default_context()
        return smtplib.SMTP_SSL(host, settings.smtp_port, timeout=timeout, context=context)
    return smtplib.SMTP(host, settings.smtp_port, timeout=timeout)


def send_smtp(settings: Settings, message: MimeMessage, sender: str, recipient: str) -> None:
    """Hand ``message`` to the configured SMTP server for ``recipient``; DeliveryError if not."""
    try:
        connection = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"could not connect to the SMTP server: {_describe(exc)}"
        raise Refused(reason, permanent=False) from None
    try:
        _hand_over(connection, settings, message, sender, recipient)
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):  # taken already, or failed already
            connection.close()


def _hand_over(
    connection: smtplib.SMTP,
    settings: Settings,
    message: MimeMessage,
    sender: str,
    recipient: str,
) -> None:
    payload = message.as_bytes(policy=SMTP_POLICY)
    try:
        connection.ehlo()
        if settings.smtp_security == "starttls":
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            connection.login(settings.smtp_username, password)
        code, reply = connection.mail(sender)
        if code != 250:
            raise _refusal("the sender", code, reply)
        code, reply = connection.rcpt(recipient)
        if code not in (250, 251):
            raise _refusal("the recipient", code, reply)
    except smtplib.SMTPResponseException as exc:  # login, STARTTLS: a reply that said no
        raise Refused(
            f"the SMTP server said no: {_reply(exc.smtp_code, exc.smtp_error)}", permanent=False
        ) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise Refused(f"the SMTP conversation failed: {_describe(exc)}", permanent=False) from None
    try:
        code, reply = connection.data(payload)
    except smtplib.SMTPDataError as exc:  # DATA itself refused: no content was sent
        raise _refusal("the message", exc.smtp_code, exc.smtp_error) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise Uncertain(
            "delivery uncertain: the connection failed while the message was being sent "
            f"({_describe(exc)}); not sent again so that it is never sent twice"
        ) from None
    if code != 250:
        raise _refusal("the message", code, reply)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, TimeoutError):
        return "timed out"
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
