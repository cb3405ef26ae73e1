"""QuestionnaireResponses posted over FHIR become assessments scored exactly as native JSON."""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import PROJECT_ROOT
from app.fhir.response import parse_resource, read_response, response_resource
from app.intake.schemas import AnswerIn
from app.intake.validation import check_answers
from app.organizations.models import Organization
from app.questionnaire.answers import NA
from app.questionnaire.registry import QuestionnaireRegistry
from app.scoring.engine import score_answers
from tests.conftest import bearer, example
from tests.fhir.resources import EXPORTED_V1, native_items, questionnaire_response
from tests.strategies import DEFINITION, complete_answers, draft_answers
from tests.support.questionnaires import loaded_questionnaires

URL = "/fhir/r4/QuestionnaireResponse"
FHIR_JSON = "application/fhir+json"
EXAMPLES = ["community-hospital", "academic-medical-center"]
REGISTRY = QuestionnaireRegistry.of(loaded_questionnaires())
NOW = datetime.now(UTC)


@dataclass(frozen=True)
class StoredAnswer:
    question_id: str
    value: Any
    na: bool
    comment: str | None


@pytest.fixture
def organization_id(make_organization) -> str:
    return str(make_organization().id)


def _post(client, resource: Any, headers: dict[str, str]):
    return client.post(
        URL, content=json.dumps(resource), headers={**headers, "Content-Type": FHIR_JSON}
    )


def _outcome(response) -> dict[str, Any]:
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    OperationOutcome.model_validate(body)
    return body


def _example_response(organization_id: str, name: str = "community-hospital", **changes: Any):
    return questionnaire_response(EXPORTED_V1, organization_id, example(name)["answers"], **changes)


def _assessment(client, response, headers: dict[str, str]) -> dict[str, Any]:
    """The native view of the assessment a FHIR post created, from the link it gives."""
    (link,) = response.json()["extension"]
    return client.get(link["valueUrl"], headers=headers).json()


def _item(resource: dict[str, Any], link_id: str) -> dict[str, Any]:
    return next(i for g in resource["item"] for i in g["item"] if i["linkId"] == link_id)


# -- the round trip -----------------------------------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_exported_questionnaire_answered_and_posted_scores_exactly_as_native_json(
    client, admin_headers, organization_id, name
):
    questionnaire = client.get(  # the examples answer version 1
        "/fhir/r4/Questionnaire/hospital-social-media/_history/1", headers=admin_headers
    ).json()
    native = {**example(name), "organization_id": organization_id}
    resource = questionnaire_response(questionnaire, organization_id, native["answers"])

    by_fhir = _post(client, resource, admin_headers)
    by_json = client.post("/v1/assessments", json=native, headers=admin_headers)

    assert by_fhir.status_code == 201, by_fhir.text
    assert by_json.status_code == 201, by_json.text
    stored = _assessment(client, by_fhir, admin_headers)
    assert stored["id"] == by_fhir.json()["id"]
    assert stored["source"] == "fhir"
    assert stored["status"] == "submitted"
    assert stored["scores"] == by_json.json()["scores"]
    assert stored["answers"] == by_json.json()["answers"]  # values, N/A and comments alike
    levels = [d["level"] for d in stored["scores"]["dimensions"]]
    assert levels == ([2, 1, 2] if name == "community-hospital" else [4, 3, 4])


def test_the_stored_response_comes_back_as_valid_fhir_with_the_assessment_id(
    client, admin_headers, organization_id
):
    response = _post(client, _example_response(organization_id), admin_headers)

    assert response.status_code == 201
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    parsed = QuestionnaireResponse.model_validate(body)
    assert response.headers["Location"].endswith(f"/fhir/r4/QuestionnaireResponse/{parsed.id}")
    assert parsed.subject.reference == f"Organization/{organization_id}"
    assert parsed.questionnaire == f"{EXPORTED_V1['url']}|1"
    assert parsed.status == "completed"
    assert body["extension"][0]["valueUrl"].endswith(f"/v1/assessments/{parsed.id}")
    read_back = client.get(response.headers["Location"], headers=admin_headers)
    assert read_back.status_code == 200
    assert read_back.headers["content-type"] == FHIR_JSON
    assert read_back.json() == body


