"""Signing in to the console through an identity provider (the local fake one)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.config import Settings
from app.console.security import OIDC_COOKIE
from tests.console.conftest import Person, sign_in_token
from tests.support.oidc import FakeOidcProvider, FakeUser


@pytest.fixture
def app_settings(tmp_path: Path, oidc_provider: FakeOidcProvider) -> Settings:
    return oidc_provider.settings(
        database_url="sqlite:///" + str(tmp_path / "unused.db"),
        run_report_jobs=False,
        secret_key_file=tmp_path / "secret_key",
        sign_in_rate_limit=100_000,
        sign_in_rate_burst=100_000,
    )


def _through_the_provider(
    client: TestClient, provider: FakeOidcProvider, next_url: str = "/console"
) -> httpx.Response:
    token = sign_in_token(client)
    started = client.post(
        "/console/sign-in/oidc",
        data={"csrf_token": token, "next": next_url},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    assert started.headers["location"].startswith(provider.issuer)
    callback = urlsplit(provider.authorize(started.headers["location"]))
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_the_sign_in_page_offers_the_provider(client: TestClient) -> None:
    assert "Sign in with Fake IdP" in client.get("/console/sign-in").text


def test_a_user_with_an_account_signs_in_through_the_provider_and_is_linked(
    client: TestClient,
    oidc_provider: FakeOidcProvider,
    make_user: Callable[..., Person],
    db: Session,
) -> None:
    person = make_user(email="ana.lopez@lakeside.example")
    oidc_provider.user = FakeUser(sub="idp-42", email="Ana.Lopez@lakeside.example")
    answer = _through_the_provider(client, oidc_provider, "/console/account")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/account"
    assert person.email in client.get("/console/account").text
    db.expire_all()
    user = db.get_one(User, person.user.id)
    assert (user.oidc_issuer, user.oidc_subject) == (oidc_provider.issuer, "idp-42")
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "auth.sign_in").order_by(AuditEvent.id)
    ).all()[-1]
    assert event.outcome == "success"
    assert event.user_id == person.user.id

    # Next time the subject finds the user, even if the provider's email changed.
    client.cookies.clear()
    oidc_provider.user = FakeUser(sub="idp-42", email="ana@new-domain.example")
    assert _through_the_provider(client, oidc_provider).status_code == 303


def test_nobody_gets_an_account_just_by_having_one_at_the_provider(
    client: TestClient, oidc_provider: FakeOidcProvider, db: Session
) -> None:
    oidc_provider.user = FakeUser(sub="stranger", email="stranger@example.org")
    answer = _through_the_provider(client, oidc_provider)
    assert answer.status_code == 401
    assert "no console account" in answer.text
    assert db.scalar(select(User).where(User.email == "stranger@example.org")) is None
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_an_unverified_email_does_not_link_an_account(
    client: TestClient, oidc_provider: FakeOidcProvider, make_user: Callable[..., Person]
) -> None:
    person = make_user(email="ana.lopez@lakeside.example")
    oidc_provider.user = FakeUser(sub="idp-7", email=person.email, email_verified=False)
    assert _through_the_provider(client, oidc_provider).status_code == 401


def test_a_refusal_by_the_provider_is_explained_and_signs_nobody_in(
    client: TestClient, oidc_provider: FakeOidcProvider, make_user: Callable[..., Person]
) -> None:
    make_user(email="ana.lopez@lakeside.example")
    oidc_provider.faults.audience = "someone-else"
    answer = _through_the_provider(client, oidc_provider)
    assert answer.status_code == 401
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_a_callback_without_the_browsers_start_cookie_is_refused(
    client: TestClient, oidc_provider: FakeOidcProvider, make_user: Callable[..., Person]
) -> None:
    make_user(email="ana.lopez@lakeside.example")
    token = sign_in_token(client)
    started = client.post(
        "/console/sign-in/oidc", data={"csrf_token": token}, follow_redirects=False
    )
    callback = urlsplit(oidc_provider.authorize(started.headers["location"]))
    client.cookies.delete(OIDC_COOKIE, domain="testserver.local", path="/console")
    answer = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert answer.status_code == 401
    assert "took too long" in answer.text


def test_starting_needs_the_sign_in_forms_token(client: TestClient) -> None:
    sign_in_token(client)
    answer = client.post("/console/sign-in/oidc", data={"csrf_token": "x"}, follow_redirects=False)
    assert answer.status_code == 403
