"""Assessments and their answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, JSONDocument, new_id, utcnow
from app.organizations.models import Organization


class AssessmentStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class AssessmentSource(StrEnum):
    API = "api"
    CLI = "cli"
    WEB = "web"
    FHIR = "fhir"


class Assessment(Base):
    """One organization's answers to one questionnaire version, with their score snapshot."""

    __tablename__ = "assessments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["questionnaire_id", "questionnaire_version"],
            ["questionnaire_versions.questionnaire_id", "questionnaire_versions.version"],
        ),
        Index("ix_assessments_organization_created", "organization_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    questionnaire_id: Mapped[str] = mapped_column(String(64))
    questionnaire_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default=AssessmentStatus.DRAFT.value)
    source: Mapped[str] = mapped_column(String(16), default=AssessmentSource.API.value)
    created_by_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    engine_version: Mapped[str] = mapped_column(String(32))
    scores: Mapped[dict[str, Any]]

    organization: Mapped[Organization] = relationship(lazy="raise")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="assessment",
        cascade="all, delete-orphan",
        order_by="Answer.position",
        lazy="selectin",
    )


class Answer(Base):
    """One answer: a value (JSON), or "not applicable", and an optional comment."""

    __tablename__ = "answers"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The question's place in the definition, so answers read back in questionnaire order.
    position: Mapped[int]
    value: Mapped[Any | None] = mapped_column(JSONDocument)
    na: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str | None] = mapped_column(Text)

    assessment: Mapped[Assessment] = relationship(back_populates="answers")
