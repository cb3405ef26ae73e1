"""Fixtures for the console: users, and a browser (test client) signed in as one."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.service import create_user
from app.auth.models import Role
from app.config import Settings
from app.organizations.models import Organization
from tests.support.browser import launched_chromium
from tests.support.settings import SIGN_IN_UNLIMITED, settings_for

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    """Settings with a key file of the test's own and sign-in limits no test reaches."""
    return settings_for(tmp_path, **SIGN_IN_UNLIMITED)


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


def post_form(
    client: TestClient, path: str, data: dict[str, Any], *, form: str, **options: Any
) -> Response:
    """Post ``data`` to ``path`` with the CSRF token of the page ``form`` (as its form would)."""
    return client.post(path, data={"csrf_token": csrf_of(client, form), **data}, **options)


@pytest.fixture
def consultant_of(
    make_user: Callable[..., Person], signed_in_as: Callable[[Person], TestClient]
) -> Callable[..., TestClient]:
    """The test client, signed in as a new consultant of the organizations given."""

    def sign(*organizations: Organization) -> TestClient:
        return signed_in_as(make_user("consultant", [o.id for o in organizations]))

    return sign


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless chromium for a browser test module (skipped where it is missing)."""
    with launched_chromium() as chromium:
        yield chromium
