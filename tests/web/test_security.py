"""Headers, rate limits, log redaction and who may make or revoke invitations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyrate_limiter.clocks import AbstractClock

from app.config import Settings
from app.errors import ServiceBusy
from app.main import create_app
from app.organizations.models import Organization
from app.ratelimit import RateLimiter
from app.web import security
from app.web.security import CONTENT_SECURITY_POLICY, RedactInvitationLinks
from tests.conftest import bearer
from tests.web.conftest import Invited


def test_web_pages_carry_a_strict_csp_and_the_other_security_headers(
    visitor: TestClient, invited: Invited
) -> None:
    for path in ("/form", "/form/profile", "/i/not-a-token", "/static/web.css"):
        headers = visitor.get(path).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
    assert visitor.get("/form").headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script_or_style(visitor: TestClient) -> None:
    for path in ("/form", "/form/profile", "/form/section/presence", "/form/review"):
        html = visitor.get(path).text
        assert "<script>" not in html
        assert "<style" not in html
        assert " style=" not in html
        assert " on" + "click=" not in html
        assert " onchange=" not in html


def test_the_api_docs_keep_working_without_the_form_csp(client: TestClient) -> None:
    # The docs have a policy of their own; the form's would stop Swagger UI's styles.
    assert client.get("/docs").headers["content-security-policy"] != CONTENT_SECURITY_POLICY


class FakeClock(AbstractClock):
    """Milliseconds that move only when the test says so."""

    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def now(self) -> int:
        return self.ms


def _no_database() -> Any:
    raise AssertionError("the memory limiter asked for the database")


def test_the_limiter_allows_a_burst_per_client_then_refills_with_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter("web", per_minute=60, burst=2, shared=False, clock=clock)
    assert limiter.wait("ip|x", _no_database) == 0
    assert limiter.wait("ip|x", _no_database) == 0
    assert limiter.wait("ip|x", _no_database) == pytest.approx(1.0, abs=0.01)
    assert limiter.wait("other-ip|x", _no_database) == 0  # each client has its own budget
    clock.ms += 1000
    assert limiter.wait("ip|x", _no_database) == 0
    assert limiter.wait("ip|x", _no_database) > 0


def test_too_many_link_requests_get_a_429_page(
    app_settings: Settings, client: TestClient, invited: Invited
) -> None:
    limited = create_app(
        app_settings.model_copy(update={"web_rate_burst": 3, "web_rate_limit": 1}),
        engine=client.app.state.engine,  # type: ignore[attr-defined]
        registry=client.app.state.registry,  # type: ignore[attr-defined]
    )
    # In the test's transaction, like every other request: the failed sign-ins are recorded.
    limited.state.session_factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with TestClient(limited) as browser:
        statuses = [browser.get("/i/guess-" + str(n)).status_code for n in range(5)]
        assert statuses == [404, 404, 404, 429, 429]
        response = browser.get("/i/another-guess")
        assert "Please slow down" in response.text
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["x-frame-options"] == "DENY"


def test_a_shared_rate_limit_is_checked_within_the_requests_turn_at_the_database(
    app_settings: Settings,
    client: TestClient,
    invited: Invited,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On PostgreSQL the budgets are rows: a check outside the turns (ConnectionGate) could
    # take the pooled connection a request holding a turn is waiting for.
    engine = client.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name != "postgresql":
        pytest.skip("the budgets are in the database on PostgreSQL only")
    url = engine.url.render_as_string(hide_password=False)
    shared = create_app(
        app_settings.model_copy(update={"database_url": url}),
        engine=engine,
        registry=client.app.state.registry,  # type: ignore[attr-defined]
    )
    shared.state.session_factory = client.app.state.session_factory  # type: ignore[attr-defined]
    steps: list[str] = []
    enter, wait = security.enter_database, RateLimiter.wait

    async def enter_and_note(scope: Any) -> None:
        await enter(scope)
        steps.append("turn")

    def check_and_note(self: RateLimiter, key: str, sessions: Any) -> float:
        steps.append("check")
        return wait(self, key, sessions)

    monkeypatch.setattr(security, "enter_database", enter_and_note)
    monkeypatch.setattr(RateLimiter, "wait", check_and_note)
    with TestClient(shared) as browser:
        assert browser.get(invited.path, follow_redirects=False).status_code == 303
    assert steps == ["turn", "check"]

    async def no_turn(scope: Any) -> None:
        raise ServiceBusy("The database is busy with other requests.", retry_after=2)

    steps.clear()
    monkeypatch.setattr(security, "enter_database", no_turn)
    with TestClient(shared) as browser:
        response = browser.get(invited.path, follow_redirects=False)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert "The service is busy" in response.text
    assert steps == []  # no budget was touched, no connection taken


def test_the_log_filter_redacts_invitation_tokens_in_access_log_records() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/i/SeCrEt.ToKeN?x=1", "1.1", 303),
        None,
    )
    assert RedactInvitationLinks().filter(record)
    assert "SeCrEt" not in record.getMessage()
    assert "/i/[redacted]" in record.getMessage()


def test_create_app_installs_the_redacting_filter_on_uvicorns_access_log(
    app_settings: Settings,
) -> None:
    create_app(app_settings)
    assert any(
        isinstance(f, RedactInvitationLinks) for f in logging.getLogger("uvicorn.access").filters
    )


@pytest.mark.parametrize(
    ("role", "granted", "create", "revoke"),
    [
        ("admin", False, 201, 204),
        ("consultant", True, 201, 204),
        ("consultant", False, 404, 404),
        ("partner", True, 403, 403),
        ("partner", False, 404, 404),
    ],
)
def test_who_may_make_and_revoke_invitations(
    client: TestClient,
    make_key: Callable[..., str],
    make_organization: Callable[..., Organization],
    invite: Callable[..., Invited],
    role: str,
    granted: bool,
    create: int,
    revoke: int,
) -> None:
    organization = make_organization()
    elsewhere = make_organization("Elsewhere Clinic")
    orgs = [organization.id if granted else elsewhere.id] if role != "admin" else []
    headers = bearer(make_key(role, orgs))
    response = client.post(f"/v1/organizations/{organization.id}/invitations", headers=headers)
    assert response.status_code == create, response.text
    if create == 201:
        assert response.json()["url"].startswith("http://testserver/i/")
    existing = invite(organization)
    response = client.delete(f"/v1/invitations/{existing.invitation['id']}", headers=headers)
    assert response.status_code == revoke, response.text
    seen = client.get(f"/v1/invitations/{existing.invitation['id']}", headers=headers)
    assert seen.status_code == (404 if revoke == 404 else 200)


def test_an_invitation_names_its_questionnaire_status_and_expiry(
    client: TestClient, invite: Callable[..., Invited]
) -> None:
    data = invite(expires_in_days=3).invitation
    assert data["questionnaire_id"] == "hospital-social-media"
    assert data["status"] == "pending"
    assert data["assessment_id"] is None
    assert data["expires_at"] > data["created_at"]


def test_the_stored_token_is_only_a_hash(invited: Invited, db: object) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.invitations.models import Invitation

    assert isinstance(db, Session)
    stored = db.scalar(select(Invitation.token_hash))
    assert stored is not None
    assert invited.token not in stored
    assert len(stored) == 64
