"""Assessments, with their answers as one JSON document."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, text
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

    # The answers, in questionnaire order: one JSON document (a list of objects with the
    # fields of ``Answer``) rather than a row each, so that storing or reading an
    # assessment is one row. Read and set through ``answers``.
    answer_document: Mapped[list[dict[str, Any]]] = mapped_column(
        "answers", JSONDocument, default=list, server_default=text("'[]'")
    )

    organization: Mapped[Organization] = relationship(lazy="raise")

    @property
    def answers(self) -> list[Answer]:
        """The stored answers, in questionnaire order."""
        return [Answer(**item) for item in self.answer_document or ()]

    @answers.setter
    def answers(self, answers: Iterable[Answer]) -> None:
        self.answer_document = [
            answer.to_document() for answer in sorted(answers, key=lambda a: a.position)
        ]


@dataclass(frozen=True, slots=True)
class Answer:
    """One stored answer: a value (JSON), or "not applicable", and an optional comment."""

    question_id: str
    # The question's place in the definition, so answers read back in questionnaire order.
    position: int
    value: Any | None = None
    na: bool = False
    comment: str | None = None

    def to_document(self) -> dict[str, Any]:
        """The answer as the assessment's JSON document holds it."""
        return {
            "question_id": self.question_id,
            "position": self.position,
            "value": self.value,
            "na": self.na,
            "comment": self.comment,
        }
