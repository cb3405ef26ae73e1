"""Without SMTP the console offers no email field, and refuses an email posted anyway."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.invitations.models import Invitation
from app.organizations.models import Organization
from tests.console.conftest import Person, csrf_of


def test_no_smtp_no_email_field_and_a_posted_email_is_refused(
    make_user: Callable[..., Person],
    signed_in_as: Callable[[Person], TestClient],
    make_organization: Callable[..., Organization],
    db: Session,
) -> None:
    organization = make_organization()
    browser = signed_in_as(make_user(orgs=[organization.id]))
    path = f"/console/organizations/{organization.id}"
    page = browser.get(path)
    assert 'name="email"' not in page.text
    assert "Email" not in page.text.split('id="invitations-title"')[1].split("</table>")[0]
    answer = browser.post(
        f"{path}/invitations", data={"csrf_token": csrf_of(browser, path), "email": "a@b.org"}
    )
    assert answer.status_code == 422
    assert "no SMTP server is configured" in answer.text
    assert db.scalar(select(func.count()).select_from(Invitation)) == 0
