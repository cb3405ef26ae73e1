"""The API against its own OpenAPI description, and request bodies meant to break it.

The schemathesis test fuzzes every operation (OpenAPI examples, then generated valid and
invalid requests) with an admin key and checks each answer: never a 5xx, only documented
status codes, bodies that match the documented schemas, 401 without a key. Well-formed
generated ids are often swapped for ids that exist, so that the fuzzer reaches past the
404s into validation and the happy paths; each operation must have answered every status
listed in OBSERVED_AT_LEAST at least once.

Bodies of the assessment, batch and FHIR operations are also sent with one string made
invalid text (a lone surrogate, NUL, a control character): those must be refused with a
4xx (a batch: with that item refused), never a 500. FHIR posts are drawn from a real
QuestionnaireResponse as often as from the generated (mostly unreadable) bodies.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from itertools import product
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from app.organizations.models import Organization
from app.text import text_problems
from tests.conftest import bearer, example

QUESTIONNAIRE = "hospital-social-media"
ANSWERS = example("community-hospital")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class AppUnderTest:
    """An ASGI app that forwards to the running test's app (each test has its own database).

    The schema is loaded once, at import, from an app built only to describe itself.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # the apps under test are ready without a lifespan
            while True:
                message = await receive()
                phase = message["type"].removeprefix("lifespan.")
                await send({"type": f"lifespan.{phase}.complete"})
                if phase == "shutdown":
                    return
        await self.app(scope, receive, send)


APP_UNDER_TEST = AppUnderTest(create_app(Settings(database_url="sqlite://")))
MAX_EXAMPLES = 100  # generated per operation, besides the OpenAPI examples and edge cases

# Answers are checked against the questionnaire, which the OpenAPI types cannot express:
# a schema-valid body with an unknown question or an incomplete submission is a 422.
ANSWERS_CAN_MISFIT = ["2xx", "401", "403", "404", "409", "422"]
CONFIG = schemathesis.Config.from_dict(
    {
        # A request waits on the app in this process, so its wait is the machine's load, not
        # the service's speed: the default 10 s failed GET /metrics on a busy CI machine.
        "request-timeout": 120,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "mode": "all",
            # The key is sent with every request; the checks probe 401 without it.
            "with-security-parameters": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "operations": [
            {
                "include-path-regex": "^/v1/assessments",
                "include-method": ["POST", "PATCH"],
                "checks": {"positive_data_acceptance": {"expected-statuses": ANSWERS_CAN_MISFIT}},
            },
            {
                # Dimension and service ids (a portfolio's sort key too), and questionnaire ids,
                # are checked against the definitions and the catalogue, which the OpenAPI
                # types cannot express.
                "include-path-regex": (
                    "^/v1/(organizations/[^/]+/roadmap-settings|exports/|portfolio$)"
                ),
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "401", "403", "404", "422"]
                    }
                },
            },
            {
                # The OpenAPI schema of a QuestionnaireResponse names only its resourceType; the
                # FHIR model decides the rest (400), and then the questionnaire does (404, 422).
                "include-path-regex": "^/fhir/r4/QuestionnaireResponse",
                "include-method": ["POST"],
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {
                # Search values follow FHIR's grammars (dates with prefixes, references), which
                # the OpenAPI types cannot express (400); _format takes JSON only (406).
                # One pattern over "METHOD /path": given as two keys, a path and a method,
                # the filters would match an operation that meets either (every GET).
                "include-name-regex": (
                    "^GET /fhir/r4/(metadata|Questionnaire|QuestionnaireResponse)$"
                ),
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "400", "401", "404", "406"]
                    }
                },
            },
            {
                # A batch is read item by item: an item that breaks the schema is reported
                # as that item's error (200), and the other items are still stored.
                "include-path-regex": "^/v1/assessments/batch",
                "include-method": ["POST"],
                "checks": {"negative_data_rejection": {"enabled": False}},
            },
        ],
    }
)
# The document is built on first request; on a busy machine that can outlast the loader's
# default 10 s timeout and fail the collection of this module.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP_UNDER_TEST, config=CONFIG, timeout=300)

