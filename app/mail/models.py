"""The e-mail table: one message to one address, and how its delivery went."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, new_id, utcnow


class EmailStatus(StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt, at next_attempt_at
    SENDING = "sending"  # claimed by a sender, being handed to the SMTP server
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # given up: refused, attempts spent, or delivery uncertain


class EmailKind(StrEnum):
    INVITATION = "invitation"


class EmailMessage(Base):
    """A message to send, or sent. Its link is kept only sealed, and only until it is done."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(32), default=EmailKind.INVITATION.value)
    status: Mapped[str] = mapped_column(String(16), default=EmailStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(default=0)
    # Why the last attempt failed, in a few words; never a secret, never the link.
    last_error: Mapped[str | None] = mapped_column(String(300))
    # Who sent the invitation, as the e-mail names them (a person's or a key's name).
    invited_by: Mapped[str | None] = mapped_column(String(200))
    # The invitation link, encrypted with a key derived from the secret key (the database
    # alone cannot rebuild it); wiped once the message is sent or finally failed.
    sealed_link: Mapped[str | None] = mapped_column(Text)
    # The Message-ID header, fixed when queued, so every attempt sends the same message.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
