"""Fixtures for the console: users, and a browser (test client) signed in as one."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.service import create_user
from app.auth.models import Role
from app.config import Settings

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    """Settings with a key file of the test's own and sign-in limits no test reaches."""
    return Settings(
        database_url="sqlite:///" + str(tmp_path / "unused.db"),
        run_report_jobs=False,
        secret_key_file=tmp_path / "secret_key",
        sign_in_rate_limit=100_000,
        sign_in_rate_burst=100_000,
    )


@dataclass
class Person:
    """A console user as a test knows it: the row, and the password to sign in with."""

    user: User
    password: str

    @property
    def email(self) -> str:
        return self.user.email


@pytest.fixture
def make_user(db: Session) -> Callable[..., Person]:
    """Create a console user in the test database."""

    def make(
        role: str = "consultant",
        orgs: list[uuid.UUID] | None = None,
        email: str | None = None,
        password: str = PASSWORD,
    ) -> Person:
        user = create_user(
            db,
            email=email or f"user-{uuid.uuid4().hex[:8]}@example.org",
            name="Dana Whitfield",
            role=Role(role),
            organization_ids=orgs or [],
            password=password,
        )
        db.commit()
        return Person(user, password)

    return make


def sign_in_token(client: TestClient, path: str = "/console/sign-in") -> str:
    """The CSRF token of the sign-in form (the page also sets its nonce cookie)."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert match, response.text
    return match.group(1)


def sign_in(
    client: TestClient, email: str, password: str, *, next_url: str = "/console"
) -> Response:
    """Post the sign-in form as a browser would."""
    token = sign_in_token(client)
    return client.post(
        "/console/sign-in",
        data={"csrf_token": token, "email": email, "password": password, "next": next_url},
        follow_redirects=False,
    )


def csrf_of(client: TestClient, path: str = "/console/account") -> str:
    """The CSRF token a signed-in page carries."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    token: str = response.context["csrf_token"]  # type: ignore[attr-defined]
    return token


@pytest.fixture
def signed_in_as(client: TestClient) -> Callable[[Person], TestClient]:
    """The test client, signed in as a person."""

    def sign(person: Person) -> TestClient:
        response = sign_in(client, person.email, person.password)
        assert response.status_code == 303, response.text
        return client

    return sign
