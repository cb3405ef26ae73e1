"""FHIR R4: questionnaires as ``Questionnaire``, answers posted as ``QuestionnaireResponse``.

Bodies are ``application/fhir+json``. Every error on these routes, authentication included,
is an ``OperationOutcome`` with the status the native API would give.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic_core import to_json

from app.api.deps import (
    AssessmentDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    organization_by_id,
    reject_unknown_query_parameters,
)
from app.config import PROJECT_ROOT
from app.errors import AppError, ErrorBody
from app.fhir import terms
from app.fhir.outcome import issue, operation_outcome, outcome_for, validation_issues
from app.fhir.questionnaire import questionnaire_resource
from app.fhir.response import response_resource
from app.fhir.service import create_from_response
from app.intake.models import Assessment
from app.intake.service import definition_of
from app.questionnaire.registry import QuestionnaireRegistry


def fhir_json(resource: dict[str, Any], status_code: int = 200, **headers: str) -> Response:
    """A FHIR resource as the response body, typed application/fhir+json."""
    return Response(
        to_json(resource), status_code=status_code, media_type=terms.FHIR_JSON, headers=headers
    )


class FhirRoute(APIRoute):
    """A route whose errors answer as OperationOutcome instead of the native error JSON.

    Dependencies (authentication, scope) run inside the handler, so their errors are
    caught here too, after the request's transaction has been rolled back.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_errors_as_outcomes(request: Request) -> Response:
            try:
                return await handler(request)
            except AppError as error:
                headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else {}
                return fhir_json(outcome_for(error), error.status_code, **headers)
            except RequestValidationError as error:
                problems = list(error.errors())
                if all(p.get("loc", ("",))[0] == "path" for p in problems):
                    # A malformed id in the path names nothing that exists, as in the native API.
                    outcome = operation_outcome([issue("not-found", "No such resource.")])
                    return fhir_json(outcome, status.HTTP_404_NOT_FOUND)
                return fhir_json(
                    operation_outcome(validation_issues(problems)),
                    status.HTTP_422_UNPROCESSABLE_CONTENT,
                )

        return answer_errors_as_outcomes


router = APIRouter(
    prefix="/fhir/r4",
    tags=["fhir"],
    route_class=FhirRoute,
    dependencies=[Depends(reject_unknown_query_parameters)],
)

QuestionnaireId = Annotated[str, Path(max_length=64, pattern=r"^[a-z][a-z0-9-]*$")]

_OUTCOME_SCHEMA = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
_OUTCOME_DESCRIPTIONS = {
    400: "The body is not JSON, or not a FHIR R4 QuestionnaireResponse.",
    401: "No API key, or a malformed, unknown or revoked one.",
    404: (
        "No such questionnaire, version, organization or assessment within this key's "
        "organizations."
    ),
    413: "The request body is too large.",
    422: (
        "The answers do not fit the questionnaire (each issue's `expression` names the item, "
        "by position and by linkId), the response cannot be stored (no subject, a status "
        "other than completed or in-progress, more than 1000 items), or a query parameter "
        "is unknown."
    ),
}


def _resource_schema(resource_type: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"const": resource_type}},
    }


def _responses(success: int, resource_type: str, *codes: int) -> dict[int | str, Any]:
    """OpenAPI responses: the resource on success, OperationOutcome on each error."""
    responses: dict[int | str, Any] = {
        success: {
            "description": f"A FHIR R4 {resource_type}.",
            "content": {terms.FHIR_JSON: {"schema": _resource_schema(resource_type)}},
        }
    }
    for code in sorted({401, 422, *codes}):
        responses[code] = {
            "description": _OUTCOME_DESCRIPTIONS[code],
            "content": {terms.FHIR_JSON: {"schema": _OUTCOME_SCHEMA}},
        }
    if 413 in codes:
        # Refused by the size limit before any route runs, so in the native error shape.
        responses[413] = {"description": _OUTCOME_DESCRIPTIONS[413], "model": ErrorBody}
    return responses


