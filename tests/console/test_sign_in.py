"""Signing in to the console: passwords, lock-out, sessions, CSRF, redirects, the trail."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import ConsoleSession, User
from app.audit.models import AuditEvent
from app.console.security import PRE_SESSION_COOKIE, SESSION_COOKIE
from app.db import utcnow
from app.organizations.models import Organization
from tests.console.conftest import Person, csrf_of, sign_in, sign_in_token


def _session_cookie(client: TestClient) -> str | None:
    return client.cookies.get(SESSION_COOKIE, domain="testserver.local", path="/console")


def test_a_page_asks_a_stranger_to_sign_in_and_brings_them_back(
    client: TestClient, make_user: Callable[..., Person]
) -> None:
    response = client.get("/console/account?tab=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=/console/account%3Ftab%3D1"

    person = make_user()
    answer = sign_in(client, person.email, person.password, next_url="/console/account?tab=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/account?tab=1"
    page = client.get("/console/account")
    assert page.status_code == 200
    assert person.email in page.text


def test_the_session_cookie_is_http_only_same_site_and_for_the_console_only(
    client: TestClient, make_user: Callable[..., Person]
) -> None:
    person = make_user()
    response = sign_in(client, person.email, person.password)
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http in the test; https behind a proxy sets it


def test_the_cookies_are_secure_over_https(app: object, make_user: Callable[..., Person]) -> None:
    person = make_user()
    with TestClient(app, base_url="https://testserver") as browser:  # type: ignore[arg-type]
        response = sign_in(browser, person.email, person.password)
    assert response.status_code == 303
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith(SESSION_COOKIE + "=") and "; Secure" in c for c in cookies)


def test_every_sign_in_makes_a_new_session_so_a_planted_one_is_worthless(
    client: TestClient, make_user: Callable[..., Person], db: Session
) -> None:
    person = make_user()
    client.cookies.set(
        SESSION_COOKIE, "planted-by-an-attacker", domain="testserver.local", path="/console"
    )
    sign_in(client, person.email, person.password)
    first = _session_cookie(client)
    assert first
    assert first != "planted-by-an-attacker"
    sign_in(client, person.email, person.password)
    second = _session_cookie(client)
    assert second
    assert second != first
    stored = db.scalars(select(ConsoleSession.token_hash)).all()
    assert first not in stored
    assert second not in stored


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("nobody@example.org", "correct horse battery staple"),
        (None, "a wrong password entirely"),
    ],
)
def test_a_wrong_email_or_password_is_refused_without_saying_which(
    client: TestClient, make_user: Callable[..., Person], email: str | None, password: str
) -> None:
    person = make_user()
    response = sign_in(client, email or person.email, password)
    assert response.status_code == 401
    assert accounts.REFUSED in response.text
    assert _session_cookie(client) is None
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(
    client: TestClient, make_user: Callable[..., Person], db: Session
) -> None:
    person = make_user()
    for _ in range(accounts.MAX_FAILURES):
        assert sign_in(client, person.email, "not the password at all").status_code == 401
    locked = sign_in(client, person.email, person.password)
    assert locked.status_code == 401
    assert "locked" in locked.text
    db.expire_all()
    user = db.get_one(User, person.user.id)
    assert user.locked_until is not None
    assert user.locked_until > utcnow()

    # The lock ends by itself, or at once with a reset.
    accounts.reset_password(db, user, "another long password")
    db.commit()
    assert sign_in(client, person.email, "another long password").status_code == 303


def test_a_right_password_clears_the_failure_count(
    client: TestClient, make_user: Callable[..., Person], db: Session
) -> None:
    person = make_user()
    for _ in range(accounts.MAX_FAILURES - 1):
        sign_in(client, person.email, "not the password at all")
    assert sign_in(client, person.email, person.password).status_code == 303
    db.expire_all()
    assert db.get_one(User, person.user.id).failed_sign_ins == 0


def test_sign_in_needs_the_forms_token(
    client: TestClient, make_user: Callable[..., Person]
) -> None:
    person = make_user()
    sign_in_token(client)  # the nonce cookie is set, but the token is not sent
    response = client.post(
        "/console/sign-in",
        data={"email": person.email, "password": person.password, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert _session_cookie(client) is None


def test_sign_in_from_another_browser_without_its_nonce_is_refused(
    client: TestClient, make_user: Callable[..., Person]
) -> None:
    person = make_user()
    token = sign_in_token(client)
    client.cookies.delete(PRE_SESSION_COOKIE, domain="testserver.local", path="/console")
    response = client.post(
        "/console/sign-in",
        data={"email": person.email, "password": person.password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/console", "/form", "/console\\@evil"]
)
def test_after_sign_in_only_console_pages_are_gone_to(
    client: TestClient, make_user: Callable[..., Person], target: str
) -> None:
    person = make_user()
    response = sign_in(client, person.email, person.password, next_url=target)
    assert response.headers["location"] == "/console"


def test_sign_out_ends_the_session_for_good(
    client: TestClient, make_user: Callable[..., Person]
) -> None:
    person = make_user()
    sign_in(client, person.email, person.password)
    cookie = _session_cookie(client)
    token = csrf_of(client)
    assert client.post("/console/sign-out", data={}, follow_redirects=False).status_code == 403
    response = client.post("/console/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/console", follow_redirects=False).status_code == 303
    # Replaying the old cookie does not bring the session back.
    client.cookies.set(SESSION_COOKIE, cookie or "", domain="testserver.local", path="/console")
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_sign_out_everywhere_ends_every_browsers_session(
    app: object, make_user: Callable[..., Person]
) -> None:
    person = make_user()
    with TestClient(app) as laptop, TestClient(app) as phone:  # type: ignore[arg-type]
        sign_in(laptop, person.email, person.password)
        sign_in(phone, person.email, person.password)
        assert "2 browsers" in laptop.get("/console/account").text
        token = csrf_of(phone)
        phone.post(
            "/console/account/sign-out-everywhere",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert laptop.get("/console", follow_redirects=False).status_code == 303
        assert phone.get("/console", follow_redirects=False).status_code == 303


def test_a_disabled_user_is_signed_out_at_once_and_cannot_sign_in(
    client: TestClient, make_user: Callable[..., Person], db: Session
) -> None:
    person = make_user()
    sign_in(client, person.email, person.password)
    accounts.disable_user(db, db.get_one(User, person.user.id))
    db.commit()
    assert client.get("/console", follow_redirects=False).status_code == 303
    assert sign_in(client, person.email, person.password).status_code == 401


def test_an_idle_or_old_session_has_ended(db: Session, make_user: Callable[..., Person]) -> None:
    person = make_user()
    issued = accounts.start_session(db, person.user)
    now = utcnow()
    assert accounts.identify(db, issued.token, now) is not None
    assert accounts.identify(db, issued.token, now + accounts.SESSION_IDLE * 2) is None
    later = now + accounts.SESSION_LIFETIME + timedelta(minutes=1)
    assert accounts.identify(db, issued.token, later) is None


def test_sign_in_is_rate_limited_per_client_and_account(
    client: TestClient, make_user: Callable[..., Person]
) -> None:
    client.app.state.settings = client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"sign_in_rate_limit": 1, "sign_in_rate_burst": 2}
    )
    person = make_user()
    statuses = [
        sign_in(client, person.email, "wrong but long enough").status_code for _ in range(3)
    ]
    assert statuses[:2] == [401, 401]
    assert statuses[2] == 429


def test_the_trail_records_sign_in_failures_and_sign_out_by_user(
    client: TestClient, make_user: Callable[..., Person], db: Session
) -> None:
    person = make_user()
    sign_in(client, person.email, "not the password at all")
    sign_in(client, person.email, person.password)
    client.post("/console/sign-out", data={"csrf_token": csrf_of(client)})
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action.like("auth.%")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.outcome) for e in events] == [
        ("auth.sign_in", "denied"),
        ("auth.sign_in", "success"),
        ("auth.sign_out", "success"),
    ]
    assert events[1].actor_type == "user"
    assert events[1].user_id == person.user.id
    assert events[1].api_key_id == person.user.principal_id
    assert events[2].user_id == person.user.id


def test_passwords_are_never_logged_or_stored_in_plain(
    client: TestClient,
    make_user: Callable[..., Person],
    db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    person = make_user()
    sign_in(client, person.email, "a guess that is long enough")
    sign_in(client, person.email, person.password)
    assert person.password not in caplog.text
    assert "a guess that is long enough" not in caplog.text
    stored = db.get_one(User, person.user.id).password_hash or ""
    assert stored.startswith("$argon2id$")
    assert person.password not in stored
    details = " ".join(str(e.detail) for e in db.scalars(select(AuditEvent)))
    assert person.password not in details


def test_a_users_principal_is_no_bearer_key(
    client: TestClient, make_user: Callable[..., Person], db: Session
) -> None:
    from app.auth.models import ApiKey

    person = make_user()
    principal = db.get_one(ApiKey, person.user.principal_id)
    assert principal.kind == "user"
    response = client.get(
        "/v1/organizations", headers={"Authorization": f"Bearer smm_{principal.prefix}_" + "a" * 43}
    )
    assert response.status_code == 401


def test_the_portfolio_shows_only_the_users_organizations(
    client: TestClient,
    make_user: Callable[..., Person],
    make_organization: Callable[..., Organization],
    signed_in_as: Callable[[Person], TestClient],
) -> None:
    mine = make_organization("Lakeside Community Hospital")
    make_organization("Hillcrest Regional Medical Center")
    browser = signed_in_as(make_user(orgs=[mine.id]))
    page = browser.get("/console")
    assert "Lakeside Community Hospital" in page.text
    assert "Hillcrest Regional" not in page.text


def test_the_console_pages_carry_the_security_headers(
    client: TestClient, make_user: Callable[..., Person]
) -> None:
    response = client.get("/console/sign-in")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"


def test_an_id_that_is_not_an_id_is_a_404_page_not_a_500(
    client: TestClient,
    make_user: Callable[..., Person],
    signed_in_as: Callable[[Person], TestClient],
) -> None:
    browser = signed_in_as(make_user())
    response = browser.get("/console/assessments/not-a-uuid")
    assert response.status_code == 404
    assert "Not found" in response.text
