"""Issuing, opening and revoking invitation links, and the draft each one fills in.

A link's token is ``<random>.<signature>``: the signature (HMAC-SHA256 with the secret key)
lets a tampered or made-up token be refused before the database is asked, and only a
SHA-256 hash of the whole token is stored, so the database alone cannot rebuild a link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.auth.models import Role
from app.auth.service import Principal, require_role, visible_organizations
from app.db import utcnow
from app.errors import AppError, InvalidRequest, NotFound
from app.intake.models import Assessment, AssessmentSource, AssessmentStatus
from app.intake.service import update_assessment
from app.intake.validation import AnswerItem
from app.invitations.models import Invitation
from app.invitations.schemas import InvitationStatus
from app.observability.metrics import record_assessment
from app.organizations.models import Organization
from app.questionnaire.registry import QuestionnaireRegistry
from app.scoring.engine import score_answers


class InvitationUnavailable(AppError):
    """A link that cannot be used; ``reason`` says why, for the page that explains it."""

    status_code: ClassVar[int] = 410
    code: ClassVar[str] = "invitation_unavailable"

    def __init__(self, reason: InvitationStatus | None, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason

    @property
    def status(self) -> int:
        """404 for a link that never existed, 410 for one that did and is over."""
        return 404 if self.reason is None else 410


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """A new invitation; ``token`` is shown once, inside the link, and never stored."""

    invitation: Invitation
    token: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signature(key: bytes, nonce: str) -> str:
    return _b64(hmac.new(key, b"invitation|" + nonce.encode(), hashlib.sha256).digest()[:18])


def token_hash(token: str) -> str:
    """The SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    session: Session,
    registry: QuestionnaireRegistry,
    principal: Principal,
    organization: Organization,
    *,
    key: bytes,
    questionnaire_id: str | None = None,
    version: int | None = None,
    days: int = 30,
) -> IssuedInvitation:
    """A new link for ``organization`` (admin or consultant, or the operator)."""
    require_role(principal, Role.ADMIN, Role.CONSULTANT, action="invite people to a form")
    if questionnaire_id is None:
        latest = registry.latest()
        if len(latest) != 1:
            raise InvalidRequest(
                "Name the questionnaire: this service has more than one.",
                errors=[{"field": "questionnaire", "message": "questionnaire: is required"}],
            )
        questionnaire_id = latest[0].definition.id
    definition = registry.get(questionnaire_id, version).definition
    nonce = secrets.token_urlsafe(24)
    token = f"{nonce}.{_signature(key, nonce)}"
    now = utcnow()
    invitation = Invitation(
        id=uuid.uuid4(),
        organization_id=organization.id,
        questionnaire_id=definition.id,
        questionnaire_version=definition.version,
        token_hash=token_hash(token),
        created_by_key_id=principal.api_key_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(invitation)
    session.flush()
    return IssuedInvitation(invitation, token)


def get_invitation(session: Session, principal: Principal, invitation_id: uuid.UUID) -> Invitation:
    """An invitation of an organization the principal can see; NotFound otherwise."""
    invitation = session.scalar(
        select(Invitation)
        .join(Organization, Organization.id == Invitation.organization_id)
        .where(Invitation.id == invitation_id, visible_organizations(principal))
    )
    if invitation is None:
        raise NotFound(f"There is no invitation {invitation_id} that this key can see.")
    return invitation


def list_invitations(session: Session, organization: Organization) -> list[Invitation]:
    """The organization's invitations, newest first (the caller has found it in its scope)."""
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.organization_id == organization.id)
            .order_by(Invitation.created_at.desc(), Invitation.id)
        )
    )


def revoke_invitation(session: Session, principal: Principal, invitation: Invitation) -> None:
    """Stop a link working at once (admin or consultant); revoking twice is harmless."""
    require_role(principal, Role.ADMIN, Role.CONSULTANT, action="revoke invitations")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        session.flush()


def invitation_status(session: Session, invitation: Invitation) -> InvitationStatus:
    """Where an invitation stands: revoked, submitted, expired, started or pending."""
    draft = draft_of(session, invitation)
    return status_of(
        invitation.revoked_at, invitation.expires_at, draft.status if draft else None, utcnow()
    )


def status_of(
    revoked_at: datetime | None, expires_at: datetime, draft_status: str | None, now: datetime
) -> InvitationStatus:
    """The rule of ``invitation_status``, from the invitation's dates and its draft's status
    (None before the form is started)."""
    if revoked_at is not None:
        return InvitationStatus.REVOKED
    if draft_status == AssessmentStatus.SUBMITTED:
        return InvitationStatus.SUBMITTED
    if expires_at <= now:
        return InvitationStatus.EXPIRED
    return InvitationStatus.STARTED if draft_status is not None else InvitationStatus.PENDING