# The organization the documented POST /v1/assessments examples name: seeded, so they succeed.
EXAMPLE_ORGANIZATION = schema.raw_schema["paths"]["/v1/assessments"]["post"]["requestBody"][
    "content"
]["application/json"]["examples"]["submitted"]["value"]["organization_id"]

# What each operation must have answered at least once: its success, a miss, a refusal.
OBSERVED_AT_LEAST: dict[str, set[int]] = {
    "GET /v1/questionnaires": {200},
    "GET /v1/questionnaires/{questionnaire_id}": {200, 404},
    "GET /v1/questionnaires/{questionnaire_id}/versions/{version}": {200, 404},
    "POST /v1/organizations": {201, 422},
    "GET /v1/organizations": {200, 422},
    "GET /v1/portfolio": {200, 422},
    "GET /v1/organizations/{organization_id}": {200, 404},
    "PATCH /v1/organizations/{organization_id}": {200, 404, 422},
    "POST /v1/assessments": {201, 404, 422},
    "GET /v1/assessments": {200, 404, 422},
    "GET /v1/assessments/{assessment_id}": {200, 404},
    "PATCH /v1/assessments/{assessment_id}": {200, 404, 409, 422},
    "POST /v1/assessments/{assessment_id}/submit": {200, 404, 409},
    "GET /v1/assessments/{assessment_id}/roadmap": {200, 404, 409, 422},
    # Only the draft is swapped in here: rendering a PDF per generated case would take minutes.
    "GET /v1/assessments/{assessment_id}/report.pdf": {404, 409, 422},
    "POST /v1/assessments/{assessment_id}/reports": {202, 404, 409, 422},
    "GET /v1/reports/{job_id}": {200, 404},
    "GET /v1/reports/{job_id}/pdf": {404, 409},
    "GET /healthz": {200},
    "GET /readyz": {200},
    "POST /v1/assessments/batch": {200},
    "GET /fhir/r4/Questionnaire/{questionnaire_id}": {200, 404},
    "GET /fhir/r4/Questionnaire/{questionnaire_id}/_history/{version}": {200, 404},
    "POST /fhir/r4/QuestionnaireResponse": {201, 400, 422},
    "GET /fhir/r4/QuestionnaireResponse/{assessment_id}": {200, 404},
    # The same operations, with a string in the body that is not text.
    "POST /v1/assessments (not text)": {422},
    "POST /v1/assessments/batch (not text)": {200},
    "POST /fhir/r4/QuestionnaireResponse (not text)": {422},
}

# Operations whose bodies are also sent with one string made invalid (each accepts a 422).
NOT_TEXT_OPERATIONS = {
    "POST /v1/assessments",
    "PATCH /v1/assessments/{assessment_id}",
    "POST /v1/assessments/batch",
    "PUT /v1/organizations/{organization_id}/roadmap-settings",
    "POST /fhir/r4/QuestionnaireResponse",
}
NOT_TEXT = st.sampled_from(["\ud800", "\udfff", "\ud83d", "\x00", "\x1b", "\x7f\x01"])

# Real values, filled in by the `seeded` fixture for the running test.
REAL: dict[str, list[Any]] = {}

