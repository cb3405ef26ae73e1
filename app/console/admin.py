"""The console's admin pages: console users, API keys and the audit trail.

Only an admin gets them (``AdminDep``: a 403 page for anyone else). They call the services
that `smm users` and `smm keys` call, and the one GET /v1/audit calls; the console adds no
rule of its own. A password or token made here is shown once, on the page that answers
the POST (a redirect would have to keep it somewhere until the next request), and is
never stored in plain, logged, put in the audit trail or in a URL. Console pages are
never cached (``Cache-Control: no-store``). The audit trail's page is in
``app.console.audit``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.models import User
from app.auth import service as keys
from app.auth.models import ApiKey, Role
from app.console.deps import AdminDep, Console, ConsoleFormDep, first
from app.console.errors import ConsoleRoute
from app.console.pages import page, see_other
from app.errors import AppError, InvalidRequest, NotFound
from app.http.context import record_of
from app.http.deps import SessionDep
from app.organizations.models import Organization
from app.organizations.service import list_organizations

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

USER_ROLES = (Role.ADMIN, Role.CONSULTANT)
KEY_ROLES = (Role.ADMIN, Role.CONSULTANT, Role.PARTNER)

# What a page says after a change it redirected to it for (?done=...).
DONE = {
    "created": "The user is added; they can sign in with the password you chose.",
    "access": "Their role and organizations are saved.",
    "disabled": "They are disabled and signed out everywhere.",
    "enabled": "They can sign in again.",
    "granted": "The key may now work on the organizations chosen.",
    "revoked": "The key is revoked: requests made with it are refused from now on.",
}


# -- forms ---------------------------------------------------------------------------------


@dataclass
class Form:
    """A form as shown again: what was typed, and each field's problem (by field name)."""

    values: Mapping[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        """The text typed into ``name`` ('' when none)."""
        return first(dict(self.values), name)

    def chosen(self, name: str) -> list[str]:
        """Every value ticked for ``name``."""
        return list(self.values.get(name, []))

    @property
    def summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary at the top of the page."""
        return list(self.errors.items())


def refused(values: Mapping[str, list[str]], exc: AppError, default_field: str) -> Form:
    """The form again, with the problems a service named (never a typed password)."""
    kept = {name: v for name, v in values.items() if name not in ("password", "csrf_token")}
    items = [e for e in exc.extra.get("errors") or [] if isinstance(e, dict) and e.get("field")]
    if len(items) > 1:
        problems = {str(e["field"]): _sentence(str(e["message"])) for e in items}
    else:
        problems = {str(items[0]["field"]) if items else default_field: _sentence(exc.detail)}
    return Form(kept, problems)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _invalid(name: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, errors=[{"field": name, "message": f"{name}: {message}"}])


def _status(exc: AppError) -> int:
    # A chosen organization that is gone is bad input to the form, not a missing page.
    return 422 if isinstance(exc, NotFound) else exc.status_code


def _role(fields: Mapping[str, list[str]]) -> Role:
    try:
        return Role(first(dict(fields), "role"))
    except ValueError:
        raise _invalid("role", "Choose a role.") from None


def _organization_ids(fields: Mapping[str, list[str]]) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(value) for value in fields.get("organizations", [])]
    except ValueError:
        raise _invalid("organizations", "Choose organizations from the list.") from None


@contextmanager
def _organizations_refused() -> Iterator[None]:
    """A key service's refusal about organizations (a ValueError, or NotFound for one that
    is gone) as a problem with the organizations field."""
    try:
        yield
    except ValueError as exc:
        raise _invalid("organizations", f"{_sentence(str(exc))}.") from exc
    except NotFound as exc:
        raise _invalid("organizations", exc.detail) from exc


# -- what the pages show -------------------------------------------------------------------


def organizations_of(session: Session, console: Console) -> list[Organization]:
    """Every organization the admin sees (all of them), by name, for choosing."""
    found, _ = list_organizations(session, console.principal, limit=None, offset=0)
    return sorted(found, key=lambda o: (o.name.lower(), str(o.id)))


def names_of(organizations: Iterable[Organization]) -> dict[uuid.UUID, str]:
    return {o.id: o.name for o in organizations}


def when(moment: datetime | None, never: str = "never") -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else never


def _user(session: Session, request: Request, user_id: str) -> User:
    """The user of the path (404 for anything else), named as the object of the request."""
    try:
        user = accounts.find_user(session, str(uuid.UUID(user_id)))
    except ValueError:
        raise NotFound(f"There is no user {user_id!r}.") from None
    record_of(request).acted_on(user.id, None)
    return user


def _key(session: Session, request: Request, key_id: str) -> ApiKey:
    """The API key of the path (by id only: a token never goes in a URL), named as the
    object of the request."""
    try:
        key = keys.find_key(session, str(uuid.UUID(key_id)))
    except ValueError:
        raise NotFound(f"There is no API key {key_id!r}.") from None
    record_of(request).acted_on(key.id, None)
    return key


@dataclass(frozen=True, slots=True)
class Secret:
    """A new password or token, with the words of the one page that shows it."""

    title: str
    lead: str
    label: str
    value: str


def _shown_once(request: Request, console: Console, secret: Secret, back: str) -> Response:
    """The one page that shows a new password or token."""
    return page(
        request,
        "console/admin_secret.html",
        console,
        title=secret.title,
        lead=secret.lead,
        label=secret.label,
        secret=secret.value,
        back=back,
    )


@dataclass(frozen=True, slots=True)
class NewForm:
    """One of the admin's forms that add something: its page, title and roles offered."""

    template: str
    title: str
    roles: tuple[Role, ...]
    limits: Mapping[str, int]  # the lengths the form tells about, by template name


