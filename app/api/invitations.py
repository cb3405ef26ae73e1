"""Invitation links to the web form, for hospital staff who have no API key."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.responses import errors
from app.http.context import record_of
from app.http.deps import (
    LookupDep,
    OrganizationDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    SettingsDep,
    reject_unknown_query_parameters,
)
from app.http.links import email_invitation, invitation_link
from app.invitations import service
from app.invitations.models import Invitation
from app.invitations.schemas import InvitationCreate, InvitationCreated, InvitationRead
from app.mail import service as mail
from app.mail.schemas import EmailDeliveryRead

router = APIRouter(tags=["invitations"], dependencies=[Depends(reject_unknown_query_parameters)])


def invitation_by_id(invitation_id: uuid.UUID, lookup: LookupDep) -> Invitation:
    """The invitation in the path, if the caller may see its organization (404 otherwise)."""
    return lookup.invitation(invitation_id)


InvitationDep = Annotated[Invitation, Depends(invitation_by_id)]


def _read(session: SessionDep, invitation: Invitation) -> InvitationRead:
    return InvitationRead.model_validate(
        {
            **{
                c: getattr(invitation, c)
                for c in InvitationRead.model_fields
                if c not in ("status", "emails")
            },
            "status": service.invitation_status(session, invitation),
            "emails": [
                EmailDeliveryRead.model_validate(message)
                for message in mail.messages_of_invitation(session, invitation.id)
            ],
        }
    )


@router.post(
    "/v1/organizations/{organization_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 403, 404, 413, 422),
)
def create_invitation(
    organization: OrganizationDep,
    session: SessionDep,
    principal: PrincipalDep,
    registry: RegistryDep,
    settings: SettingsDep,
    request: Request,
    body: InvitationCreate | None = None,
) -> InvitationCreated:
    """A link to the web form for this organization (admin or consultant); `url` shows once.

    With `email`, the link is also e-mailed to that address by a background job; the
    invitation's `emails` say how its delivery goes.
    """
    body = body or InvitationCreate()
    if body.email is not None:
        mail.require_mail(settings)
    issued = service.create_invitation(
        session,
        registry,
        principal,
        organization,
        key=settings.signing_key(),
        questionnaire_id=body.questionnaire.id if body.questionnaire else None,
        version=body.questionnaire.version if body.questionnaire else None,
        days=body.expires_in_days or settings.invitation_days,
    )
    record_of(request).acted_on(issued.invitation.id, organization.id)
    url = invitation_link(request, settings, issued.token)
    if body.email is not None:
        email_invitation(
            request, session, settings, issued.invitation, url, body.email, invited_by=None
        )
    read = _read(session, issued.invitation)
    return InvitationCreated(**read.model_dump(), url=url)


@router.get("/v1/invitations/{invitation_id}", responses=errors(404))
def get_invitation(invitation: InvitationDep, session: SessionDep) -> InvitationRead:
    """An invitation and where it stands (pending, started, submitted, expired, revoked)."""
    return _read(session, invitation)


@router.delete(
    "/v1/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(403, 404),
)
def revoke_invitation(
    invitation: InvitationDep, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Revoke the link (admin or consultant): it stops working at once; answers are kept."""
    service.revoke_invitation(session, principal, invitation)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
