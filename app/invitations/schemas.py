"""Request and response bodies for invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from app.addresses import email_address
from app.intake.schemas import QuestionnaireRef
from app.mail.schemas import EmailDeliveryRead
from app.schemas import WHOLE_NUMBER, ReadModel, RequestModel
from app.text import Text


class InvitationStatus(StrEnum):
    PENDING = "pending"  # nobody has started the form yet
    STARTED = "started"  # a draft exists
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    REVOKED = "revoked"


class InvitationCreate(RequestModel):
    """A new invitation link for one questionnaire."""

    questionnaire: QuestionnaireRef | None = Field(
        default=None,
        description="Defaults to the latest version of the only questionnaire served.",
    )
    expires_in_days: Annotated[int, Field(strict=True, ge=1, le=365), WHOLE_NUMBER] | None = Field(
        default=None, description="How long the link stays valid (default SMM_INVITATION_DAYS)."
    )
    email: Text | None = Field(
        default=None,
        max_length=254,
        description=(
            "One e-mail address to send the link to, through the service's SMTP server "
            "(SMM_SMTP_HOST; 422 when none is configured). The link is returned either way."
        ),
        examples=["communications@lakeside.example.org"],
    )

    @field_validator("email")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        return None if value is None else email_address(value)


class InvitationRead(ReadModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    questionnaire_id: str
    questionnaire_version: int
    assessment_id: uuid.UUID | None = Field(
        description="The draft (later the submitted assessment) the link fills in."
    )
    status: InvitationStatus
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    emails: list[EmailDeliveryRead] = Field(
        default_factory=list,
        description="The e-mails that send this link, oldest first, and how each delivery went.",
    )


class InvitationCreated(InvitationRead):
    url: str = Field(description="The link to send. It is shown once; only its hash is kept.")
