"""Retrying a POST with the same Idempotency-Key never stores a second object."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import create_key
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, session_factory, transaction
from app.idempotency.models import IdempotencyRecord
from app.intake.models import Assessment
from app.main import create_app
from app.migrate import upgrade
from app.organizations.models import Organization
from tests.conftest import bearer, example
from tests.support.servers import served_in_thread

ORGANIZATION = {
    "name": "Riverside Regional Medical Center",
    "type": "community_hospital",
    "licensed_beds": 310,
    "state": "WI",
}


def _assessment_body(organization: Organization) -> dict[str, Any]:
    return {**example("community-hospital"), "organization_id": str(organization.id)}


def _count(db: Session, organization: Organization) -> int:
    db.expire_all()
    query = select(func.count()).where(Assessment.organization_id == organization.id)
    return db.scalar(query) or 0


def _with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def test_a_retry_gets_the_original_response_and_stores_nothing_new(
    client, db, admin_headers, make_organization
):
    organization = make_organization()
    headers = _with_key(admin_headers, "retry-1")
    body = _assessment_body(organization)

    first = client.post("/v1/assessments", json=body, headers=headers)
    again = client.post("/v1/assessments", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(db, organization) == 1


def test_the_same_document_serialised_differently_is_the_same_request(
    client, db, admin_headers, make_organization
):
    organization = make_organization()
    headers = {**_with_key(admin_headers, "spacing"), "Content-Type": "application/json"}
    body = _assessment_body(organization)
    compact = json.dumps(body, separators=(",", ":"))
    spaced = json.dumps(dict(reversed(list(body.items()))), indent=2)

    first = client.post("/v1/assessments", content=compact, headers=headers)
    again = client.post("/v1/assessments", content=spaced, headers=headers)

    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert _count(db, organization) == 1


def test_the_same_key_with_a_different_body_is_a_conflict_naming_the_header(
    client, db, admin_headers, make_organization
):
    organization = make_organization()
    headers = _with_key(admin_headers, "reused")
    body = _assessment_body(organization)
    client.post("/v1/assessments", json=body, headers=headers)

    response = client.post("/v1/assessments", json={**body, "status": "draft"}, headers=headers)

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert response.json()["header"] == "Idempotency-Key"
    assert "Idempotency-Key" in response.json()["detail"]
    assert _count(db, organization) == 1


def test_the_same_key_on_another_path_is_a_conflict(client, admin_headers):
    headers = _with_key(admin_headers, "path-bound")
    client.post("/v1/organizations", json=ORGANIZATION, headers=headers)

    response = client.post("/v1/assessments", json={}, headers=headers)

    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]


def test_keys_belong_to_one_api_key(client, db, make_key, make_organization):
    organization = make_organization()
    body = _assessment_body(organization)
    first = client.post(
        "/v1/assessments", json=body, headers=_with_key(bearer(make_key()), "shared")
    )
    second = client.post(
        "/v1/assessments", json=body, headers=_with_key(bearer(make_key()), "shared")
    )

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert "Idempotent-Replayed" not in second.headers
    assert _count(db, organization) == 2


def test_an_expired_key_can_be_used_again(client, db, admin_headers, make_organization):
    organization = make_organization()
    headers = _with_key(admin_headers, "old")
    body = _assessment_body(organization)
    first = client.post("/v1/assessments", json=body, headers=headers)
    db.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == "old")
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.commit()

    again = client.post("/v1/assessments", json={**body, "status": "draft"}, headers=headers)

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert _count(db, organization) == 2


def test_storing_a_record_purges_expired_ones_of_every_key(client, db, make_key, make_organization):
    organization = make_organization()
    body = _assessment_body(organization)
    client.post("/v1/assessments", json=body, headers=_with_key(bearer(make_key()), "stale"))
    db.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == "stale")
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    db.commit()

    client.post("/v1/assessments", json=body, headers=_with_key(bearer(make_key()), "fresh"))

    db.expire_all()
    keys = set(db.scalars(select(IdempotencyRecord.key)))
    assert "stale" not in keys
    assert "fresh" in keys


def test_records_are_kept_for_the_configured_time(client, db, admin_headers, make_organization):
    before = datetime.now(UTC)
    client.post(
        "/v1/assessments",
        json=_assessment_body(make_organization()),
        headers=_with_key(admin_headers, "kept"),
    )

    record = db.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "kept"))

    assert record is not None
    assert record.expires_at >= before + timedelta(hours=24)
    assert record.status_code == 201


def test_creating_an_organization_is_idempotent_too(client, db, admin_headers):
    headers = _with_key(admin_headers, "org-once")
    name = f"Idempotent Hospital {uuid.uuid4()}"

    first = client.post("/v1/organizations", json={**ORGANIZATION, "name": name}, headers=headers)
    again = client.post("/v1/organizations", json={**ORGANIZATION, "name": name}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert db.scalar(select(func.count()).where(Organization.name == name)) == 1


def test_a_refused_request_is_replayed_as_refused(client, db, admin_headers, make_organization):
    organization = make_organization()
    headers = _with_key(admin_headers, "bad-answers")
    body = {**_assessment_body(organization), "answers": [{"question_id": "nope", "value": 1}]}

    first = client.post("/v1/assessments", json=body, headers=headers)
    again = client.post("/v1/assessments", json=body, headers=headers)

    assert first.status_code == again.status_code == 422
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(db, organization) == 0


@pytest.mark.parametrize(
    "key",
    ["", " ", "has space", "x" * 256, "caf\u00e9", "tab\there"],
    ids=["empty", "blank", "space", "too long", "non-ascii", "tab"],
)
def test_a_malformed_key_is_422_naming_the_header(client, admin_headers, key):
    headers: dict[str, Any] = {**admin_headers, "Idempotency-Key": key.encode("utf-8")}

    response = client.post("/v1/organizations", json=ORGANIZATION, headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_the_longest_allowed_key_works(client, admin_headers):
    key = "k" * 255

    response = client.post(
        "/v1/organizations", json=ORGANIZATION, headers=_with_key(admin_headers, key)
    )

    assert response.status_code == 201


# --- Concurrency, against a real server and real commits -----------------------------------


@pytest.fixture
def server(fresh_database_url: str, tmp_path) -> Iterator[tuple[str, Any]]:
    """A real uvicorn serving a fresh database; yields its URL and engine."""
    engine = make_engine(fresh_database_url)
    upgrade(engine)
    settings = Settings(
        database_url=fresh_database_url,
        run_report_jobs=False,
        secret_key_file=tmp_path / "secret",
        questionnaires_dir=PROJECT_ROOT / "questionnaires",
    )
    try:
        with served_in_thread(create_app(settings)) as base:
            yield base, engine
    finally:
        engine.dispose()


def test_simultaneous_retries_store_exactly_one_assessment(server):
    url, engine = server
    with transaction(session_factory(engine)) as session:
        organization = Organization(
            name="Lakeside", type="community_hospital", licensed_beds=120, state="MN"
        )
        session.add(organization)
        session.flush()
        token = create_key(session, Role.ADMIN, []).token
    body = _assessment_body(organization)
    headers = _with_key(bearer(token), "burst")
    start = threading.Barrier(8)
    responses: list[httpx.Response] = []

    def post() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            start.wait()
            responses.append(http.post("/v1/assessments", json=body, headers=headers))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)

    assert [r.status_code for r in responses] == [201] * 8
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 7
    with transaction(session_factory(engine)) as session:
        stored = session.scalar(
            select(func.count()).where(Assessment.organization_id == organization.id)
        )
        records = session.scalar(select(func.count()).select_from(IdempotencyRecord))
    assert stored == 1
    assert records == 1