NEW_USER = NewForm(
    "console/admin_user_new.html",
    "Add a console user",
    USER_ROLES,
    {"min_password": accounts.MIN_PASSWORD_LENGTH},
)
NEW_KEY = NewForm(
    "console/admin_key_new.html",
    "Create an API key",
    KEY_ROLES,
    {"max_name": keys.MAX_NAME_LENGTH},
)


def _new_form(
    request: Request,
    console: Console,
    session: Session,
    new: NewForm,
    form: Form,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        new.template,
        console,
        status_code=status_code,
        title=new.title,
        form=form,
        roles=new.roles,
        organizations=organizations_of(session, console),
        **new.limits,
    )


@dataclass(frozen=True, slots=True)
class Created:
    """What an add form made: its id and audit detail, its page, and the secret to show
    once (None: nothing to show, the page says it is done)."""

    object_id: uuid.UUID
    detail: Mapping[str, object]
    back: str
    secret: Secret | None


def _create(
    request: Request,
    console: Console,
    session: Session,
    fields: Mapping[str, list[str]],
    new: NewForm,
    make: Callable[[], Created],
    *,
    conflict_field: str = "organizations",
) -> Response:
    """Validate and create through ``make`` (a service call); a refusal shows the form
    again with its problems (nothing stored), else the new secret is shown, once."""
    try:
        created = make()
    except AppError as exc:
        form = refused(fields, exc, conflict_field if exc.status_code == 409 else "organizations")
        return _new_form(request, console, session, new, form, _status(exc))
    record = record_of(request)
    record.acted_on(created.object_id, None)
    record.detail.update(created.detail)
    if created.secret is None:
        return see_other(created.back + "?done=created")
    return _shown_once(request, console, created.secret, created.back)


# -- the overview --------------------------------------------------------------------------


@router.get("/console/admin")
def admin_page(request: Request, console: AdminDep, session: SessionDep) -> Response:
    """Console users and API keys, with what each may do."""
    names = names_of(organizations_of(session, console))
    return page(
        request,
        "console/admin.html",
        console,
        title="Users and keys",
        accounts=accounts.list_accounts(session),
        keys=keys.list_keys(session),
        names=names,
        when=when,
    )


# -- users ---------------------------------------------------------------------------------


@router.get("/console/admin/users/new")
def new_user_page(request: Request, console: AdminDep, session: SessionDep) -> Response:
    """The form to add a console user."""
    form = Form({"role": [Role.CONSULTANT.value]})
    return _new_form(request, console, session, NEW_USER, form)


