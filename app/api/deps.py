"""Dependencies shared by the routers: session, settings, registry, caller, lookups."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.auth.service import Principal, authenticate
from app.config import Settings
from app.intake.models import Assessment
from app.intake.service import get_assessment
from app.organizations.models import Organization
from app.organizations.service import get_organization
from app.questionnaire.registry import QuestionnaireRegistry


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response is sent, or rolled back."""
    with request.app.state.session_factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": the commit happens before the response leaves, so a 201 means stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# No I/O in these two: async, so they run on the event loop instead of a thread-pool hop.
async def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_registry(request: Request) -> QuestionnaireRegistry:
    """The questionnaire versions this process serves."""
    registry: QuestionnaireRegistry = request.app.state.registry
    return registry


RegistryDep = Annotated[QuestionnaireRegistry, Depends(get_registry)]

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `smm keys create`, sent as `Authorization: Bearer smm_...`.",
)


def get_principal(
    request: Request,
    session: SessionDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from its API key; 401 when the key is missing, malformed or revoked."""
    principal = authenticate(session, request.headers.get("authorization"))
    # The key's use is recorded in a transaction of its own: a request that then fails
    # (404, 409, 422...) rolls back its own work, not the record that the key was used.
    session.commit()
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def organization_by_id(
    organization_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Organization:
    """The organization in the path, if the caller may see it (404 otherwise)."""
    return get_organization(session, principal, organization_id)


OrganizationDep = Annotated[Organization, Depends(organization_by_id)]


def assessment_by_id(
    assessment_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> Assessment:
    """The assessment in the path, if the caller may see it (404 otherwise)."""
    return get_assessment(session, principal, assessment_id)


AssessmentDep = Annotated[Assessment, Depends(assessment_by_id)]


def reject_unknown_query_parameters(request: Request, _: PrincipalDep) -> None:
    """422 for a query parameter the operation does not take (after authentication).

    Bodies refuse unknown fields; queries do too, so that a misspelt filter
    (`?organisation_id=`) is an error rather than a silently unfiltered list.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_parameter_names(route.dependant)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "is not a parameter of this operation",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )


def _query_parameter_names(dependant: Dependant) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub_dependant in dependant.dependencies:
        names |= _query_parameter_names(sub_dependant)
    return names