@router.get(
    "/Questionnaire/{questionnaire_id}",
    summary="Read a Questionnaire (latest version)",
    responses=_responses(200, "Questionnaire", 404),
    response_class=Response,
)
def read_questionnaire(
    questionnaire_id: QuestionnaireId, _: PrincipalDep, registry: RegistryDep
) -> Response:
    """Get the latest version of a questionnaire as a FHIR R4 Questionnaire."""
    definition = registry.get(questionnaire_id).definition
    return fhir_json(questionnaire_resource(definition))


@router.get(
    "/Questionnaire/{questionnaire_id}/_history/{version}",
    summary="Read one version of a Questionnaire (vread)",
    responses=_responses(200, "Questionnaire", 404),
    response_class=Response,
)
def vread_questionnaire(
    questionnaire_id: QuestionnaireId,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    _: PrincipalDep,
    registry: RegistryDep,
) -> Response:
    """Get one published version of a questionnaire as a FHIR R4 Questionnaire (vread)."""
    definition = registry.get(questionnaire_id, version).definition
    return fhir_json(questionnaire_resource(definition))


async def raw_body(request: Request) -> bytes:
    """The request body as sent: it is parsed as FHIR, whatever its declared content type."""
    return await request.body()


def _example_response() -> dict[str, Any]:
    path = PROJECT_ROOT / "examples" / "fhir" / "academic-medical-center.json"
    example: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return example


_QUESTIONNAIRE_RESPONSE_BODY = {
    "required": True,
    "description": (
        "A FHIR R4 QuestionnaireResponse: `questionnaire` is the Questionnaire's "
        "`url|version`, `subject` is `Organization/<id>`, `status` is `completed` "
        "(submitted) or `in-progress` (a draft), and items carry answers by linkId."
    ),
    "content": {
        media_type: {
            "schema": _resource_schema("QuestionnaireResponse"),
            "examples": {
                "completed": {
                    "summary": "A completed response (examples/fhir/academic-medical-center.json)",
                    "value": _example_response(),
                }
            },
        }
        for media_type in (terms.FHIR_JSON, "application/json")
    },
}


@router.post(
    "/QuestionnaireResponse",
    summary="Create an assessment from a QuestionnaireResponse",
    status_code=status.HTTP_201_CREATED,
    responses=_responses(201, "QuestionnaireResponse", 400, 404, 413),
    response_class=Response,
    openapi_extra={"requestBody": _QUESTIONNAIRE_RESPONSE_BODY},
)
def create_questionnaire_response(
    body: Annotated[bytes, Depends(raw_body)],
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    registry: RegistryDep,
) -> Response:
    """Store a QuestionnaireResponse as a new assessment, scored as native answers are.

    201 with the stored response, whose `id` is the assessment's id; `Location` is where it
    can be read again, and its `assessment` extension links the assessment (with its scores)
    in the native API.
    """
    assessment = create_from_response(
        session,
        registry,
        principal,
        body,
        find_organization=lambda organization_id: organization_by_id(
            request, organization_id, session, principal
        ),
    )
    location = str(request.url_for("read_questionnaire_response", assessment_id=assessment.id))
    resource = _stored_response(request, registry, assessment)
    return fhir_json(resource, status.HTTP_201_CREATED, Location=location)


@router.get(
    "/QuestionnaireResponse/{assessment_id}",
    summary="Read an assessment as a QuestionnaireResponse",
    responses=_responses(200, "QuestionnaireResponse", 404),
    response_class=Response,
)
def read_questionnaire_response(
    assessment: AssessmentDep, request: Request, registry: RegistryDep
) -> Response:
    """Get an assessment's answers as a FHIR R4 QuestionnaireResponse (any source)."""
    return fhir_json(_stored_response(request, registry, assessment))


def _stored_response(
    request: Request, registry: QuestionnaireRegistry, assessment: Assessment
) -> dict[str, Any]:
    return response_resource(
        definition_of(registry, assessment),
        assessment_id=assessment.id,
        organization_id=assessment.organization_id,
        status=assessment.status,
        authored=assessment.submitted_at or assessment.updated_at,
        answers=list(assessment.answers),
        assessment_url=str(request.url_for("get_assessment", assessment_id=assessment.id)),
    )
