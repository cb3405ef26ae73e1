"""Client organizations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from app.api.responses import errors
from app.http.context import record_of
from app.http.deps import OrganizationDep, PrincipalDep, SessionDep, reject_unknown_query_parameters
from app.organizations import service
from app.organizations.schemas import (
    OrganizationCreate,
    OrganizationPage,
    OrganizationRead,
    OrganizationUpdate,
)

router = APIRouter(
    prefix="/v1/organizations",
    tags=["organizations"],
    dependencies=[Depends(reject_unknown_query_parameters)],
)

Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")]


@router.post("", status_code=status.HTTP_201_CREATED, responses=errors(400, 403, 413, 422))
def create_organization(
    body: OrganizationCreate, request: Request, session: SessionDep, principal: PrincipalDep
) -> OrganizationRead:
    """Create an organization (admin or consultant); the creating consultant may see it."""
    created = service.create_organization(session, principal, body)
    record_of(request).acted_on(created.id, created.id)
    return OrganizationRead.model_validate(created)


@router.get("", responses=errors(422))
def list_organizations(
    session: SessionDep, principal: PrincipalDep, limit: Limit = 50, offset: Offset = 0
) -> OrganizationPage:
    """List the organizations this key may see, oldest first."""
    rows, total = service.list_organizations(session, principal, limit=limit, offset=offset)
    return OrganizationPage(
        items=[OrganizationRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{organization_id}", responses=errors(404))
def get_organization(organization: OrganizationDep) -> OrganizationRead:
    """Get one organization."""
    return OrganizationRead.model_validate(organization)


@router.patch("/{organization_id}", responses=errors(400, 403, 404, 413, 422))
def update_organization(
    body: OrganizationUpdate,
    organization: OrganizationDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> OrganizationRead:
    """Change an organization's name, type, licensed beds or state (admin or consultant)."""
    updated = service.update_organization(session, principal, organization, body)
    return OrganizationRead.model_validate(updated)
