"""Request and response bodies for invitations."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from app.intake.schemas import QuestionnaireRef
from app.schemas import WHOLE_NUMBER, ReadModel, RequestModel


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


class InvitationCreated(InvitationRead):
    url: str = Field(description="The link to send. It is shown once; only its hash is kept.")
