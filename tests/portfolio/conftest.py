"""Organizations, keys and assessments for portfolio tests, made straight in the database.

``assess`` scores an example's answers through intake; ``clone`` copies a scored assessment
to another organization with chosen levels, so that many organizations cost little.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import Principal, create_key
from app.intake.models import Answer, Assessment
from app.intake.schemas import AnswerIn
from app.intake.service import create_assessment
from app.organizations.models import Organization
from app.questionnaire.registry import QuestionnaireRegistry
from tests.conftest import example


def day(month: int, number: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, number, 12, tzinfo=UTC)


@pytest.fixture
def principal(db: Session) -> Callable[..., Principal]:
    """A key of ``role`` granted ``orgs``, as the principal a request would carry."""

    def make(role: str = "consultant", orgs: list[uuid.UUID] | None = None) -> Principal:
        key = create_key(db, Role(role), orgs or []).key
        db.flush()
        return Principal(key.id, Role(role))

    return make


@pytest.fixture
def organization(db: Session) -> Callable[..., Organization]:
    def make(
        name: str = "Lakeside Community Hospital",
        *,
        type: str = "community_hospital",
        beds: int = 120,
        by: Principal | None = None,
    ) -> Organization:
        made = Organization(
            name=name,
            type=type,
            licensed_beds=beds,
            state="MN",
            created_by_key_id=by.key_id if by else None,
        )
        db.add(made)
        db.flush()
        return made

    return make


@pytest.fixture
def assess(
    db: Session, registry: QuestionnaireRegistry, principal: Callable[..., Principal]
) -> Callable[..., Assessment]:
    """An example's answers, scored and stored for ``org`` by an admin, submitted ``on``
    (or a draft)."""
    admin = principal("admin")

    def make(
        org: Organization,
        name: str = "community-hospital",
        *,
        on: datetime | None = None,
        status: str = "submitted",
    ) -> Assessment:
        body = example(name)
        made = create_assessment(
            db,
            registry,
            admin,
            organization_id=org.id,
            questionnaire_id=body["questionnaire"]["id"],
            version=body["questionnaire"].get("version"),
            status=status,
            items=[AnswerIn.model_validate(a) for a in body["answers"]],
        )
        if on is not None and status == "submitted":
            made.submitted_at = on
        db.flush()
        return made

    return make


@pytest.fixture
def clone(db: Session) -> Callable[..., Assessment]:
    """A copy of ``template`` for ``org``, submitted ``on``, with ``levels`` per dimension."""

    def make(
        template: Assessment, org: Organization, on: datetime, levels: dict[str, int]
    ) -> Assessment:
        scores: dict[str, Any] = copy.deepcopy(template.scores)
        for dimension in scores["dimensions"]:
            dimension["level"] = levels.get(dimension["dimension_id"], dimension["level"])
        made = Assessment(
            id=uuid.uuid4(),
            organization_id=org.id,
            questionnaire_id=template.questionnaire_id,
            questionnaire_version=template.questionnaire_version,
            status=template.status,
            source=template.source,
            created_at=on,
            updated_at=on,
            submitted_at=on,
            engine_version=template.engine_version,
            scores=scores,
            answers=[
                Answer(
                    question_id=a.question_id,
                    position=a.position,
                    value=copy.deepcopy(a.value),
                    na=a.na,
                    comment=a.comment,
                )
                for a in template.answers
            ],
        )
        db.add(made)
        db.flush()
        return made

    return make
