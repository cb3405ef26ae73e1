"""Organizations with submitted assessments on chosen dates, made through the API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.intake.models import Assessment
from app.organizations.models import BenchmarkSnapshot, Organization
from tests.conftest import example

Submit = Callable[..., dict[str, Any]]


@pytest.fixture
def submit(client, admin_headers, db) -> Submit:
    """Post an example's answers for an organization, submitted on ``on`` (a date) if given."""

    def make(
        organization: Organization,
        name: str = "community-hospital",
        *,
        on: datetime | None = None,
        status: str = "submitted",
        changes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body = example(name)
        answers = [
            {**a, "value": changes[a["question_id"]]}
            if changes and a["question_id"] in changes
            else a
            for a in body["answers"]
        ]
        response = client.post(
            "/v1/assessments",
            json={
                **body,
                "answers": answers,
                "status": status,
                "organization_id": str(organization.id),
            },
            headers=admin_headers,
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        if on is not None:
            row = db.get_one(Assessment, uuid.UUID(created["id"]))
            row.submitted_at = on
            db.commit()
        return created

    return make


@pytest.fixture
def next_snapshot(db) -> Callable[[], None]:
    """Let the peer snapshots grow old, so that the next benchmark read takes a new one."""

    def age() -> None:
        for snapshot in db.scalars(select(BenchmarkSnapshot)):
            snapshot.taken_at -= timedelta(hours=24 * 367)
        db.commit()

    return age


def day(month: int, number: int = 1, year: int = 2025) -> datetime:
    return datetime(year, month, number, 12, tzinfo=UTC)
