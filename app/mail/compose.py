"""An invitation e-mail from the Jinja2 templates: plain text and HTML (autoescaped).

They name the organization, who invites (when known), the link and when it expires;
nothing else (no scores, no key, no token outside the link).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True, slots=True)
class InvitationLetter:
    """What an invitation e-mail says, and its envelope."""

    sender: str
    to: str
    message_id: str
    organization: str
    invited_by: str | None
    link: str
    expires_at: datetime


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def _one_line(value: str) -> str:
    """``value`` on one line, for a header and a sentence (names are the clients' data)."""
    return " ".join(value.split())


def subject_of(organization: str) -> str:
    """The subject line of an invitation to ``organization``."""
    return f"Your social-media maturity assessment for {_one_line(organization)}"


def compose_invitation(letter: InvitationLetter, *, date: datetime) -> MimeMessage:
    """The MIME message (text and HTML alternatives) for ``letter``, dated ``date``."""
    organization = _one_line(letter.organization)
    context = {
        "organization": organization,
        "invited_by": _one_line(letter.invited_by) if letter.invited_by else None,
        "link": letter.link,
        "expires": f"{letter.expires_at:%Y-%m-%d %H:%M}",
        "subject": subject_of(organization),
    }
    environment = _environment()
    message = MimeMessage()
    message["Subject"] = context["subject"]
    message["From"] = letter.sender
    message["To"] = letter.to
    message["Date"] = format_datetime(date)
    message["Message-ID"] = letter.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(environment.get_template("invitation.txt").render(context))
    message.add_alternative(
        environment.get_template("invitation.html").render(context), subtype="html"
    )
    return message