def test_the_returned_response_posted_again_stores_the_same_answers(
    client, admin_headers, organization_id
):
    first = _post(
        client, _example_response(organization_id, "academic-medical-center"), admin_headers
    )

    second = _post(client, first.json(), admin_headers)

    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]
    assert second.json()["item"] == first.json()["item"]


def test_in_progress_is_stored_as_a_partial_draft(client, admin_headers, organization_id):
    answers = example("community-hospital")["answers"][:5]
    resource = questionnaire_response(EXPORTED_V1, organization_id, answers, status="draft")

    response = _post(client, resource, admin_headers)

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "in-progress"
    stored = _assessment(client, response, admin_headers)
    assert stored["status"] == "draft"
    assert [a["question_id"] for a in stored["answers"]] == [a["question_id"] for a in answers]


def test_flat_items_and_a_questionnaire_without_version_are_accepted(
    client, admin_headers, organization_id
):
    resource = _example_response(organization_id)
    resource["item"] = [item for group in resource["item"] for item in group["item"]]
    latest = client.get("/fhir/r4/Questionnaire/hospital-social-media", headers=admin_headers)
    draft = questionnaire_response(
        latest.json(),
        organization_id,
        [{"question_id": "pr_official_accounts", "value": "main_platforms"}],
        status="draft",
    )
    draft["questionnaire"] = EXPORTED_V1["url"]  # no version: the latest one

    flat = _post(client, resource, admin_headers)
    versionless = _post(client, draft, admin_headers)

    assert flat.status_code == 201, flat.text
    assert flat.json()["questionnaire"].endswith("|1")
    assert versionless.status_code == 201, versionless.text
    assert versionless.json()["questionnaire"].endswith("|2")


def test_plain_application_json_is_accepted_too(client, admin_headers, organization_id):
    response = client.post(URL, json=_example_response(organization_id), headers=admin_headers)

    assert response.status_code == 201, response.text


@given(
    st.one_of(
        complete_answers.map(lambda answers: (answers, True)),
        draft_answers.map(lambda answers: (answers, False)),
    )
)
def test_fhir_and_native_intake_check_and_score_any_valid_answers_identically(case):
    answers, submitting = case
    natives = native_items(answers)
    resource = questionnaire_response(
        EXPORTED_V1, str(uuid.uuid4()), natives, status="submitted" if submitting else "draft"
    )

    request = read_response(parse_resource(json.dumps(resource).encode()), REGISTRY)
    by_fhir = check_answers(DEFINITION, request.answers, submitting=submitting)
    by_json = check_answers(
        DEFINITION, [AnswerIn.model_validate(a) for a in natives], submitting=submitting
    )

    assert request.status == ("submitted" if submitting else "draft")
    assert by_fhir == by_json
    values = {qid: a.value for qid, a in by_fhir.items()}
    assert score_answers(DEFINITION, values) == score_answers(
        DEFINITION, {qid: a.value for qid, a in by_json.items()}
    )


@given(complete_answers)
def test_the_response_of_stored_answers_reads_back_to_the_same_answers(answers):
    checked = check_answers(
        DEFINITION, [AnswerIn.model_validate(a) for a in native_items(answers)], submitting=True
    )
    stored = [
        StoredAnswer(qid, None if a.value is NA else a.value, a.value is NA, a.comment)
        for qid, a in checked.items()
    ]
    resource = response_resource(
        DEFINITION,
        assessment_id=uuid.uuid4(),
        organization_id=uuid.uuid4(),
        status="submitted",
        authored=NOW,
        answers=stored,
        assessment_url="https://assess.example.org/v1/assessments/1",
    )
    QuestionnaireResponse.model_validate(resource)

    request = read_response(parse_resource(json.dumps(resource).encode()), REGISTRY)

    assert check_answers(DEFINITION, request.answers, submitting=True) == checked


# -- errors, as OperationOutcome ------------------------------------------------------------


def _expressions(outcome: dict[str, Any]) -> list[str]:
    return [e for i in outcome["issue"] for e in i.get("expression", [])]


def test_an_unknown_option_code_is_a_422_naming_the_link_id_and_the_item(
    client, admin_headers, organization_id
):
    resource = _example_response(organization_id)
    _item(resource, "pr_verification")["answer"][0]["valueCoding"]["code"] = "maybe"

    response = _post(client, resource, admin_headers)

    assert response.status_code == 422
    (issue,) = _outcome(response)["issue"]
    assert issue["severity"] == "error"
    assert issue["code"] == "value"
    assert "'maybe' is not an option" in issue["diagnostics"]
    assert issue["expression"] == [
        "QuestionnaireResponse.item[0].item[3].answer",
        "QuestionnaireResponse.repeat(item).where(linkId='pr_verification')",
    ]