@router.post("/console/admin/users")
def create_user(
    request: Request, console: AdminDep, fields: ConsoleFormDep, session: SessionDep
) -> Response:
    """Add a console user; a password made for them is shown on the page that answers, once."""
    typed = (fields.get("password") or [""])[0]  # as typed: spaces may be part of it
    password = typed or accounts.new_password()

    def make() -> Created:
        user = accounts.create_user(
            session,
            email=first(fields, "email"),
            name=first(fields, "name"),
            role=_role(fields),
            organization_ids=_organization_ids(fields),
            password=password,
        )
        account = accounts.account(session, user)
        secret = Secret(
            title="User added",
            lead=f"{user.name} ({user.email}) can sign in as a {account.role.value} with this "
            "password. Give it to them in a safe way: it is shown only this once, and no one "
            "can see it again. They can be given a new one by a reset.",
            label=f"Password for {user.email}",
            value=password,
        )
        return Created(
            user.id,
            {"role": account.role.value, "organizations": len(account.organization_ids)},
            f"/console/admin/users/{user.id}",
            None if typed else secret,
        )

    # A duplicate address (409) is the email field's problem too.
    return _create(request, console, session, fields, NEW_USER, make, conflict_field="email")


def _user_page(
    request: Request,
    console: Console,
    session: Session,
    user: User,
    *,
    form: Form | None = None,
    status_code: int = 200,
) -> Response:
    account = accounts.account(session, user)
    organizations = organizations_of(session, console)
    if form is None:
        form = Form(
            {
                "role": [account.role.value],
                "organizations": [str(o) for o in account.organization_ids],
            }
        )
    done = request.query_params.get("done", "") if status_code == 200 else ""
    return page(
        request,
        "console/admin_user.html",
        console,
        status_code=status_code,
        title=f"{user.name} ({user.email})",
        account=account,
        form=form,
        roles=USER_ROLES,
        organizations=organizations,
        names=names_of(organizations),
        done=DONE.get(done),
        is_self=user.id == console.user.id,
        when=when,
    )


@router.get("/console/admin/users/{user_id}")
def user_page(request: Request, console: AdminDep, session: SessionDep, user_id: str) -> Response:
    """One console user: their access, their state, and what can be changed."""
    return _user_page(request, console, session, _user(session, request, user_id))


@router.post("/console/admin/users/{user_id}/access", name="update_user")
def update_user_access(
    request: Request, console: AdminDep, fields: ConsoleFormDep, session: SessionDep, user_id: str
) -> Response:
    """Give a user a role and exactly the organizations ticked (never the last admin's
    role away)."""
    user = _user(session, request, user_id)
    try:
        role = _role(fields)
        account = accounts.change_access(
            session, user, role=role, organization_ids=_organization_ids(fields)
        )
    except AppError as exc:
        form = refused(fields, exc, "role" if exc.status_code == 409 else "organizations")
        return _user_page(request, console, session, user, form=form, status_code=_status(exc))
    record_of(request).detail.update(
        role=account.role.value, organizations=len(account.organization_ids)
    )
    if user.id == console.user.id and account.role is not Role.ADMIN:
        return see_other("/console")  # no longer an admin: these pages are closed to them
    return see_other(f"/console/admin/users/{user.id}?done=access")


@router.post("/console/admin/users/{user_id}/disable")
def disable_user(
    request: Request, console: AdminDep, _: ConsoleFormDep, session: SessionDep, user_id: str
) -> Response:
    """Stop a user signing in, and sign them out everywhere (never the last admin)."""
    user = _user(session, request, user_id)
    try:
        accounts.disable_user(session, user)
    except accounts.LastAdmin as exc:
        form = Form(errors={"state": exc.detail})
        return _user_page(request, console, session, user, form=form, status_code=409)
    return see_other(f"/console/admin/users/{user.id}?done=disabled")


@router.post("/console/admin/users/{user_id}/enable")
def enable_user(
    request: Request, console: AdminDep, _: ConsoleFormDep, session: SessionDep, user_id: str
) -> Response:
    """Let a disabled user sign in again (a lock-out cleared too)."""
    user = _user(session, request, user_id)
    accounts.enable_user(session, user)
    return see_other(f"/console/admin/users/{user.id}?done=enabled")


