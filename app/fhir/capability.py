"""The CapabilityStatement: exactly what this FHIR R4 endpoint does, for clients to read."""

from __future__ import annotations

from typing import Any

from app.fhir import terms
from app.fhir.search import (
    DEFAULT_COUNT,
    MAX_COUNT,
    QUESTIONNAIRE_PARAMETERS,
    RESPONSE_PARAMETERS,
    SearchParameter,
)

# The day these capabilities last changed (CapabilityStatement.date is required).
CAPABILITIES_DATE = "2026-12-02"
FHIR_VERSION = "4.0.1"
FORMATS = ("json", terms.FHIR_JSON, "application/json")

_REST_DOCUMENTATION = f"""\
Bodies are JSON only: `_format` may be json, {terms.FHIR_JSON} or application/json; XML \
(or any other format) is refused with 406, and a body posted as anything but JSON with 415. \
Every error is an OperationOutcome. Searches answer searchset Bundles oldest first, with \
`total` and self, first, previous, next and last links; page with `_count` (default \
{DEFAULT_COUNT}, at most {MAX_COUNT}; 0 gives only the total) and `_offset`. Several values \
in one parameter, comma-separated, are alternatives; a repeated parameter must hold each time. \
A search parameter this server does not support is ignored (and left out of the self link), \
unless the request says `Prefer: handling=strict`: then it is a 400 OperationOutcome naming \
it. Reads give meta.versionId and meta.lastUpdated, an ETag (W/"<versionId>") and \
Last-Modified, and answer 304 to an If-None-Match that names the current version."""

_SECURITY = (
    "Every interaction but this CapabilityStatement needs an API key from `smm keys create`, "
    "sent as `Authorization: Bearer smm_...` (401 without one). A key sees only the "
    "QuestionnaireResponses of its organizations: reads of others are 404 and searches never "
    "include them."
)


def capability_statement(base_url: str, software_version: str) -> dict[str, Any]:
    """The CapabilityStatement of the endpoint at ``base_url``."""
    return {
        "resourceType": "CapabilityStatement",
        "id": "smm-assess",
        "url": f"{terms.CANONICAL_BASE}/CapabilityStatement/smm-assess",
        "version": software_version,
        "name": "SmmAssess",
        "title": "smm-assess FHIR R4 endpoint",
        "status": "active",
        "date": CAPABILITIES_DATE,
        "publisher": "smm-assess",
        "description": (
            "Social-media maturity questionnaires as Questionnaire; answers stored, scored and "
            "read back as QuestionnaireResponse."
        ),
        "kind": "instance",
        "software": {"name": "smm-assess", "version": software_version},
        "implementation": {"description": "smm-assess", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": list(FORMATS),
        "rest": [
            {
                "mode": "server",
                "documentation": _REST_DOCUMENTATION,
                "security": {"cors": False, "description": _SECURITY},
                "resource": [
                    {
                        "type": "Questionnaire",
                        "profile": "http://hl7.org/fhir/StructureDefinition/Questionnaire",
                        "documentation": (
                            "One resource per questionnaire; each published version is a "
                            "version of it (vread by version number), and never changes. "
                            "Option scores (itemWeight) only with weights=true on a read or "
                            "search: renderers show them to respondents."
                        ),
                        "interaction": [
                            {"code": "read"},
                            {"code": "vread"},
                            {"code": "search-type"},
                        ],
                        "versioning": "versioned",
                        "readHistory": False,
                        "updateCreate": False,
                        "conditionalRead": "not-match",
                        "searchParam": _search_parameters(QUESTIONNAIRE_PARAMETERS),
                    },
                    {
                        "type": "QuestionnaireResponse",
                        "profile": "http://hl7.org/fhir/StructureDefinition/QuestionnaireResponse",
                        "documentation": (
                            "One per assessment (the id is the assessment's id). Create stores "
                            "and scores a new assessment: status completed (submitted) or "
                            "in-progress (a draft), subject Organization/<id>, questionnaire "
                            "<url>|<version>."
                        ),
                        "interaction": [
                            {"code": "read"},
                            {"code": "search-type"},
                            {"code": "create"},
                        ],
                        "versioning": "versioned",
                        "readHistory": False,
                        "updateCreate": False,
                        "conditionalCreate": False,
                        "conditionalRead": "not-match",
                        "searchParam": _search_parameters(RESPONSE_PARAMETERS),
                    },
                ],
            }
        ],
    }


def _search_parameters(parameters: tuple[SearchParameter, ...]) -> list[dict[str, str]]:
    return [{"name": p.name, "type": p.type, "documentation": p.documentation} for p in parameters]