def test_a_value_of_the_wrong_fhir_type_is_a_422_naming_the_answer(
    client, admin_headers, organization_id
):
    resource = _example_response(organization_id)
    _item(resource, "se_shared_logins")["answer"] = [{"valueString": "yes"}]

    response = _post(client, resource, admin_headers)

    assert response.status_code == 422
    (issue,) = _outcome(response)["issue"]
    assert issue["diagnostics"] == "se_shared_logins: expects a valueBoolean"
    assert issue["expression"][0].endswith(".answer[0]")
    assert "linkId='se_shared_logins'" in issue["expression"][1]


def test_a_missing_required_answer_in_a_completed_response_is_a_required_issue(
    client, admin_headers, organization_id
):
    resource = _example_response(organization_id)
    resource["item"][1]["item"] = [
        i for i in resource["item"][1]["item"] if i["linkId"] != "co_owner"
    ]

    response = _post(client, resource, admin_headers)

    assert response.status_code == 422
    (issue,) = _outcome(response)["issue"]
    assert issue["code"] == "required"
    assert issue["expression"] == ["QuestionnaireResponse.repeat(item).where(linkId='co_owner')"]


def test_every_problem_is_reported_at_once_and_nothing_is_stored(
    client, admin_headers, organization_id
):
    resource = _example_response(organization_id)
    _item(resource, "pr_posts_per_week")["answer"] = [{"valueInteger": 1000}]
    _item(resource, "co_strategy")["answer"] = [{"valueCoding": {"code": "nonsense"}}]
    resource["item"][2]["item"].append(
        {"linkId": "se_no_such_question", "answer": [{"valueBoolean": True}]}
    )

    response = _post(client, resource, admin_headers)
    listed = client.get(
        "/v1/assessments", params={"organization_id": organization_id}, headers=admin_headers
    )

    assert response.status_code == 422
    named = _expressions(_outcome(response))
    for link_id in ("pr_posts_per_week", "co_strategy", "se_no_such_question"):
        assert f"QuestionnaireResponse.repeat(item).where(linkId='{link_id}')" in named
    assert listed.json()["total"] == 0


@pytest.mark.parametrize(
    ("link_id", "answers", "message"),
    [
        (
            "pr_verification",
            [{"valueCoding": {"system": "http://loinc.org", "code": "all"}}],
            "code system",
        ),
        (
            "pr_official_accounts",
            [{"valueCoding": {"code": "none"}}, {"valueCoding": {"code": "none"}}],
            "takes one answer",
        ),
        (
            "pr_clinician_participation",
            [{"valueCoding": {"code": "many"}}],
            "not a point of the scale",
        ),
        ("pr_posts_per_week", [{"valueString": "two"}], "expects a valueInteger or valueDecimal"),
        ("se_anything_else", [{"valueBoolean": True}], "expects a valueString"),
        (
            "pr_verification",
            [
                {
                    "valueCoding": {
                        "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                        "code": "not-applicable",
                    }
                }
            ],
            "cannot be answered 'not applicable'",
        ),
    ],
)
def test_answers_that_do_not_fit_their_item_are_refused_naming_the_link_id(
    client, admin_headers, organization_id, link_id, answers, message
):
    resource = _example_response(organization_id)
    _item(resource, link_id)["answer"] = answers

    response = _post(client, resource, admin_headers)

    assert response.status_code == 422, response.text
    (issue,) = _outcome(response)["issue"]
    assert message in issue["diagnostics"]
    assert f"linkId='{link_id}'" in issue["expression"][-1]


RESPONSE = b'{"resourceType": "QuestionnaireResponse", "status": "completed"'