@router.post("/console/admin/users/{user_id}/reset")
def reset_user(
    request: Request, console: AdminDep, _: ConsoleFormDep, session: SessionDep, user_id: str
) -> Response:
    """Give a user a new random password (shown once), clear a lock-out, end their sessions."""
    user = _user(session, request, user_id)
    password = accounts.new_password()
    accounts.reset_password(session, user, password)
    secret = Secret(
        title="Password reset",
        lead=f"{user.name} ({user.email}) is signed out everywhere and can sign in with this "
        "new password. Give it to them in a safe way: it is shown only this once.",
        label=f"New password for {user.email}",
        value=password,
    )
    return _shown_once(request, console, secret, f"/console/admin/users/{user.id}")


# -- API keys ------------------------------------------------------------------------------


@router.get("/console/admin/keys/new")
def new_key_page(request: Request, console: AdminDep, session: SessionDep) -> Response:
    """The form to create an API key."""
    return _new_form(request, console, session, NEW_KEY, Form({"role": [Role.PARTNER.value]}))


@router.post("/console/admin/keys")
def create_api_key(
    request: Request, console: AdminDep, fields: ConsoleFormDep, session: SessionDep
) -> Response:
    """Create an API key; its token is shown on the page that answers, once."""

    def make() -> Created:
        role = _role(fields)
        chosen = _organization_ids(fields)
        with _organizations_refused():
            issued = keys.create_key(session, role, chosen, first(fields, "name") or None)
        secret = Secret(
            title="API key created",
            lead=f"The {role.value} key {issued.key.prefix} is ready. Copy it now and give it "
            "to its holder in a safe way: it is shown only this once, and only a hash of it "
            "is kept.",
            label=f"API key {issued.key.prefix}",
            value=issued.token,
        )
        return Created(
            issued.key.id, {"role": role.value}, f"/console/admin/keys/{issued.key.id}", secret
        )

    return _create(request, console, session, fields, NEW_KEY, make)


def _key_page(
    request: Request,
    console: Console,
    session: Session,
    key: ApiKey,
    *,
    form: Form | None = None,
    status_code: int = 200,
) -> Response:
    organizations = organizations_of(session, console)
    granted = keys.grants_of(session, key.id)
    done = request.query_params.get("done", "") if status_code == 200 else ""
    return page(
        request,
        "console/admin_key.html",
        console,
        status_code=status_code,
        title=f"API key {key.prefix}",
        key=key,
        granted=granted,
        grantable=[o for o in organizations if o.id not in set(granted)],
        names=names_of(organizations),
        form=form or Form(),
        done=DONE.get(done),
        when=when,
    )


@router.get("/console/admin/keys/{key_id}")
def key_page(request: Request, console: AdminDep, session: SessionDep, key_id: str) -> Response:
    """One API key: its role and organizations, and what can be changed."""
    return _key_page(request, console, session, _key(session, request, key_id))


@router.post("/console/admin/keys/{key_id}/revoke")
def revoke_api_key(
    request: Request, console: AdminDep, _: ConsoleFormDep, session: SessionDep, key_id: str
) -> Response:
    """Revoke a key at once."""
    key = _key(session, request, key_id)
    keys.revoke_key(session, str(key.id))
    return see_other(f"/console/admin/keys/{key.id}?done=revoked")


@router.post("/console/admin/keys/{key_id}/grant")
def grant_api_key(
    request: Request, console: AdminDep, fields: ConsoleFormDep, session: SessionDep, key_id: str
) -> Response:
    """Let a consultant or partner key work on more organizations."""
    key = _key(session, request, key_id)
    try:
        chosen = _organization_ids(fields)
        if not chosen:
            raise _invalid("organizations", "Choose at least one organization.")
        with _organizations_refused():
            keys.grant(session, str(key.id), chosen)
    except AppError as exc:
        form = refused(fields, exc, "organizations")
        return _key_page(request, console, session, key, form=form, status_code=_status(exc))
    record = record_of(request)
    record.detail["organizations"] = [str(o) for o in chosen]
    if len(chosen) == 1:
        record.in_organization(chosen[0])
    return see_other(f"/console/admin/keys/{key.id}?done=granted")
