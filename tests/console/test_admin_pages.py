"""The console's admin pages: users, API keys and the audit trail, for admins only."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import User
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.auth.models import ApiKey, ApiKeyGrant, Role
from app.auth.service import KEY, KEY_PATTERN, create_key, grants_of
from app.organizations.models import Organization
from tests.conftest import bearer
from tests.console.conftest import Person, csrf_of, sign_in
from tests.support.cli import run_smm
from tests.support.databases import migrated_engine, postgres_database

MakeUser = Callable[..., Person]
SignedIn = Callable[[Person], TestClient]


@pytest.fixture
def admin(make_user: MakeUser) -> Person:
    return make_user("admin", email="ada@example.org")


@pytest.fixture
def as_admin(signed_in_as: SignedIn, admin: Person) -> TestClient:
    return signed_in_as(admin)


def _token(client: TestClient) -> str:
    return csrf_of(client, "/console/admin")


def _form(
    client: TestClient, organization: Organization, typed: dict[str, str], changes: dict[str, str]
) -> dict[str, str]:
    """A form as typed, with the test's changes ("{org}" in one: the organization's id,
    "{missing}": an id of no organization) and the CSRF token."""
    ids = {"org": str(organization.id), "missing": str(uuid.uuid4())}
    return {
        "csrf_token": _token(client),
        **typed,
        **{k: v.format(**ids) for k, v in changes.items()},
    }


def _assert_refused_naming(response: Response, field: str, message: str) -> None:
    """The form came back with one error, on ``field``, saying ``message``; the summary
    links to the field and the message stands next to it."""
    errors = response.context["form"].errors  # type: ignore[attr-defined]
    assert list(errors) == [field]
    assert message in errors[field]
    assert f'href="#{field}"' in response.text  # the summary links to the field
    assert f'id="{field}-error"' in response.text


def _events(db: Session, action: str, outcome: str = "success") -> list[AuditEvent]:
    db.expire_all()
    return list(
        db.scalars(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.outcome == outcome)
        )
    )


def _all_audit_text(db: Session) -> str:
    db.expire_all()
    return " ".join(f"{e.action} {e.object_id} {e.detail}" for e in db.scalars(select(AuditEvent)))


def _count(db: Session, model: Any) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _keys(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(ApiKey).where(ApiKey.kind == KEY)) or 0)


# -- the overview ---------------------------------------------------------------------------


def test_the_admin_page_lists_users_and_keys_with_what_each_may_do(
    as_admin: TestClient,
    make_user: MakeUser,
    make_organization: Callable[..., Organization],
    db: Session,
) -> None:
    lakeside = make_organization("Lakeside Community Hospital")
    consultant = make_user("consultant", [lakeside.id], email="cy@example.org")
    accounts.disable_user(db, consultant.user)
    issued = create_key(db, Role.PARTNER, [lakeside.id], "Acme Analytics")
    db.commit()

    response = as_admin.get("/console/admin")

    assert response.status_code == 200
    assert response.template.name == "console/admin.html"  # type: ignore[attr-defined]
    text = response.text
    for shown in ("ada@example.org", "cy@example.org", "Disabled", issued.key.prefix):
        assert shown in text
    assert "Acme Analytics" in text
    assert "Lakeside Community Hospital" in text
    assert issued.token not in text
    assert 'aria-current="page"' in text
    assert "Users and keys" in text


def test_a_stranger_is_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/console/admin/audit", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/sign-in?next=/console/admin/audit")


# -- only admins ----------------------------------------------------------------------------

GETS = [
    "/console/admin",
    "/console/admin/users/new",
    "/console/admin/users/{user}",
    "/console/admin/keys/new",
    "/console/admin/keys/{key}",
    "/console/admin/audit",
]
POSTS = [
    ("/console/admin/users", {"email": "eve@example.org", "name": "Eve", "role": "admin"}),
    ("/console/admin/users/{user}/access", {"role": "admin"}),
    ("/console/admin/users/{user}/disable", {}),
    ("/console/admin/users/{user}/enable", {}),
    ("/console/admin/users/{user}/reset", {}),
    ("/console/admin/keys", {"role": "admin"}),
    ("/console/admin/keys/{key}/revoke", {}),
    ("/console/admin/keys/{key}/grant", {"organizations": "{org}"}),
]


@pytest.fixture
def targets(
    make_user: MakeUser, make_organization: Callable[..., Organization], db: Session
) -> dict[str, str]:
    """A user, a key and an organization for the admin routes to act on."""
    organization = make_organization()
    other = make_user("consultant", email="target@example.org")
    key = create_key(db, Role.PARTNER, []).key
    db.commit()
    return {"user": str(other.user.id), "key": str(key.id), "org": str(organization.id)}


@pytest.mark.parametrize("path", GETS)
def test_a_consultant_gets_403_on_every_admin_page(
    signed_in_as: SignedIn, make_user: MakeUser, targets: dict[str, str], path: str
) -> None:
    browser = signed_in_as(make_user("consultant"))
    response = browser.get(path.format(**targets))
    assert response.status_code == 403
    assert "For administrators only" in response.text


@pytest.mark.parametrize(("path", "data"), POSTS)
def test_a_consultant_gets_403_on_every_admin_change_and_nothing_changes(
    signed_in_as: SignedIn,
    make_user: MakeUser,
    targets: dict[str, str],
    db: Session,
    path: str,
    data: dict[str, str],
) -> None:
    consultant = make_user("consultant")
    browser = signed_in_as(consultant)
    users, keys = _count(db, User), _keys(db)
    form = {k: v.format(**targets) for k, v in data.items()}
    response = browser.post(path.format(**targets), data={**form, "csrf_token": csrf_of(browser)})
    assert response.status_code == 403
    assert "For administrators only" in response.text
    assert (_count(db, User), _keys(db)) == (users, keys)
    target = db.get_one(User, uuid.UUID(targets["user"]))
    assert target.disabled_at is None
    assert accounts.account(db, target).role is Role.CONSULTANT
    key = db.get_one(ApiKey, uuid.UUID(targets["key"]))
    assert key.revoked_at is None
    assert grants_of(db, key.id) == []
    denied = db.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert [e.user_id for e in denied] == [consultant.user.id]


@pytest.mark.parametrize(("path", "data"), POSTS)
def test_every_admin_change_needs_the_sessions_csrf_token(
    as_admin: TestClient,
    targets: dict[str, str],
    db: Session,
    path: str,
    data: dict[str, str],
) -> None:
    users, keys = _count(db, User), _keys(db)
    form = {k: v.format(**targets) for k, v in data.items()}
    for token in (None, "forged"):
        sent = form if token is None else {**form, "csrf_token": token}
        response = as_admin.post(path.format(**targets), data=sent)
        assert response.status_code == 403
        assert "This page has expired" in response.text
    assert (_count(db, User), _keys(db)) == (users, keys)
    target = db.get_one(User, uuid.UUID(targets["user"]))
    assert target.disabled_at is None
    assert target.password_hash is not None
    assert db.get_one(ApiKey, uuid.UUID(targets["key"])).revoked_at is None


@pytest.mark.parametrize(
    "path",
    [
        "/console/admin/users/{missing}",
        "/console/admin/users/not-an-id",
        "/console/admin/users/target@example.org",
        "/console/admin/keys/{missing}",
        "/console/admin/keys/{principal}",  # a user's principal is no API key
    ],
)
def test_an_unknown_user_or_key_is_404(
    as_admin: TestClient, targets: dict[str, str], db: Session, path: str
) -> None:
    principal = db.get_one(User, uuid.UUID(targets["user"])).principal_id
    response = as_admin.get(path.format(missing=uuid.uuid4(), principal=principal))
    assert response.status_code == 404


# -- users ----------------------------------------------------------------------------------


def test_a_new_users_password_is_made_shown_once_and_only_its_hash_is_kept(
    as_admin: TestClient,
    admin: Person,
    make_organization: Callable[..., Organization],
    db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lakeside = make_organization()
    caplog.set_level(logging.DEBUG)
    new_form = as_admin.get("/console/admin/users/new")
    assert new_form.status_code == 200
    assert "Lakeside Community Hospital" in new_form.text

    response = as_admin.post(
        "/console/admin/users",
        data={
            "csrf_token": _token(as_admin),
            "email": " Cy@Example.org ",
            "name": "Cy Young",
            "role": "consultant",
            "organizations": str(lakeside.id),
            "password": "",
        },
        follow_redirects=False,
    )

    assert response.status_code == 200
    assert response.template.name == "console/admin_secret.html"  # type: ignore[attr-defined]
    password: str = response.context["secret"]  # type: ignore[attr-defined]
    assert len(password) >= accounts.MIN_PASSWORD_LENGTH
    assert password in response.text
    assert password not in response.headers.get("location", "")
    db.expire_all()
    user = db.scalars(select(User).where(User.email == "cy@example.org")).one()
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2")
    assert password not in user.password_hash
    assert accounts.check_password(db, "cy@example.org", password).id == user.id
    assert accounts.account(db, user).organization_ids == [lakeside.id]
    # Never again: not on the list, not on the user's page, not in the trail or the logs.
    assert password not in as_admin.get("/console/admin").text
    assert password not in as_admin.get(f"/console/admin/users/{user.id}").text
    assert password not in _all_audit_text(db)
    assert password not in caplog.text

    (event,) = _events(db, "user.create")
    assert (event.outcome, event.object_type, event.object_id) == (
        "success",
        "user",
        str(user.id),
    )
    assert (event.actor_type, event.user_id) == ("user", admin.user.id)
    assert event.detail is not None
    assert event.detail["role"] == "consultant"


def test_a_password_the_admin_chose_is_never_shown(as_admin: TestClient, db: Session) -> None:
    chosen = "a long chosen password"
    response = as_admin.post(
        "/console/admin/users",
        data={
            "csrf_token": _token(as_admin),
            "email": "kim@example.org",
            "name": "Kim",
            "role": "admin",
            "password": chosen,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.expire_all()
    user = db.scalars(select(User).where(User.email == "kim@example.org")).one()
    assert response.headers["location"] == f"/console/admin/users/{user.id}?done=created"
    page = as_admin.get(response.headers["location"])
    assert "The user is added" in page.text
    assert chosen not in page.text
    assert accounts.check_password(db, "kim@example.org", chosen).id == user.id
    assert chosen not in _all_audit_text(db)


@pytest.mark.parametrize(
    ("changes", "field", "status", "message"),
    [
        ({"email": "not an address"}, "email", 422, "not an email address"),
        ({"email": "ada@example.org"}, "email", 409, "already a user"),
        ({"name": "  "}, "name", 422, "name"),
        ({"name": "n" * 201}, "name", 422, "at most 200"),
        ({"password": "short"}, "password", 422, "at least 12 characters"),
        ({"role": "partner"}, "role", 422, "admin or a consultant"),
        ({"role": ""}, "role", 422, "Choose a role"),
        ({"role": "admin", "organizations": "{org}"}, "organizations", 422, "every organization"),
        ({"organizations": "not-an-id"}, "organizations", 422, "from the list"),
        ({"organizations": "{missing}"}, "organizations", 422, "no organization"),
    ],
)
def test_a_bad_new_user_is_refused_naming_the_field_keeping_the_input_storing_nothing(
    as_admin: TestClient,
    make_organization: Callable[..., Organization],
    db: Session,
    changes: dict[str, str],
    field: str,
    status: int,
    message: str,
) -> None:
    typed = {"email": "lee@example.org", "name": "Lee Typed-Name", "role": "consultant"}
    data = _form(as_admin, make_organization(), {**typed, "password": ""}, changes)
    users, keys = _count(db, User), _count(db, ApiKey)

    response = as_admin.post("/console/admin/users", data=data)

    assert response.status_code == status
    assert response.template.name == "console/admin_user_new.html"  # type: ignore[attr-defined]
    _assert_refused_naming(response, field, message)
    if field not in ("role", "organizations"):
        assert f'id="{field}" name="{field}"' in response.text
        assert 'aria-invalid="true"' in response.text
    if field != "name":
        assert "Lee Typed-Name" in response.text  # kept as typed
    password_input = re.search(r'<input[^>]* id="password"[^>]*>', response.text)
    assert password_input is not None
    assert "value=" not in password_input.group(0)
    assert (_count(db, User), _count(db, ApiKey)) == (users, keys)


def test_access_is_changed_to_the_organizations_ticked(
    as_admin: TestClient,
    admin: Person,
    make_user: MakeUser,
    make_organization: Callable[..., Organization],
    db: Session,
) -> None:
    first, second = make_organization("Lakeside"), make_organization("Riverside")
    person = make_user("consultant", [first.id])
    page = as_admin.get(f"/console/admin/users/{person.user.id}")
    assert page.status_code == 200
    assert f'value="{first.id}" checked' in page.text

    response = as_admin.post(
        f"/console/admin/users/{person.user.id}/access",
        data={
            "csrf_token": _token(as_admin),
            "role": "consultant",
            "organizations": [str(second.id)],
        },
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/console/admin/users/{person.user.id}?done=access"
    assert "role and organizations are saved" in as_admin.get(response.headers["location"]).text
    db.expire_all()
    assert accounts.account(db, person.user).organization_ids == [second.id]
    (event,) = _events(db, "user.update")
    assert (event.object_type, event.object_id, event.user_id) == (
        "user",
        str(person.user.id),
        admin.user.id,
    )
    assert event.detail is not None
    assert event.detail["organizations"] == 1

    bad = as_admin.post(
        f"/console/admin/users/{person.user.id}/access",
        data={"csrf_token": _token(as_admin), "role": "owner", "organizations": [str(first.id)]},
    )
    assert bad.status_code == 422
    assert "role" in bad.context["form"].errors  # type: ignore[attr-defined]
    db.expire_all()
    assert accounts.account(db, person.user).organization_ids == [second.id]


def test_disable_enable_and_reset_a_user(
    client: TestClient, app: Any, admin: Person, make_user: MakeUser, db: Session
) -> None:
    person = make_user("consultant", email="cy@example.org")
    with TestClient(app, raise_server_exceptions=False) as theirs:
        assert sign_in(theirs, person.email, person.password).status_code == 303
        sign_in(client, admin.email, admin.password)
        base = f"/console/admin/users/{person.user.id}"

        disabled = client.post(
            f"{base}/disable", data={"csrf_token": _token(client)}, follow_redirects=False
        )
        assert disabled.status_code == 303
        assert theirs.get("/console", follow_redirects=False).status_code == 303  # signed out
        page = client.get(disabled.headers["location"])
        assert "signed out everywhere" in page.text
        assert "Disabled" in page.text
        assert sign_in(theirs, person.email, person.password).status_code == 401

        enabled = client.post(
            f"{base}/enable", data={"csrf_token": _token(client)}, follow_redirects=False
        )
        assert enabled.status_code == 303
        assert sign_in(theirs, person.email, person.password).status_code == 303

        reset = client.post(f"{base}/reset", data={"csrf_token": _token(client)})
        assert reset.status_code == 200
        password: str = reset.context["secret"]  # type: ignore[attr-defined]
        assert password in reset.text
        assert theirs.get("/console", follow_redirects=False).status_code == 303  # signed out
        assert sign_in(theirs, person.email, person.password).status_code == 401
        assert sign_in(theirs, person.email, password).status_code == 303

    for action in ("user.disable", "user.enable", "user.reset"):
        (event,) = _events(db, action)
        assert (event.object_type, event.object_id) == ("user", str(person.user.id))
        assert (event.actor_type, event.user_id) == ("user", admin.user.id)
    assert password not in _all_audit_text(db)
    db.expire_all()
    assert password not in (db.get_one(User, person.user.id).password_hash or "")


# -- the last admin -------------------------------------------------------------------------


def test_the_last_active_admin_cannot_be_disabled_or_demoted_in_the_console(
    as_admin: TestClient, admin: Person, make_user: MakeUser, db: Session
) -> None:
    make_user("consultant")
    base = f"/console/admin/users/{admin.user.id}"

    disable = as_admin.post(f"{base}/disable", data={"csrf_token": _token(as_admin)})
    assert disable.status_code == 409
    assert "last active admin" in disable.text
    assert "state" in disable.context["form"].errors  # type: ignore[attr-defined]

    demote = as_admin.post(
        f"{base}/access", data={"csrf_token": _token(as_admin), "role": "consultant"}
    )
    assert demote.status_code == 409
    assert "last active admin" in demote.context["form"].errors["role"]  # type: ignore[attr-defined]

    db.expire_all()
    assert db.get_one(User, admin.user.id).disabled_at is None
    assert accounts.account(db, admin.user).role is Role.ADMIN
    assert as_admin.get("/console/admin").status_code == 200  # still signed in, still admin
    refused = db.scalars(select(AuditEvent).where(AuditEvent.outcome == "failed")).all()
    assert {(e.action, e.object_id) for e in refused} == {
        ("user.disable", str(admin.user.id)),
        ("user.update", str(admin.user.id)),
    }


def test_with_another_admin_an_admin_may_step_down(
    as_admin: TestClient, admin: Person, make_user: MakeUser, db: Session
) -> None:
    other = make_user("admin")
    accounts.disable_user(db, other.user)  # a disabled admin is no admin to keep
    db.commit()
    demote = as_admin.post(
        f"/console/admin/users/{admin.user.id}/access",
        data={"csrf_token": _token(as_admin), "role": "consultant"},
    )
    assert demote.status_code == 409

    accounts.enable_user(db, other.user)
    db.commit()
    stepped_down = as_admin.post(
        f"/console/admin/users/{admin.user.id}/access",
        data={"csrf_token": _token(as_admin), "role": "consultant"},
        follow_redirects=False,
    )
    assert stepped_down.status_code == 303
    assert stepped_down.headers["location"] == "/console"  # these pages are closed to them now
    assert as_admin.get("/console/admin").status_code == 403


def test_the_service_keeps_an_admin(make_user: MakeUser, db: Session) -> None:
    only = make_user("admin")
    with pytest.raises(accounts.LastAdmin):
        accounts.disable_user(db, only.user)
    with pytest.raises(accounts.LastAdmin):
        accounts.change_access(db, only.user, role=Role.CONSULTANT, organization_ids=[])
    second = make_user("admin")
    accounts.disable_user(db, only.user)
    with pytest.raises(accounts.LastAdmin):
        accounts.disable_user(db, second.user)
    accounts.enable_user(db, only.user)
    accounts.change_access(db, second.user, role=Role.CONSULTANT, organization_ids=[])
    assert accounts.active_admins(db) == [only.user.id]


def test_smm_users_disable_refuses_the_last_admin(env: dict[str, str]) -> None:
    run_smm("users", "create", "ada@example.org", "--name", "Ada", "--role", "admin", env=env)
    refused = run_smm("users", "disable", "ada@example.org", env=env, check=False)
    assert refused.returncode == 1
    assert "last active admin" in refused.stderr
    assert "active" in run_smm("users", "list", env=env).stdout

    run_smm("users", "create", "bo@example.org", "--name", "Bo", "--role", "admin", env=env)
    run_smm("users", "disable", "ada@example.org", env=env)
    listing = run_smm("users", "list", env=env).stdout
    assert "disabled" in listing


# -- API keys -------------------------------------------------------------------------------


def test_a_new_keys_token_is_shown_once_and_only_its_hash_is_kept(
    as_admin: TestClient,
    admin: Person,
    make_organization: Callable[..., Organization],
    db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    lakeside = make_organization()
    caplog.set_level(logging.DEBUG)
    assert "Lakeside Community Hospital" in as_admin.get("/console/admin/keys/new").text

    response = as_admin.post(
        "/console/admin/keys",
        data={
            "csrf_token": _token(as_admin),
            "role": "partner",
            "name": "Acme Analytics",
            "organizations": str(lakeside.id),
        },
        follow_redirects=False,
    )

    assert response.status_code == 200
    token: str = response.context["secret"]  # type: ignore[attr-defined]
    assert token.startswith("smm_")
    assert token in response.text
    db.expire_all()
    key = db.scalars(select(ApiKey).where(ApiKey.name == "Acme Analytics")).one()
    match = KEY_PATTERN.match(token)
    assert match is not None
    secret = match["secret"]
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in key.secret_hash
    assert key.role == "partner"
    assert grants_of(db, key.id) == [lakeside.id]
    # It works, and it is never shown, recorded or logged again.
    assert (
        as_admin.get(f"/v1/organizations/{lakeside.id}", headers=bearer(token)).status_code == 200
    )
    assert token not in as_admin.get("/console/admin").text
    assert secret not in as_admin.get(f"/console/admin/keys/{key.id}").text
    assert secret not in _all_audit_text(db)
    assert secret not in caplog.text
    (event,) = _events(db, "api_key.create")
    assert (event.object_type, event.object_id) == ("api_key", str(key.id))
    assert (event.actor_type, event.user_id) == ("user", admin.user.id)
    assert event.detail is not None
    assert event.detail["role"] == "partner"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"role": ""}, "role", "Choose a role"),
        ({"role": "owner"}, "role", "Choose a role"),
        ({"role": "admin", "organizations": "{org}"}, "organizations", "every organization"),
        ({"organizations": "{missing}"}, "organizations", "no organization"),
        ({"name": "n" * 201}, "name", "at most 200"),
    ],
)
def test_a_bad_new_key_is_refused_naming_the_field_and_nothing_is_stored(
    as_admin: TestClient,
    make_organization: Callable[..., Organization],
    db: Session,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    data = _form(as_admin, make_organization(), {"role": "partner", "name": "Typed Label"}, changes)
    keys = _count(db, ApiKey)
    response = as_admin.post("/console/admin/keys", data=data)
    assert response.status_code == 422
    _assert_refused_naming(response, field, message)
    if field != "name":
        assert 'value="Typed Label"' in response.text
    assert _count(db, ApiKey) == keys
    assert _count(db, ApiKeyGrant) == 0


def test_a_key_is_granted_organizations_then_revoked(
    as_admin: TestClient,
    admin: Person,
    make_organization: Callable[..., Organization],
    db: Session,
) -> None:
    lakeside, riverside = make_organization("Lakeside"), make_organization("Riverside")
    issued = create_key(db, Role.CONSULTANT, [lakeside.id], "Field team")
    db.commit()
    base = f"/console/admin/keys/{issued.key.id}"
    page = as_admin.get(base)
    assert page.status_code == 200
    assert f'value="{riverside.id}"' in page.text
    assert f'value="{lakeside.id}"' not in page.text  # granted already

    nothing = as_admin.post(f"{base}/grant", data={"csrf_token": _token(as_admin)})
    assert nothing.status_code == 422
    assert "organizations" in nothing.context["form"].errors  # type: ignore[attr-defined]

    granted = as_admin.post(
        f"{base}/grant",
        data={"csrf_token": _token(as_admin), "organizations": str(riverside.id)},
        follow_redirects=False,
    )
    assert granted.status_code == 303
    assert "may now work on" in as_admin.get(granted.headers["location"]).text
    db.expire_all()
    assert set(grants_of(db, issued.key.id)) == {lakeside.id, riverside.id}
    (event,) = _events(db, "api_key.grant")
    assert (event.object_type, event.object_id) == ("api_key", str(issued.key.id))
    assert event.organization_id == riverside.id
    assert event.user_id == admin.user.id

    revoked = as_admin.post(
        f"{base}/revoke", data={"csrf_token": _token(as_admin)}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert "revoked" in as_admin.get(revoked.headers["location"]).text
    assert as_admin.get("/v1/organizations", headers=bearer(issued.token)).status_code == 401
    (event,) = _events(db, "api_key.revoke")
    assert (event.object_type, event.object_id, event.user_id) == (
        "api_key",
        str(issued.key.id),
        admin.user.id,
    )


def test_an_admin_key_takes_no_grant(
    as_admin: TestClient, make_organization: Callable[..., Organization], db: Session
) -> None:
    organization = make_organization()
    key = create_key(db, Role.ADMIN, []).key
    db.commit()
    assert (
        'action="/console/admin/keys/' + str(key.id) + '/grant"'
        not in as_admin.get(f"/console/admin/keys/{key.id}").text
    )
    response = as_admin.post(
        f"/console/admin/keys/{key.id}/grant",
        data={"csrf_token": _token(as_admin), "organizations": str(organization.id)},
    )
    assert response.status_code == 422
    assert "every organization" in response.context["form"].errors["organizations"]  # type: ignore[attr-defined]
    assert _count(db, ApiKeyGrant) == 0


# -- the audit trail ------------------------------------------------------------------------


def _event(db: Session, action: str, **fields: Any) -> None:
    audit.record(db, audit.Entry(fields.pop("actor", audit.CLI), action, **fields))


def test_the_trail_is_newest_first_filtered_and_paged(
    as_admin: TestClient,
    admin: Person,
    make_organization: Callable[..., Organization],
    db: Session,
) -> None:
    lakeside = make_organization("Lakeside Community Hospital")
    key = create_key(db, Role.PARTNER, [lakeside.id], "Acme").key
    for number in range(60):
        _event(db, "assessment.create", outcome=audit.Outcome.SUCCESS, object_id=f"n{number}")
    _event(
        db,
        "report.download",
        actor=audit.Actor.key(key.id),
        outcome=audit.Outcome.DENIED,
        organization_id=lakeside.id,
        object_type="organization",
        object_id=str(lakeside.id),
    )
    db.commit()

    everything = as_admin.get("/console/admin/audit")
    assert everything.status_code == 200
    rows = everything.context["rows"]  # type: ignore[attr-defined]
    assert len(rows) == 50
    assert rows[0].event.action == "report.download"  # the newest
    assert rows[0].actor == f"Key {key.prefix}"
    assert rows[0].organization == "Lakeside Community Hospital"
    assert "Older events" in everything.text
    assert "Newer events" not in everything.text
    ids = [r.event.id for r in rows]
    assert ids == sorted(ids, reverse=True)

    older = as_admin.get("/console/admin/audit?page=2")
    assert "Newer events" in older.text
    assert older.context["rows"][0].event.id < ids[-1]  # type: ignore[attr-defined]

    def shown(query: str) -> set[str]:
        response = as_admin.get(f"/console/admin/audit?{query}")
        assert response.status_code == 200, response.text
        return {r.event.action for r in response.context["rows"]}  # type: ignore[attr-defined]

    assert shown("action=report.download") == {"report.download"}
    assert shown("outcome=denied&page=1") == {"report.download"}
    assert shown(f"organization={lakeside.id}") == {"report.download"}
    assert shown(f"actor=key:{key.id}") == {"report.download"}
    selected = as_admin.get(f"/console/admin/audit?actor=key:{key.id}&outcome=denied")
    assert f'value="key:{key.id}" selected' in selected.text
    assert 'value="denied" selected' in selected.text


def test_the_trail_filters_by_console_user(
    as_admin: TestClient, admin: Person, db: Session
) -> None:
    as_admin.post("/console/admin/keys", data={"csrf_token": _token(as_admin), "role": "admin"})
    _event(db, "organization.create", outcome=audit.Outcome.SUCCESS)
    db.commit()
    response = as_admin.get(f"/console/admin/audit?actor=user:{admin.user.id}")
    rows = response.context["rows"]  # type: ignore[attr-defined]
    assert {r.event.action for r in rows} == {"auth.sign_in", "api_key.create"}
    assert {r.actor for r in rows} == {"ada@example.org"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("action=drop%20table", "action"),
        ("action=" + "a" * 65, "action"),
        ("outcome=maybe", "outcome"),
        ("organization=lakeside", "organization"),
        ("actor=someone", "actor"),
        (f"actor=group:{uuid.UUID(int=1)}", "actor"),
        ("page=0", "page"),
        ("page=two", "page"),
    ],
)
def test_a_bad_filter_is_422_naming_it(as_admin: TestClient, query: str, field: str) -> None:
    response = as_admin.get(f"/console/admin/audit?{query}")
    assert response.status_code == 422
    assert list(response.context["form"].errors) == [field]  # type: ignore[attr-defined]
    assert response.context["rows"] is None  # type: ignore[attr-defined]
    assert f'id="{field}-error"' in response.text or field == "page"


def _take_away(session: Session, user: User, how: str) -> None:
    if how == "disable":
        accounts.disable_user(session, user)
    else:
        accounts.change_access(session, user, role=Role.CONSULTANT, organization_ids=[])


@pytest.mark.parametrize("second", ["disable", "demote"])
@pytest.mark.parametrize("first", ["disable", "demote"])
def test_two_admins_taking_each_other_away_at_once_leave_one_on_postgresql(
    postgres_server: str, first: str, second: str
) -> None:
    """The admins' rows are locked while the rule is checked: the second change waits for
    the first, then sees that it would leave no admin."""
    with postgres_database(postgres_server) as url, migrated_engine(url) as engine:
        with Session(engine) as session, session.begin():
            ada = accounts.create_user(session, email="a@example.org", name="A", role=Role.ADMIN)
            bo = accounts.create_user(session, email="b@example.org", name="B", role=Role.ADMIN)
            ids = ada.id, bo.id
        outcome: list[BaseException | None] = []

        def other_admin() -> None:
            with Session(engine) as theirs:
                try:
                    with theirs.begin():
                        _take_away(theirs, theirs.get_one(User, ids[1]), second)
                    outcome.append(None)
                except BaseException as exc:
                    outcome.append(exc)

        with Session(engine) as mine:
            with mine.begin():
                _take_away(mine, mine.get_one(User, ids[0]), first)
                thread = threading.Thread(target=other_admin)
                thread.start()
                thread.join(0.5)
                assert thread.is_alive()  # waiting for this transaction's locks
            thread.join(30)
        assert len(outcome) == 1
        assert isinstance(outcome[0], accounts.LastAdmin)
        with Session(engine) as session:
            assert accounts.active_admins(session) == [ids[1]]