@pytest.mark.parametrize(
    "body",
    [
        b'{"resourceType": "QuestionnaireResponse",',
        b"[]",
        b'{"resourceType": "Patient"}',
        RESPONSE + b', "item": [{"answer": []}]}',
        RESPONSE + b', "answers": []}',
        RESPONSE + b', "item": [{"linkId": "x", "answer": [{"valueDecimal": NaN}]}]}',
    ],
    ids=["truncated", "array", "patient", "item without linkId", "unknown element", "NaN"],
)
def test_bodies_that_are_not_a_questionnaire_response_are_400_structure_issues(
    client, admin_headers, body
):
    response = client.post(URL, content=body, headers={**admin_headers, "Content-Type": FHIR_JSON})

    assert response.status_code == 400, response.text
    issues = _outcome(response)["issue"]
    assert {i["code"] for i in issues} == {"structure"}


def test_a_structural_problem_names_its_fhirpath(client, admin_headers, organization_id):
    resource = _example_response(organization_id)
    resource["item"][0]["item"][0]["answer"][0]["valueCoding"]["userSelected"] = "sometimes"

    response = _post(client, resource, admin_headers)

    assert response.status_code == 400
    (issue,) = _outcome(response)["issue"]
    assert issue["expression"] == [
        "QuestionnaireResponse.item[0].item[0].answer[0].valueCoding.userSelected"
    ]


@pytest.mark.parametrize(
    ("change", "status", "code", "expression"),
    [
        ({"status": "amended"}, 422, "value", "QuestionnaireResponse.status"),
        ({"subject": None}, 422, "required", "QuestionnaireResponse.subject"),
        ({"subject": {"reference": "Patient/123"}}, 422, "value", "QuestionnaireResponse.subject"),
        ({"questionnaire": None}, 422, "required", "QuestionnaireResponse.questionnaire"),
        (
            {"questionnaire": "http://loinc.org/q/44249-1"},
            404,
            "not-found",
            "QuestionnaireResponse.questionnaire",
        ),
        (
            {"questionnaire": f"{EXPORTED_V1['url']}|3"},
            404,
            "not-found",
            "QuestionnaireResponse.questionnaire",
        ),
        (
            {"questionnaire": f"{EXPORTED_V1['url']}|one"},
            404,
            "not-found",
            "QuestionnaireResponse.questionnaire",
        ),
        (
            {"subject": {"reference": f"Organization/{uuid.uuid4()}"}},
            404,
            "not-found",
            None,
        ),
        ({"subject": {"reference": "Organization/lakeside"}}, 404, "not-found", None),
    ],
    ids=[
        "amended",
        "no subject",
        "a patient",
        "no questionnaire",
        "someone else's questionnaire",
        "unknown version",
        "version not a number",
        "unknown organization",
        "organization id not a uuid",
    ],
)
def test_responses_the_service_cannot_store_are_refused_with_the_element_named(
    client, admin_headers, organization_id, change, status, code, expression
):
    resource = {**_example_response(organization_id), **change}
    resource = {k: v for k, v in resource.items() if v is not None}

    response = _post(client, resource, admin_headers)

    assert response.status_code == status, response.text
    (issue,) = _outcome(response)["issue"]
    assert issue["code"] == code
    if expression:
        assert issue["expression"] == [expression]


# -- who may post --------------------------------------------------------------------------


def test_a_partner_posts_for_a_granted_organization(client, make_key, organization_id):
    partner = make_key("partner", [uuid.UUID(organization_id)])

    response = _post(client, _example_response(organization_id), bearer(partner))

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("role", ["partner", "consultant"])
def test_a_foreign_organization_answers_exactly_like_a_missing_one(
    client, make_key, make_organization, organization_id, role
):
    elsewhere = make_organization("Elsewhere Clinic").id
    token = bearer(make_key(role, [elsewhere]))
    missing = str(uuid.uuid4())

    foreign = _post(client, _example_response(organization_id), token)
    absent = _post(client, _example_response(missing), token)

    assert foreign.status_code == absent.status_code == 404
    assert _outcome(foreign) == json.loads(absent.text.replace(missing, organization_id))


