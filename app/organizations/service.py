"""Creating, finding and changing organizations, always within the caller's scope."""

from __future__ import annotations

import uuid
from typing import TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.auth.models import Role
from app.auth.service import Principal, require_role, visible_organizations
from app.db import utcnow
from app.errors import NotFound
from app.organizations.models import Organization
from app.organizations.schemas import OrganizationCreate, OrganizationUpdate


def get_organization(
    session: Session, principal: Principal, organization_id: uuid.UUID
) -> Organization:
    """The organization if the principal may see it; NotFound otherwise (even if it exists)."""
    organization = session.scalar(
        select(Organization).where(
            Organization.id == organization_id, visible_organizations(principal)
        )
    )
    if organization is None:
        raise NotFound(f"There is no organization {organization_id} that this key can see.")
    return organization


Rows = TypeVarTuple("Rows")


def in_scope(
    query: Select[*Rows],
    session: Session,
    principal: Principal,
    organization_column: InstrumentedAttribute[uuid.UUID],
    organization_id: uuid.UUID | None = None,
) -> Select[*Rows]:
    """``query`` (joined to organizations) limited to what the principal may see, and to
    ``organization_id`` when given: NotFound if that one is outside the scope."""
    query = query.where(visible_organizations(principal))
    if organization_id is not None:
        get_organization(session, principal, organization_id)
        query = query.where(organization_column == organization_id)
    return query


def list_organizations(
    session: Session, principal: Principal, *, limit: int | None, offset: int
) -> tuple[list[Organization], int]:
    """A page of the organizations the principal may see, oldest first, and their total;
    no ``limit``: all of them from ``offset``."""
    scope = visible_organizations(principal)
    total = session.scalar(select(func.count()).select_from(Organization).where(scope)) or 0
    rows = session.scalars(
        select(Organization)
        .where(scope)
        .order_by(Organization.created_at, Organization.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


def create_organization(
    session: Session, principal: Principal, data: OrganizationCreate
) -> Organization:
    """A new organization, owned by the consultant (or admin) that created it; no key owns
    what the operator creates at the command line (Principal.system())."""
    require_role(principal, Role.ADMIN, Role.CONSULTANT, action="create organizations")
    organization = Organization(
        name=data.name,
        type=data.type.value,
        licensed_beds=data.licensed_beds,
        state=data.state,
        created_by_key_id=principal.api_key_id,
    )
    session.add(organization)
    session.flush()
    return organization


def update_organization(
    session: Session, principal: Principal, organization: Organization, data: OrganizationUpdate
) -> Organization:
    """Change the given fields of an organization the principal can see."""
    require_role(principal, Role.ADMIN, Role.CONSULTANT, action="change organizations")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        setattr(organization, name, value.value if hasattr(value, "value") else value)
    if changes:
        organization.updated_at = utcnow()
    session.flush()
    return organization
