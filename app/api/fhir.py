"""FHIR R4: questionnaires as ``Questionnaire``, answers posted as ``QuestionnaireResponse``.

The CapabilityStatement (``/metadata``) states what is here: reads with versions and ETags,
searches answering paged ``searchset`` Bundles, and create. Bodies are
``application/fhir+json``. Every error on these routes, authentication included, is an
``OperationOutcome`` with the status the native API would give.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from app import __version__
from app.config import PROJECT_ROOT
from app.errors import AppError, ErrorBody
from app.fhir import terms
from app.fhir.capability import capability_statement
from app.fhir.http import error_outcome, fhir_json
from app.fhir.meta import Version, with_meta
from app.fhir.outcome import NotAcceptable, UnsupportedMediaType, issue
from app.fhir.questionnaire import questionnaire_resource
from app.fhir.response import response_resource
from app.fhir.search import (
    PAGING,
    QUESTIONNAIRE_PARAMETERS,
    RESPONSE_PARAMETERS,
    QuestionnaireFilter,
    ResponseFilter,
    SearchParameter,
    known_pairs,
    page_of,
    searchset,
    strict_handling,
    weights_asked,
)
from app.fhir.service import (
    create_from_response,
    questionnaire_versions,
    response_version,
    search_questionnaires,
    search_responses,
)
from app.http.deps import (
    AssessmentDep,
    IdempotencyDep,
    PrincipalDep,
    RegistryDep,
    SessionDep,
    organization_by_id,
)
from app.http.reports import queue_prerender, report_link
from app.intake.models import Assessment
from app.intake.service import definition_of
from app.jobs.models import JobPriority
from app.questionnaire.loader import LoadedDefinition
from app.questionnaire.registry import QuestionnaireRegistry
from app.text import TEXT_PATTERN


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
            except (AppError, RequestValidationError) as error:
                return error_outcome(request, error)

        return answer_errors_as_outcomes


# What a client may ask for with _format or Accept: JSON, by any of its names.
_JSON = frozenset({"json", terms.FHIR_JSON, "application/json", "application/json+fhir"})
_ANY = frozenset({"*/*", "application/*"})


async def negotiate_format(request: Request) -> None:
    """406 unless the answer may be JSON: ``_format`` decides, else the Accept header."""
    requested = request.query_params.get("_format")
    if requested is not None:
        # An unescaped "+" (application/fhir+json) arrives as a space.
        media_type = requested.replace(" ", "+").partition(";")[0].strip().lower()
        if media_type not in _JSON:
            detail = (
                f"_format {requested[:40]!r} is not supported: only JSON is "
                f"(json, {terms.FHIR_JSON}, application/json)."
            )
            raise NotAcceptable(detail, issues=[issue("not-supported", detail, ["_format"])])
        return
    accept = request.headers.get("accept")
    if not accept:
        return
    offered = {part.partition(";")[0].strip().lower() for part in accept.split(",")}
    if not offered & (_JSON | _ANY):
        detail = f"Accept {accept[:80]!r} names no JSON type: only {terms.FHIR_JSON} is served."
        raise NotAcceptable(detail, issues=[issue("not-supported", detail)])


async def query_rules(request: Request) -> None:
    """Unknown query parameters: ignored, or 400 under ``Prefer: handling=strict``."""
    route = request.scope.get("route")
    known = _QUERY_PARAMETERS.get(route.name, frozenset()) if isinstance(route, APIRoute) else ()
    known_pairs(
        request.query_params.multi_items(),
        known,
        strict=strict_handling(request.headers.get("prefer")),
    )


router = APIRouter(
    prefix="/fhir/r4",
    tags=["fhir"],
    route_class=FhirRoute,
    dependencies=[Depends(negotiate_format), Depends(query_rules)],
)

_QUESTIONNAIRE_SEARCH = frozenset(p.name for p in QUESTIONNAIRE_PARAMETERS) | PAGING
_RESPONSE_SEARCH = frozenset(p.name for p in RESPONSE_PARAMETERS) | PAGING
# The query parameters of each operation besides _format (by route name).
_QUERY_PARAMETERS = {
    "search_questionnaires": _QUESTIONNAIRE_SEARCH | {"weights"},
    "read_questionnaire": frozenset({"weights"}),
    "vread_questionnaire": frozenset({"weights"}),
    "search_questionnaire_responses": _RESPONSE_SEARCH,
}
_WEIGHTS = (
    "true: each answerOption carries its score as itemWeight. Left out by default, because "
    "form renderers print it beside the label for respondents to see."
)
WeightsQuery = Annotated[bool, Query(description=_WEIGHTS)]

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
    400: (
        "The body is not JSON, or not a FHIR R4 QuestionnaireResponse; or a search parameter "
        "has a value that cannot be used, or is unknown under `Prefer: handling=strict`."
    ),
    401: "No API key, or a malformed, unknown or revoked one.",
    404: (
        "No such questionnaire, version, organization or assessment within this key's "
        "organizations."
    ),
    406: "`_format` or Accept asks for something other than JSON (XML is not supported).",
    413: "The request body is too large.",
    415: "The body is declared as something other than JSON.",
    422: (
        "The answers do not fit the questionnaire (each issue's `expression` names the item, "
        "by position and by linkId), the response cannot be stored (no subject, a status "
        "other than completed or in-progress, more than 1000 items), or a query parameter "
        "is malformed."
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
    for code in sorted({406, *codes}):
        responses[code] = {
            "description": _OUTCOME_DESCRIPTIONS[code],
            "content": {terms.FHIR_JSON: {"schema": _OUTCOME_SCHEMA}},
        }
    if 413 in codes:
        # Refused by the size limit before any route runs, so in the native error shape.
        responses[413] = {"description": _OUTCOME_DESCRIPTIONS[413], "model": ErrorBody}
    return responses


_NOT_MODIFIED: dict[int | str, Any] = {
    304: {"description": "If-None-Match names the current version: no body."}
}


def _versioned(
    request: Request,
    resource: dict[str, Any],
    version: Version,
    status_code: int = 200,
    **headers: str,
) -> Response:
    """The resource with its meta, ETag and Last-Modified; 304 when the client has it."""
    if request.method == "GET" and version.matches(request.headers.get("if-none-match")):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=version.headers())
    return fhir_json(with_meta(resource, version), status_code, **version.headers(), **headers)


def _search_parameters(parameters: tuple[SearchParameter, ...]) -> list[dict[str, Any]]:
    """The OpenAPI description of a search's query parameters."""
    described = [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "description": p.documentation,
            "schema": {"type": "string", "pattern": TEXT_PATTERN},
        }
        for p in parameters
    ]
    described += [
        {
            "name": "_count",
            "in": "query",
            "required": False,
            "description": "Entries per page (0: the total alone; at most 100).",
            "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        },
        {
            "name": "_offset",
            "in": "query",
            "required": False,
            "description": "How many matches come before this page (the next link gives it).",
            "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        },
    ]
    return [*described, _FORMAT_PARAMETER]


_FORMAT_PARAMETER = {
    "name": "_format",
    "in": "query",
    "required": False,
    "description": f"json, {terms.FHIR_JSON} or application/json; anything else is 406.",
    "schema": {"type": "string", "pattern": TEXT_PATTERN},
}


@router.get(
    "/metadata",
    summary="The CapabilityStatement: what this FHIR endpoint supports",
    responses=_responses(200, "CapabilityStatement"),
    response_class=Response,
    openapi_extra={"parameters": [_FORMAT_PARAMETER]},
)
def read_capability_statement(request: Request) -> Response:
    """Get the CapabilityStatement: resources, interactions, search parameters and formats.

    Needs no API key: clients read it before they authenticate.
    """
    base = str(request.url_for("read_capability_statement")).removesuffix("/metadata")
    return fhir_json(capability_statement(base, __version__))


@router.get(
    "/Questionnaire",
    name="search_questionnaires",
    summary="Search Questionnaires by url, version and _id",
    responses=_responses(200, "Bundle", 400, 401),
    response_class=Response,
    openapi_extra={
        "parameters": [
            *_search_parameters(QUESTIONNAIRE_PARAMETERS),
            {
                "name": "weights",
                "in": "query",
                "required": False,
                "description": _WEIGHTS,
                "schema": {"type": "boolean"},
            },
        ]
    },
)
def search_questionnaires_route(
    request: Request, _: PrincipalDep, registry: RegistryDep, session: SessionDep
) -> Response:
    """Search the published questionnaires: a searchset Bundle (without `version`, the latest
    version of each)."""
    pairs = _search_pairs(request, _QUESTIONNAIRE_SEARCH | {"weights"})
    weights = weights_asked(pairs)
    page = page_of(pairs)
    found = search_questionnaires(registry, QuestionnaireFilter.of(pairs))
    shown = found[page.offset : page.offset + page.count]
    versions = questionnaire_versions(session, shown)
    endpoint = str(request.url_for("search_questionnaires"))
    entries = [
        (
            f"{endpoint}/{loaded.definition.id}",
            with_meta(_questionnaire(loaded, weights), versions[_key(loaded)]),
        )
        for loaded in shown
    ]
    return fhir_json(searchset(entries, len(found), endpoint, pairs, page))


def _search_pairs(request: Request, known: frozenset[str]) -> list[tuple[str, str]]:
    strict = strict_handling(request.headers.get("prefer"))
    return known_pairs(request.query_params.multi_items(), known, strict=strict)


def _key(loaded: LoadedDefinition) -> tuple[str, int]:
    return loaded.definition.id, loaded.definition.version


def _questionnaire(loaded: LoadedDefinition, weights: bool) -> dict[str, Any]:
    return questionnaire_resource(loaded.definition, weights=weights)


def _read_questionnaire(
    request: Request, session: SessionDep, loaded: LoadedDefinition, weights: bool
) -> Response:
    version = questionnaire_versions(session, [loaded])[_key(loaded)]
    return _versioned(request, _questionnaire(loaded, weights), version)


@router.get(
    "/Questionnaire/{questionnaire_id}",
    summary="Read a Questionnaire (latest version)",
    responses={**_responses(200, "Questionnaire", 401, 404, 422), **_NOT_MODIFIED},
    response_class=Response,
)
def read_questionnaire(
    questionnaire_id: QuestionnaireId,
    request: Request,
    _: PrincipalDep,
    registry: RegistryDep,
    session: SessionDep,
    weights: WeightsQuery = False,
) -> Response:
    """Get the latest version of a questionnaire as a FHIR R4 Questionnaire."""
    return _read_questionnaire(request, session, registry.get(questionnaire_id), weights)


@router.get(
    "/Questionnaire/{questionnaire_id}/_history/{version}",
    summary="Read one version of a Questionnaire (vread)",
    responses={**_responses(200, "Questionnaire", 401, 404, 422), **_NOT_MODIFIED},
    response_class=Response,
)
def vread_questionnaire(
    questionnaire_id: QuestionnaireId,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    request: Request,
    _: PrincipalDep,
    registry: RegistryDep,
    session: SessionDep,
    weights: WeightsQuery = False,
) -> Response:
    """Get one published version of a questionnaire as a FHIR R4 Questionnaire (vread)."""
    definition = registry.get(questionnaire_id, version)
    return _read_questionnaire(request, session, definition, weights)


async def raw_body(request: Request) -> bytes:
    """The request body as sent, parsed as FHIR JSON: 415 if it is declared as anything else."""
    declared = request.headers.get("content-type")
    if declared:
        media_type = declared.partition(";")[0].strip().lower()
        if media_type not in _JSON:
            detail = (
                f"Content-Type {declared[:80]!r} is not supported: send the resource as "
                f"{terms.FHIR_JSON} (or application/json)."
            )
            raise UnsupportedMediaType(detail, issues=[issue("not-supported", detail)])
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


def _created_responses() -> dict[int | str, Any]:
    responses = _responses(201, "QuestionnaireResponse", 400, 401, 404, 413, 415, 422)
    responses[201]["headers"] = {
        "Location": {"description": "Where the response is read.", "schema": {"type": "string"}},
        "Link": {
            "description": 'For a `completed` response: `</v1/reports/{job_id}>; rel="report"`, '
            "the job that renders the assessment's default roadmap report at once.",
            "schema": {"type": "string"},
        },
    }
    return responses


@router.post(
    "/QuestionnaireResponse",
    summary="Create an assessment from a QuestionnaireResponse",
    status_code=status.HTTP_201_CREATED,
    responses=_created_responses(),
    response_class=Response,
    openapi_extra={"requestBody": _QUESTIONNAIRE_RESPONSE_BODY},
)
def create_questionnaire_response(
    body: Annotated[bytes, Depends(raw_body)],
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    _idempotent: IdempotencyDep,
    registry: RegistryDep,
) -> Response:
    """Store a QuestionnaireResponse as a new assessment, scored as native answers are.

    201 with the stored response, whose `id` is the assessment's id; `Location` is where it
    can be read again, and its `assessment` extension links the assessment (with its scores)
    in the native API. A `completed` response's default roadmap report is rendered at once:
    `Link: </v1/reports/{job_id}>; rel="report"` names the job.
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
    job = queue_prerender(request, session, assessment, principal.key_id, JobPriority.SINGLE)
    location = str(request.url_for("read_questionnaire_response", assessment_id=assessment.id))
    resource = _stored_response(request, registry, assessment)
    return _versioned(
        request,
        resource,
        response_version(assessment),
        status.HTTP_201_CREATED,
        Location=location,
        **report_link(job),
    )


@router.get(
    "/QuestionnaireResponse",
    name="search_questionnaire_responses",
    summary="Search QuestionnaireResponses by subject, questionnaire, authored and _id",
    responses=_responses(200, "Bundle", 400, 401),
    response_class=Response,
    openapi_extra={"parameters": _search_parameters(RESPONSE_PARAMETERS)},
)
def search_questionnaire_responses_route(
    request: Request, session: SessionDep, principal: PrincipalDep, registry: RegistryDep
) -> Response:
    """Search the assessments of this key's organizations: a searchset Bundle, oldest first.

    A subject this key cannot see matches nothing (an empty Bundle), like one that does not
    exist.
    """
    pairs = _search_pairs(request, _RESPONSE_SEARCH)
    page = page_of(pairs)
    assessments, total = search_responses(session, principal, ResponseFilter.of(pairs), page)
    endpoint = str(request.url_for("search_questionnaire_responses"))
    entries = [
        (
            f"{endpoint}/{assessment.id}",
            with_meta(
                _stored_response(request, registry, assessment), response_version(assessment)
            ),
        )
        for assessment in assessments
    ]
    return fhir_json(searchset(entries, total, endpoint, pairs, page))


@router.get(
    "/QuestionnaireResponse/{assessment_id}",
    summary="Read an assessment as a QuestionnaireResponse",
    responses={**_responses(200, "QuestionnaireResponse", 401, 404), **_NOT_MODIFIED},
    response_class=Response,
)
def read_questionnaire_response(
    assessment: AssessmentDep, request: Request, registry: RegistryDep
) -> Response:
    """Get an assessment's answers as a FHIR R4 QuestionnaireResponse (any source), with
    its versionId, lastUpdated and ETag."""
    resource = _stored_response(request, registry, assessment)
    return _versioned(request, resource, response_version(assessment))


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