def test_answers_for_a_foreign_organization_are_not_checked_before_scope(
    client, make_key, make_organization, organization_id
):
    token = bearer(make_key("consultant", [make_organization("Elsewhere Clinic").id]))
    resource = _example_response(organization_id)
    _item(resource, "pr_verification")["answer"][0]["valueCoding"]["code"] = "maybe"

    response = _post(client, resource, token)

    assert response.status_code == 404


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-key"}],
    ids=["no key", "not a key"],
)
def test_without_a_valid_key_the_post_is_a_401_operation_outcome(client, organization_id, headers):
    response = _post(client, _example_response(organization_id), headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert _outcome(response)["issue"][0]["code"] == "login"


def test_a_copy_of_the_body_is_not_changed_by_posting(client, admin_headers, organization_id):
    resource = _example_response(organization_id)
    before = copy.deepcopy(resource)

    _post(client, resource, admin_headers)

    assert resource == before


# -- the example files ---------------------------------------------------------------------

EXAMPLE_ORGANIZATION = "0b0c7a4e-5d43-4b8e-9a55-1f2f5b6f3c11"


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_fhir_example_files_give_the_same_answers_as_the_native_ones(name):
    path = PROJECT_ROOT / "examples" / "fhir" / f"{name}.json"

    document = json.loads(path.read_text(encoding="utf-8"))

    assert document == questionnaire_response(
        EXPORTED_V1, EXAMPLE_ORGANIZATION, example(name)["answers"]
    )


def test_the_documented_example_is_accepted_for_its_organization(client, admin_headers, db):
    db.add(
        Organization(
            id=uuid.UUID(EXAMPLE_ORGANIZATION),
            name="Example Medical Center",
            type="academic_medical_center",
            licensed_beds=800,
            state="MN",
        )
    )
    db.commit()
    operation = client.app.openapi()["paths"][URL]["post"]
    body = operation["requestBody"]["content"][FHIR_JSON]["examples"]["completed"]["value"]

    response = _post(client, body, admin_headers)

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "completed"


# -- hostile values get the limits native answers get ----------------------------------------

COMMENT_URL = "https://smm-assess.example.org/fhir/StructureDefinition/answer-comment"


@pytest.mark.parametrize(
    ("link_id", "change", "status", "part", "message"),
    [
        (
            "se_anything_else",
            {"answer": [{"valueString": "a\x00b"}]},
            422,
            ".answer[0].valueString",
            "NUL",
        ),
        (
            "se_anything_else",
            {"answer": [{"valueString": "x" * 20_000}]},
            422,
            ".answer",
            "at most 2000 are kept",
        ),
        (
            "pr_verification",
            {"extension": [{"url": COMMENT_URL, "valueString": "fine\x00"}]},
            422,
            ".extension[0].valueString",
            "NUL",
        ),
        (
            "pr_verification",
            {"extension": [{"url": COMMENT_URL, "valueString": "x" * 2001}]},
            422,
            ".extension",
            "at most 2000 characters",
        ),
        # FHIR integers are 32-bit: larger ones are not valid R4 at all.
        ("pr_posts_per_week", {"answer": [{"valueInteger": 10**30}]}, 400, "", "2147483647"),
        ("pr_posts_per_week", {"answer": [{"valueDecimal": 1e300}]}, 422, ".answer", "outside"),
        (
            "pr_clinician_participation",
            {"answer": [{"valueInteger": 6}]},
            422,
            ".answer",
            "outside",
        ),
    ],
    ids=[
        "NUL in text",
        "text too long",
        "NUL in comment",
        "comment too long",
        "huge integer",
        "huge decimal",
        "scale point off the scale",
    ],
)
def test_values_native_json_refuses_are_refused_naming_the_item(
    client, admin_headers, organization_id, link_id, change, status, part, message
):
    resource = _example_response(organization_id)
    _item(resource, link_id).update(change)

    response = _post(client, resource, admin_headers)

    assert response.status_code == status, response.text
    issues = _outcome(response)["issue"]
    assert len(issues) == 1
    assert message in issues[0]["diagnostics"]
    if status == 422:
        assert issues[0]["expression"][0].endswith(part)
        assert issues[0]["expression"][1] == (
            f"QuestionnaireResponse.repeat(item).where(linkId='{link_id}')"
        )


def test_comments_are_kept_as_native_json_keeps_them(client, admin_headers, organization_id):
    resource = _example_response(organization_id, status="draft")
    _item(resource, "pr_verification")["extension"] = [
        {"url": COMMENT_URL, "valueString": "  Only the main page.  "}
    ]

    response = _post(client, resource, admin_headers)

    stored = _assessment(client, response, admin_headers)
    (answer,) = [a for a in stored["answers"] if a["question_id"] == "pr_verification"]
    assert answer["comment"] == "Only the main page."


def test_a_response_with_more_items_than_a_native_request_may_hold_is_refused_unread(
    client, admin_headers, organization_id
):
    resource = _example_response(organization_id)
    resource["item"] = [
        {"linkId": f"q{n}", "answer": [{"valueBoolean": True}]} for n in range(1001)
    ]

    response = _post(client, resource, admin_headers)

    assert response.status_code == 422
    (issue,) = _outcome(response)["issue"]
    assert issue["code"] == "too-costly"
    assert issue["expression"] == ["QuestionnaireResponse.item"]


def test_a_body_over_the_size_limit_gets_413(client, admin_headers, organization_id):
    resource = _example_response(organization_id)
    _item(resource, "se_anything_else")["answer"] = [{"valueString": "x" * 1_100_000}]

    response = _post(client, resource, admin_headers)

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_the_openapi_description_gives_fhir_json_and_operation_outcomes(app):
    operations = app.openapi()["paths"]
    post = operations[URL]["post"]
    read = operations["/fhir/r4/Questionnaire/{questionnaire_id}"]["get"]

    assert post["tags"] == read["tags"] == ["fhir"]
    assert set(post["requestBody"]["content"]) == {FHIR_JSON, "application/json"}
    # 409: the Idempotency-Key was already used for a different request.
    assert set(post["responses"]) == {"201", "400", "401", "404", "406", "409", "413", "415", "422"}
    for code in ("400", "401", "404", "409", "422"):
        schema = post["responses"][code]["content"][FHIR_JSON]["schema"]
        assert schema["properties"]["resourceType"] == {"const": "OperationOutcome"}
    assert set(read["responses"]) == {"200", "304", "401", "404", "406", "422"}


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        complete_answers.map(lambda answers: (answers, "submitted")),
        draft_answers.map(lambda answers: (answers, "draft")),
    )
)
def test_random_answers_posted_over_fhir_and_as_json_get_the_same_scores(
    client, admin_headers, organization_id, case
):
    answers, status = case
    natives = native_items(answers)
    resource = questionnaire_response(EXPORTED_V1, organization_id, natives, status=status)
    native = {
        "organization_id": organization_id,
        "questionnaire": {"id": "hospital-social-media", "version": 1},
        "status": status,
        "answers": natives,
    }

    by_fhir = _post(client, resource, admin_headers)
    by_json = client.post("/v1/assessments", json=native, headers=admin_headers)

    assert by_fhir.status_code == by_json.status_code == 201, by_fhir.text
    stored = _assessment(client, by_fhir, admin_headers)
    assert stored["scores"] == by_json.json()["scores"]
    assert stored["answers"] == by_json.json()["answers"]


