"""How an e-mail's delivery is shown to the consultant who asked for it."""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, Field

from app.mail.models import EmailStatus
from app.schemas import ReadModel


class EmailDeliveryRead(ReadModel):
    """One e-mail of an invitation and where its delivery stands."""

    to: str = Field(
        validation_alias=AliasChoices("to_address", "to"), description="The address it is sent to."
    )
    status: EmailStatus = Field(
        description="queued (waiting for an attempt), sending, sent (the SMTP server took "
        "it) or failed (refused, attempts spent, or delivery uncertain)."
    )
    attempts: int = Field(description="Attempts at handing it to the SMTP server so far.")
    sent_at: datetime | None = Field(description="When the SMTP server accepted it.")
    error: str | None = Field(
        validation_alias=AliasChoices("last_error", "error"),
        description="Why the last attempt failed, if it did.",
    )