# When a generated value is well-formed, so that swapping it keeps a valid request valid
# and leaves an invalid one invalid.
WELL_FORMED: dict[str, Callable[[Any], bool]] = {
    "organization_id": lambda value: isinstance(value, str) and _is_uuid(value),
    "assessment_id": lambda value: isinstance(value, str) and _is_uuid(value),
    "job_id": lambda value: isinstance(value, str) and _is_uuid(value),
    "questionnaire_id": lambda value: (
        isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9-]{0,63}", value) is not None
    ),
    "version": lambda value: type(value) is int and 1 <= value <= 1_000_000,
}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _with_real_ids(
    values: Any, names: tuple[str, ...], real: dict[str, list[Any]] | None = None
) -> st.SearchStrategy[Any]:
    """The generated values, or the same with well-formed ids swapped for real ones."""
    real = REAL if real is None else real
    if not isinstance(values, dict):
        return st.just(values)
    names = tuple(n for n in names if n in values and n in real and WELL_FORMED[n](values[n]))
    options = [[values[name], *real[name]] for name in names]
    swapped = [{**values, **dict(zip(names, c, strict=True))} for c in product(*options)][1:]
    return st.sampled_from([values, *swapped, *swapped])  # real ids twice as likely


@schema.hook("flatmap_path_parameters")
def _real_path_ids(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    names = ("organization_id", "assessment_id", "questionnaire_id", "version", "job_id")
    real = REAL
    if context.operation.path.endswith("/report.pdf") and REAL:
        real = {**REAL, "assessment_id": REAL["assessment_id"][:1]}  # the draft only
    return _with_real_ids(path_parameters, names, real)


@schema.hook("flatmap_query")
def _real_query_ids(_: Any, query: Any) -> st.SearchStrategy[Any]:
    return _with_real_ids(query, ("organization_id",))


def _fhir_example() -> dict[str, Any]:
    """A real QuestionnaireResponse, for the example organization the fixture seeds."""
    path = PROJECT_ROOT / "examples" / "fhir" / "community-hospital.json"
    resource: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    resource["subject"] = {"reference": f"Organization/{EXAMPLE_ORGANIZATION}"}
    return resource


def _string_places(value: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where ``value`` holds a string (a path of keys and indexes)."""
    if isinstance(value, str):
        return [where]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _string_places(v, (*where, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _string_places(v, (*where, i))]
    return []


def _replaced(value: Any, where: tuple[Any, ...], bad: str, at: int) -> Any:
    if not where:
        return value[:at] + bad + value[at:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[where[0]] = _replaced(value[where[0]], where[1:], bad, at)
    return copy


def _with_invalid_text(body: Any) -> st.SearchStrategy[Any]:
    """The body as it is, or with one of its strings made invalid text."""
    places = _string_places(body)
    if not places:
        return st.just(body)
    broken = st.builds(
        lambda where, bad, at: _replaced(body, where, bad, at),
        st.sampled_from(places),
        NOT_TEXT,
        st.integers(0, 3),
    )
    return st.one_of(st.just(body), broken)


def _not_text(body: Any) -> bool:
    return isinstance(body, dict | list) and next(text_problems(body), None) is not None


@schema.hook("flatmap_body")
def _real_body_ids(context: Any, body: Any) -> st.SearchStrategy[Any]:
    bodies = _with_real_ids(body, ("organization_id",))
    label = context.operation.label
    if label == "POST /fhir/r4/QuestionnaireResponse":
        bodies = st.one_of(bodies, st.just(_fhir_example()))
    if label in NOT_TEXT_OPERATIONS:
        bodies = bodies.flatmap(_with_invalid_text)
    return bodies


@pytest.fixture
def seeded(client, db, make_key) -> Iterator[str]:
    """An admin key; an organization with a draft and a submitted assessment; a report job."""
    token = make_key("admin")
    organization = Organization(
        id=uuid.UUID(EXAMPLE_ORGANIZATION),
        name="Lakeside Community Hospital",
        type="community_hospital",
        licensed_beds=60,
        state="MN",
    )
    db.add(organization)
    db.commit()
    assessments = []
    for status in ("draft", "submitted"):
        body = {**ANSWERS, "organization_id": EXAMPLE_ORGANIZATION, "status": status}
        response = client.post("/v1/assessments", json=body, headers=bearer(token))
        assert response.status_code == 201, response.text
        assessments.append(response.json()["id"])
    job = client.post(f"/v1/assessments/{assessments[1]}/reports", headers=bearer(token))
    assert job.status_code == 202, job.text
    REAL.update(
        organization_id=[EXAMPLE_ORGANIZATION],
        assessment_id=assessments,  # the draft first
        questionnaire_id=[QUESTIONNAIRE],
        version=[1],
        job_id=[job.json()["id"]],
    )
    yield token
    REAL.clear()


@pytest.fixture
def observed() -> Iterator[dict[str, set[int]]]:
    """The statuses each operation answered; checked against OBSERVED_AT_LEAST at the end."""
    statuses: dict[str, set[int]] = defaultdict(set)
    yield statuses
    for label in [*statuses, *(f"{label} (not text)" for label in statuses)]:
        seen = statuses.get(label, set())
        missing = OBSERVED_AT_LEAST.get(label, set()) - seen  # newer operations: none yet
        assert not missing, f"{label}: the fuzzer never saw {sorted(missing)} (saw {sorted(seen)})"


@pytest.mark.slow
@schema.parametrize()
# The fixtures hold one database transaction for all of an operation's examples, on purpose.
# (Settings given here override the config's, so the example count is restated.)
@settings(max_examples=MAX_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_conforms_to_the_openapi_description(case, app, seeded, observed):
    APP_UNDER_TEST.app = app
    response = case.call_and_validate(headers=bearer(seeded))
    label = case.operation.label
    observed[label].add(response.status_code)
    if _not_text(case.body):
        observed[f"{label} (not text)"].add(response.status_code)
        if response.status_code == 200 and label == "POST /v1/assessments/batch":
            assert response.json()["failed"] >= 1, response.text
        else:
            assert 400 <= response.status_code < 500, response.text


# --- Requests built to break the service: each must get a 4xx, never a 500 -----------------

ORGANIZATION = {
    "name": "Lakeside",
    "type": "community_hospital",
    "licensed_beds": 60,
    "state": "MN",
}
RAW = "__raw_json__"  # replaced, in the serialised body, by JSON text json.dumps cannot write


def _position(question_id: str) -> int:
    return next(i for i, a in enumerate(ANSWERS["answers"]) if a["question_id"] == question_id)


def _assessment(organization_id: str, question_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The example answers, with one answer changed."""
    answers = [dict(a) for a in ANSWERS["answers"]]
    answers[_position(question_id)].update(changes)
    return {**ANSWERS, "answers": answers, "organization_id": organization_id}


def _send(client, method: str, url: str, body: Any, headers: dict[str, str], raw: str = ""):
    content = json.dumps(body).replace(json.dumps(RAW), raw).encode()
    return client.request(
        method, url, content=content, headers={**headers, "Content-Type": "application/json"}
    )


@pytest.fixture
def organization_id(make_organization) -> str:
    return str(make_organization().id)


NUL_CASES = {
    "organization name": ("POST", "/v1/organizations", {**ORGANIZATION, "name": "Lake\x00side"}),
    "new organization name": ("PATCH", "/v1/organizations/{org}", {"name": "\x00"}),
    "text answer": ("POST", "/v1/assessments", ("se_incidents_description", {"value": "a\x00b"})),
    "choice answer": ("POST", "/v1/assessments", ("pr_official_accounts", {"value": "\x00"})),
    "answer in a list": ("POST", "/v1/assessments", ("pr_platforms", {"value": ["face\x00book"]})),
    "question id": ("POST", "/v1/assessments", ("pr_platforms", {"question_id": "pr_\x00"})),
    "comment": ("POST", "/v1/assessments", ("pr_platforms", {"comment": "fine\x00"})),
}


@pytest.mark.parametrize("case", NUL_CASES)
def test_nul_bytes_in_text_are_refused_with_the_field_named(
    client, admin_headers, organization_id, case
):
    method, url, body = NUL_CASES[case]
    if isinstance(body, tuple):
        question_id, changes = body
        body = _assessment(organization_id, question_id, changes)
        field = f"answers[{_position(question_id)}]"
    else:
        field = next(iter(body)) if method == "PATCH" else "name"

    response = _send(client, method, url.format(org=organization_id), body, admin_headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"] in ("invalid_request", "invalid_answers")
    assert any(e["field"].startswith(field) for e in response.json()["errors"]), response.text


HUGE_NUMBERS = ["1e400", "-1e400", "1" + "0" * 400, "1" + "0" * 30, "NaN", "Infinity"]


@pytest.mark.parametrize(
    "number", HUGE_NUMBERS, ids=lambda n: n if len(n) < 10 else f"{len(n)}-digits"
)
def test_huge_licensed_beds_are_refused(client, admin_headers, number):
    body = {**ORGANIZATION, "licensed_beds": RAW}

    response = _send(client, "POST", "/v1/organizations", body, admin_headers, raw=number)

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["licensed_beds"]


@pytest.mark.parametrize("question_id", ["pr_posts_per_week", "pr_clinician_participation"])
@pytest.mark.parametrize(
    "number", HUGE_NUMBERS, ids=lambda n: n if len(n) < 10 else f"{len(n)}-digits"
)
def test_huge_numeric_answers_are_refused(
    client, admin_headers, organization_id, question_id, number
):
    body = _assessment(organization_id, question_id, {"value": RAW})

    response = _send(client, "POST", "/v1/assessments", body, admin_headers, raw=number)

    assert response.status_code == 422, response.text
    fields = [e["field"] for e in response.json()["errors"]]
    assert all(f.startswith(f"answers[{_position(question_id)}].value") for f in fields), fields


@pytest.mark.parametrize(
    "number", HUGE_NUMBERS, ids=lambda n: n if len(n) < 10 else f"{len(n)}-digits"
)
def test_huge_questionnaire_versions_and_page_sizes_are_refused(
    client, admin_headers, organization_id, number
):
    body = {
        **ANSWERS,
        "organization_id": organization_id,
        "questionnaire": {"id": "x", "version": RAW},
    }
    posted = _send(client, "POST", "/v1/assessments", body, admin_headers, raw=number)
    listed = client.get(f"/v1/organizations?limit={number}", headers=admin_headers)

    assert posted.status_code == 422, posted.text
    assert listed.status_code == 422, listed.text


def test_a_number_too_long_to_read_is_refused_as_unreadable(client, admin_headers):
    body = {**ORGANIZATION, "licensed_beds": RAW}

    response = _send(client, "POST", "/v1/organizations", body, admin_headers, raw="9" * 5000)

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"


DEPTH = 100_000
DEEP_BODIES = {
    "arrays": "[" * DEPTH + "]" * DEPTH,
    "objects": '{"a":' * DEPTH + "1" + "}" * DEPTH,
    "inside a field": '{"name": ' + "[" * DEPTH + "]" * DEPTH + "}",
}


@pytest.mark.parametrize("shape", DEEP_BODIES)
@pytest.mark.parametrize("url", ["/v1/organizations", "/v1/assessments"])
def test_deeply_nested_json_is_refused(client, admin_headers, url, shape):
    response = client.post(
        url,
        content=DEEP_BODIES[shape].encode(),
        headers={**admin_headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"


def test_malformed_json_is_a_400_that_says_where(client, admin_headers):
    response = client.post(
        "/v1/organizations",
        content=b'{"name": "Lakeside",}',
        headers={**admin_headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert "character 20" in response.json()["detail"]


def test_a_body_over_the_default_limit_gets_413(client, admin_headers):
    body = {**ORGANIZATION, "name": "x" * (1024 * 1024)}

    response = client.post("/v1/organizations", json=body, headers=admin_headers)

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


class TestBodyLimit:
    LIMIT = 4096

    @pytest.fixture
    def app_settings(self, app_settings: Settings) -> Settings:
        return app_settings.model_copy(update={"max_body_bytes": self.LIMIT})

    @staticmethod
    def chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
        for start in range(0, len(body), size):
            yield body[start : start + size]

    def body(self, length: int) -> bytes:
        padding = length - len(json.dumps({**ORGANIZATION, "name": ""}).encode())
        return json.dumps({**ORGANIZATION, "name": "x" * padding}).encode()

    @pytest.mark.parametrize("sent", ["with Content-Length", "chunked"])
    def test_a_body_over_the_limit_gets_413_json(self, client, admin_headers, sent):
        body = self.body(self.LIMIT + 1)
        content = body if sent == "with Content-Length" else self.chunks(body)

        response = client.post(
            "/v1/organizations",
            content=content,
            headers={**admin_headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 413, response.text
        assert response.json() == {
            "error": "payload_too_large",
            "detail": f"The request body is larger than {self.LIMIT} bytes.",
        }

    @pytest.mark.parametrize("sent", ["with Content-Length", "chunked"])
    def test_a_body_at_the_limit_is_read(self, client, admin_headers, sent):
        body = self.body(self.LIMIT)
        content = body if sent == "with Content-Length" else self.chunks(body)

        response = client.post(
            "/v1/organizations",
            content=content,
            headers={**admin_headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 422, response.text  # a name too long, not a body too big
        assert [e["field"] for e in response.json()["errors"]] == ["name"]

    def test_a_chunked_body_under_the_limit_is_read_whole(self, client, admin_headers):
        body = json.dumps(ORGANIZATION).encode()

        response = client.post(
            "/v1/organizations",
            content=self.chunks(body, size=7),
            headers={**admin_headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 201, response.text
        assert response.json()["name"] == ORGANIZATION["name"]


# --- What the description promises ----------------------------------------------------------


def test_a_wrong_method_gets_405_naming_every_allowed_method(client, admin_headers):
    response = client.request("PUT", f"/v1/assessments/{uuid.uuid4()}", headers=admin_headers)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, PATCH"
    assert response.json()["error"] == "method_not_allowed"


def test_a_misspelt_query_parameter_is_refused_not_ignored(client, admin_headers, organization_id):
    response = client.get(
        "/v1/assessments", params={"organisation_id": organization_id}, headers=admin_headers
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["organisation_id"]


def test_unauthenticated_requests_get_401_before_any_query_check(client):
    response = client.get("/v1/assessments", params={"organisation_id": "x"})

    assert response.status_code == 401


def test_every_error_the_description_documents_has_the_error_shape():
    for path, operations in schema.raw_schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and path.startswith("/v1"):
                    content = response["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
            if path.startswith("/v1"):
                assert {"401", "422"} <= set(operation["responses"]), (method, path)
            if "requestBody" in operation:
                assert {"400", "413"} <= set(operation["responses"]), (method, path)


@pytest.mark.parametrize(
    ("field", "value"),
    [("licensed_beds", True), ("licensed_beds", "60"), ("licensed_beds", 60.5), ("name", " \t")],
)
def test_an_organization_value_the_description_forbids_is_refused(
    client, admin_headers, field, value
):
    response = client.post(
        "/v1/organizations", json={**ORGANIZATION, field: value}, headers=admin_headers
    )

    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_an_organization_name_is_stored_trimmed(client, admin_headers):
    body = {**ORGANIZATION, "name": "\u3000 Lakeside \n"}

    response = client.post("/v1/organizations", json=body, headers=admin_headers)

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Lakeside"


@pytest.mark.parametrize(
    "options",
    [{"budjet": 5000}, {"budget": True}, {"targets": {"security": True}}],
    ids=["misspelt option", "boolean budget", "boolean target"],
)
def test_report_options_the_description_forbids_are_refused(
    client, admin_headers, organization_id, options
):
    created = client.post(
        "/v1/assessments",
        json={**ANSWERS, "organization_id": organization_id},
        headers=admin_headers,
    )

    response = client.post(
        f"/v1/assessments/{created.json()['id']}/reports", json=options, headers=admin_headers
    )

    assert response.status_code == 422, response.text