def invitation_counts(
    session: Session, organization_ids: Select[uuid.UUID]
) -> dict[uuid.UUID, Counter[InvitationStatus]]:
    """How many invitations of each organization ``organization_ids`` selects stand at each
    status, in one query; organizations without invitations are left out."""
    rows = session.execute(
        select(
            Invitation.organization_id,
            Invitation.revoked_at,
            Invitation.expires_at,
            Assessment.status,
        )
        .outerjoin(Assessment, Assessment.id == Invitation.assessment_id)
        .where(Invitation.organization_id.in_(organization_ids.scalar_subquery()))
    )
    now = utcnow()
    counts: dict[uuid.UUID, Counter[InvitationStatus]] = {}
    for organization_id, revoked_at, expires_at, draft_status in rows:
        status = status_of(revoked_at, expires_at, draft_status, now)
        counts.setdefault(organization_id, Counter())[status] += 1
    return counts


_GONE = {
    InvitationStatus.REVOKED: "This link has been withdrawn.",
    InvitationStatus.EXPIRED: "This link has expired.",
    InvitationStatus.SUBMITTED: "This assessment has already been submitted.",
}


def open_invitation(
    session: Session, token: str, *, key: bytes, allow_submitted: bool = False
) -> Invitation:
    """The invitation a link's token names, if it may still be used; InvitationUnavailable.

    ``allow_submitted``: a submitted invitation's link still opens (to its results) until
    it expires or is revoked.
    """
    nonce, _, signature = token.partition(".")
    if (
        not nonce
        or len(token) > 200
        or not hmac.compare_digest(signature.encode(), _signature(key, nonce).encode())
    ):
        raise InvitationUnavailable(None, "This link is not valid.")
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None:
        raise InvitationUnavailable(None, "This link is not valid.")
    return usable_invitation(session, invitation.id, allow_submitted=allow_submitted)


def usable_invitation(
    session: Session, invitation_id: uuid.UUID, *, allow_submitted: bool = False
) -> Invitation:
    """The invitation by id if it can still be used; InvitationUnavailable saying why not.

    ``allow_submitted``: a submitted one is usable (read-only, for its results) until it
    expires or is revoked.
    """
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise InvitationUnavailable(None, "This link is not valid.")
    status = invitation_status(session, invitation)
    if status is InvitationStatus.SUBMITTED and allow_submitted:
        if invitation.expires_at <= utcnow():
            raise InvitationUnavailable(InvitationStatus.EXPIRED, _GONE[InvitationStatus.EXPIRED])
        return invitation
    if status in _GONE:
        raise InvitationUnavailable(status, _GONE[status])
    return invitation


def draft_of(session: Session, invitation: Invitation) -> Assessment | None:
    """The assessment the invitation fills in, once started."""
    if invitation.assessment_id is None:
        return None
    return session.get(Assessment, invitation.assessment_id)


def start_draft(
    session: Session, registry: QuestionnaireRegistry, invitation: Invitation
) -> Assessment:
    """The invitation's draft, made (empty, source "web") the first time; the API sees it too."""
    # Lock the invitation so two tabs starting at once make one draft, not two.
    session.refresh(invitation, with_for_update=True)
    existing = draft_of(session, invitation)
    if existing is not None:
        return existing
    definition = registry.get(invitation.questionnaire_id, invitation.questionnaire_version)
    result = score_answers(definition.definition, {})
    now = utcnow()
    assessment = Assessment(
        id=uuid.uuid4(),
        organization_id=invitation.organization_id,
        questionnaire_id=invitation.questionnaire_id,
        questionnaire_version=invitation.questionnaire_version,
        status=AssessmentStatus.DRAFT.value,
        source=AssessmentSource.WEB.value,
        created_by_key_id=invitation.created_by_key_id,
        created_at=now,
        updated_at=now,
        submitted_at=None,
        scores=result.to_dict(),
        engine_version=result.engine_version,
        answers=[],
    )
    session.add(assessment)
    session.flush()
    invitation.assessment_id = assessment.id
    session.flush()
    record_assessment("created", AssessmentSource.WEB.value)
    return assessment


def save_answers(
    session: Session,
    registry: QuestionnaireRegistry,
    invitation: Invitation,
    items: Sequence[AnswerItem],
    *,
    submit: bool = False,
) -> Assessment:
    """Merge answers into the invitation's draft (starting it if needed); submit if asked."""
    assessment = start_draft(session, registry, invitation)
    return update_assessment(session, registry, assessment, items=items, submit=submit)


def update_profile(
    session: Session, invitation: Invitation, *, organization_type: str, licensed_beds: int
) -> Organization:
    """Set the invited organization's type and licensed beds."""
    organization = session.get_one(Organization, invitation.organization_id)
    organization.type = organization_type
    organization.licensed_beds = licensed_beds
    organization.updated_at = utcnow()
    session.flush()
    return organization
