"""The console's audit trail page: the trail, newest first, filtered and paged.

For admins only, like GET /v1/audit, and through the same service (``list_events`` with
an ``EventFilter``); the ids in it are named from the users, keys and organizations
lists the admin pages use.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from app.accounts import service as accounts
from app.accounts.models import User
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.audit.service import EventFilter, Outcome
from app.auth import service as keys
from app.auth.models import ApiKey
from app.console.admin import Form, names_of, organizations_of
from app.console.deps import AdminDep
from app.console.errors import ConsoleRoute
from app.console.pages import page
from app.http.deps import SessionDep

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event as the trail's table shows it, the ids named where they are known."""

    event: AuditEvent
    actor: str
    object: str
    organization: str
    detail: str


@dataclass(frozen=True, slots=True)
class Directory:
    """Names for the ids in the trail: users, keys and organizations."""

    users: dict[uuid.UUID, User]
    keys: dict[uuid.UUID, ApiKey]
    organizations: dict[uuid.UUID, str]

    def actor(self, event: AuditEvent) -> str:
        if event.actor_type == audit.ActorType.USER and event.user_id is not None:
            user = self.users.get(event.user_id)
            return user.email if user else f"User {event.user_id}"
        if event.actor_type == audit.ActorType.API_KEY and event.api_key_id is not None:
            key = self.keys.get(event.api_key_id)
            return f"Key {key.prefix}" if key else f"Key {event.api_key_id}"
        return {
            audit.ActorType.CLI.value: "Command line",
            audit.ActorType.INVITATION.value: "Invitation link",
        }.get(event.actor_type, "No one signed in")

    def object(self, event: AuditEvent) -> str:
        if not event.object_type:
            return ""
        named = ""
        try:
            object_id = uuid.UUID(event.object_id or "")
        except ValueError:
            object_id = None
        if object_id is not None:
            if event.object_type == "user" and object_id in self.users:
                named = self.users[object_id].email
            elif event.object_type == "api_key" and object_id in self.keys:
                named = self.keys[object_id].prefix
            elif event.object_type == "organization":
                named = self.organizations.get(object_id, "")
        return f"{event.object_type} {named or event.object_id or ''}".strip()

    def organization(self, event: AuditEvent) -> str:
        if event.organization_id is None:
            return ""
        return self.organizations.get(event.organization_id, str(event.organization_id))

    def row(self, event: AuditEvent) -> EventRow:
        detail = ", ".join(f"{k}: {v}" for k, v in sorted((event.detail or {}).items()))
        return EventRow(
            event, self.actor(event), self.object(event), self.organization(event), detail
        )


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The trail page's filters as typed, parsed into the service's filter."""

    values: dict[str, str]
    where: EventFilter
    page: int


def _audit_query(params: Mapping[str, str]) -> AuditQuery | Form:
    """The filters of the address, or the filter form with what is wrong in it."""
    values = {
        name: params.get(name, "").strip()
        for name in ("action", "outcome", "organization", "actor", "page")
    }
    errors: dict[str, str] = {}
    action = values["action"]
    if action and (
        len(action) > audit.MAX_ACTION_LENGTH or not re.match(audit.ACTION_PATTERN, action)
    ):
        errors["action"] = "An action is dotted words, e.g. user.create."
    outcome: Outcome | None = None
    if values["outcome"]:
        try:
            outcome = Outcome(values["outcome"])
        except ValueError:
            errors["outcome"] = "Choose an outcome from the list."
    organization_id = _uuid_or_none(values["organization"])
    if values["organization"] and organization_id is None:
        errors["organization"] = "Choose an organization from the list."
    kind, _, actor = values["actor"].partition(":")
    actor_id = _uuid_or_none(actor)
    if values["actor"] and (kind not in ("user", "key") or actor_id is None):
        errors["actor"] = "Choose who acted from the list."
    number = 1
    if values["page"]:
        if values["page"].isdigit() and 1 <= int(values["page"]) <= 1_000_000:
            number = int(values["page"])
        else:
            errors["page"] = "A page is a whole number from 1."
    if errors:
        return Form({k: [v] for k, v in values.items()}, errors)
    where = EventFilter(
        actor_key_id=actor_id if kind == "key" else None,
        actor_user_id=actor_id if kind == "user" else None,
        organization_id=organization_id,
        action=action or None,
        outcome=outcome,
    )
    return AuditQuery(values, where, number)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@router.get("/console/admin/audit")
def audit_page(request: Request, console: AdminDep, session: SessionDep) -> Response:
    """The audit trail, newest first, narrowed by action, outcome, organization or actor."""
    organizations = organizations_of(session, console)
    everyone = accounts.list_accounts(session)
    key_list = [key for key, _ in keys.list_keys(session)]
    directory = Directory(
        {a.user.id: a.user for a in everyone}, {k.id: k for k in key_list}, names_of(organizations)
    )
    query = _audit_query(request.query_params)
    context: dict[str, Any] = {
        "title": "Audit trail",
        "outcomes": list(Outcome),
        "organizations": organizations,
        "users": [a.user for a in everyone],
        "keys": key_list,
    }
    if isinstance(query, Form):
        return page(
            request,
            "console/admin_audit.html",
            console,
            status_code=422,
            form=query,
            rows=None,
            **context,
        )
    offset = (query.page - 1) * PAGE_SIZE
    events, total = audit.list_events(session, query.where, limit=PAGE_SIZE, offset=offset)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    kept = {k: v for k, v in query.values.items() if v and k != "page"}

    def link(number: int) -> str:
        return "/console/admin/audit?" + urlencode({**kept, "page": number})

    return page(
        request,
        "console/admin_audit.html",
        console,
        form=Form({k: [v] for k, v in query.values.items()}),
        rows=[directory.row(e) for e in events],
        total=total,
        first_shown=offset + 1 if events else 0,
        last_shown=offset + len(events),
        newer=link(query.page - 1) if query.page > 1 else None,
        older=link(query.page + 1) if query.page < pages else None,
        page_number=query.page,
        pages=pages,
        **context,
    )
