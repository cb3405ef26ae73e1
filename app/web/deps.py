"""The form's dependencies: the visit (which invitation this browser fills in) and CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.http.context import record_of
from app.http.deps import RegistryDep, SessionDep, SettingsDep
from app.invitations import service
from app.invitations.models import Invitation
from app.organizations.models import Organization
from app.questionnaire.registry import QuestionnaireRegistry
from app.questionnaire.schemas import QuestionnaireDefinition
from app.web.errors import CSRF_FAILED, NO_SESSION
from app.web.security import SESSION_COOKIE, FormSession


def signing_key(request: Request, settings: SettingsDep) -> bytes:
    """The secret key, read (or made) once per application."""
    key: bytes | None = getattr(request.app.state, "web_signing_key", None)
    if key is None:
        key = settings.signing_key()
        request.app.state.web_signing_key = key
    return key


KeyDep = Annotated[bytes, Depends(signing_key)]


@dataclass(frozen=True, slots=True)
class Visit:
    """The invitation this browser is filling in, and what its pages need from it."""

    session: FormSession
    invitation: Invitation
    organization: Organization
    definition: QuestionnaireDefinition
    csrf_token: str

    def steps(self) -> list[tuple[str, str]]:
        """(step id, title), in order: the profile, each dimension, the review."""
        return [
            ("profile", "Your organization"),
            *((d.id, d.title) for d in self.definition.dimensions),
            ("review", "Review and submit"),
        ]

    def url(self, step: str) -> str:
        if step in ("profile", "review"):
            return f"/form/{step}"
        return f"/form/section/{step}"


def _visit(
    request: Request,
    session: Session,
    registry: QuestionnaireRegistry,
    key: bytes,
    *,
    allow_submitted: bool,
) -> Visit:
    form_session = FormSession.from_cookie(request.cookies.get(SESSION_COOKIE), key)
    if form_session is None:
        raise NO_SESSION
    # The audit trail names the invitation as the actor of what this visit does.
    record_of(request).invitation_id = form_session.invitation_id
    invitation = service.usable_invitation(
        session, form_session.invitation_id, allow_submitted=allow_submitted
    )
    record_of(request).in_organization(invitation.organization_id)
    return Visit(
        form_session,
        invitation,
        session.get_one(Organization, invitation.organization_id),
        registry.get(invitation.questionnaire_id, invitation.questionnaire_version).definition,
        form_session.csrf_token(key),
    )


def open_visit(request: Request, session: SessionDep, registry: RegistryDep, key: KeyDep) -> Visit:
    """The visit of a form that can still change (not submitted, expired or revoked)."""
    return _visit(request, session, registry, key, allow_submitted=False)


def any_visit(request: Request, session: SessionDep, registry: RegistryDep, key: KeyDep) -> Visit:
    """The visit, also once submitted (for the results and the PDF)."""
    return _visit(request, session, registry, key, allow_submitted=True)


OpenVisit = Annotated[Visit, Depends(open_visit)]
AnyVisit = Annotated[Visit, Depends(any_visit)]


async def posted_form(request: Request, key: KeyDep) -> dict[str, list[str]]:
    """The posted fields (name -> every value), after checking the CSRF token."""
    form = await request.form()
    form_session = FormSession.from_cookie(request.cookies.get(SESSION_COOKIE), key)
    if form_session is None:
        raise NO_SESSION
    token = form.get("csrf_token")
    if not form_session.csrf_ok(token if isinstance(token, str) else None, key):
        raise CSRF_FAILED
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return fields


FormDep = Annotated[dict[str, list[str]], Depends(posted_form)]