# -- any assessment, read back as a QuestionnaireResponse ------------------------------------


def test_an_assessment_posted_as_native_json_reads_back_as_a_response_that_reposts_the_same(
    client, admin_headers, organization_id
):
    native = {**example("academic-medical-center"), "organization_id": organization_id}
    created = client.post("/v1/assessments", json=native, headers=admin_headers).json()

    response = client.get(f"{URL}/{created['id']}", headers=admin_headers)
    reposted = _post(client, response.json(), admin_headers)

    assert response.status_code == 200
    QuestionnaireResponse.model_validate(response.json())
    assert response.json()["id"] == created["id"]
    assert _assessment(client, reposted, admin_headers)["answers"] == created["answers"]
    assert _assessment(client, reposted, admin_headers)["scores"] == created["scores"]


def test_a_draft_reads_back_in_progress(client, admin_headers, organization_id):
    resource = _example_response(organization_id, status="draft")
    created = _post(client, resource, admin_headers).json()

    response = client.get(f"{URL}/{created['id']}", headers=admin_headers)

    assert response.json()["status"] == "in-progress"


@pytest.mark.parametrize("target", ["foreign", "missing", "not an id"])
def test_an_assessment_out_of_scope_is_a_404_operation_outcome(
    client, admin_headers, make_key, make_organization, organization_id, target
):
    created = _post(client, _example_response(organization_id), admin_headers).json()
    partner = bearer(make_key("partner", [make_organization("Elsewhere Clinic").id]))
    path = {"foreign": created["id"], "missing": str(uuid.uuid4()), "not an id": "lakeside"}

    response = client.get(f"{URL}/{path[target]}", headers=partner)

    assert response.status_code == 404
    assert _outcome(response)["issue"][0]["code"] == "not-found"
