"""Posting, updating, submitting and reading assessments through the REST API."""

from __future__ import annotations

import pytest

from tests.conftest import example

COMMUNITY = example("community-hospital")
ACADEMIC = example("academic-medical-center")


@pytest.fixture
def org(make_organization):
    return make_organization()


def body(org, document=COMMUNITY, **changes):
    return {"organization_id": str(org.id), **document, **changes}


def levels(payload):
    return {d["dimension_id"]: d["level"] for d in payload["scores"]["dimensions"]}


def test_submitted_assessment_returns_score_level_and_explanation_per_dimension(
    client, admin_headers, org
):
    response = client.post("/v1/assessments", json=body(org, ACADEMIC), headers=admin_headers)

    assert response.status_code == 201, response.text
    payload = response.json()
    assert payload["status"] == "submitted"
    assert payload["submitted_at"] is not None
    assert payload["questionnaire"] == {"id": "hospital-social-media", "version": 1}
    assert levels(payload) == {"presence": 4, "consistency": 3, "security": 4}
    consistency = next(
        d for d in payload["scores"]["dimensions"] if d["dimension_id"] == "consistency"
    )
    assert consistency["level_by_score"] == 4
    holding = [g["question_id"] for g in consistency["failed_gates"] if g["level"] == 4]
    assert holding == ["co_account_inventory"]
    assert "co_account_inventory" in consistency["summary"]
    assert consistency["next_level"]["level"] == 4
    assert consistency["next_level"]["gates_to_meet"][0]["question_id"] == "co_account_inventory"
    assert payload["scores"]["engine_version"]
    assert len(payload["answers"]) == len(ACADEMIC["answers"])


def test_created_assessment_reads_back_identically(client, admin_headers, org):
    created = client.post("/v1/assessments", json=body(org), headers=admin_headers).json()

    fetched = client.get(f"/v1/assessments/{created['id']}", headers=admin_headers)

    assert fetched.status_code == 200
    assert fetched.json() == created


def test_answers_read_back_in_questionnaire_order_with_na_and_comments(client, admin_headers, org):
    document = dict(COMMUNITY, answers=list(reversed(COMMUNITY["answers"])))
    payload = client.post("/v1/assessments", json=body(org, document), headers=admin_headers).json()

    sent = {a["question_id"]: a for a in COMMUNITY["answers"]}
    read_ids = [a["question_id"] for a in payload["answers"]]
    assert read_ids == [a["question_id"] for a in COMMUNITY["answers"]]
    for answer in payload["answers"]:
        original = sent[answer["question_id"]]
        assert answer["na"] == original.get("na", False)
        assert answer["value"] == original.get("value")
        assert answer["comment"] == original.get("comment")


def test_submitted_assessment_requires_every_required_question(client, admin_headers, org):
    partial = dict(COMMUNITY, answers=COMMUNITY["answers"][:5])

    response = client.post("/v1/assessments", json=body(org, partial), headers=admin_headers)

    assert response.status_code == 422
    problems = response.json()["errors"]
    missing = {p["question_id"] for p in problems}
    assert "se_policy" in missing
    assert all("required before submitting" in p["message"] for p in problems)
    assert client.get("/v1/assessments", headers=admin_headers).json()["total"] == 0


def test_draft_may_be_partial_and_is_scored_provisionally(client, admin_headers, org):
    draft = dict(COMMUNITY, status="draft", answers=COMMUNITY["answers"][:5])

    response = client.post("/v1/assessments", json=body(org, draft), headers=admin_headers)

    assert response.status_code == 201
    payload = response.json()
    assert payload["status"] == "draft"
    assert payload["submitted_at"] is None
    assert payload["scores"]["complete"] is False


def test_draft_is_updated_then_submitted_and_then_immutable(client, admin_headers, org):
    answers = COMMUNITY["answers"]
    draft = client.post(
        "/v1/assessments",
        json=body(org, dict(COMMUNITY, status="draft", answers=answers[:10])),
        headers=admin_headers,
    ).json()
    url = f"/v1/assessments/{draft['id']}"

    updated = client.patch(url, json={"answers": answers[10:]}, headers=admin_headers)
    assert updated.status_code == 200, updated.text
    assert len(updated.json()["answers"]) == len(answers)
    assert updated.json()["status"] == "draft"

    submitted = client.post(f"{url}/submit", headers=admin_headers)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert levels(submitted.json()) == {"presence": 2, "consistency": 1, "security": 2}

    again = client.patch(url, json={"answers": [answers[0]]}, headers=admin_headers)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    assert client.post(f"{url}/submit", headers=admin_headers).status_code == 409
    assert client.get(url, headers=admin_headers).json() == submitted.json()


def test_patch_replaces_given_answers_and_clears_an_item_without_value(client, admin_headers, org):
    draft = client.post(
        "/v1/assessments", json=body(org, dict(COMMUNITY, status="draft")), headers=admin_headers
    ).json()
    url = f"/v1/assessments/{draft['id']}"

    response = client.patch(
        url,
        json={
            "answers": [
                {"question_id": "se_policy", "value": "dedicated_reviewed"},
                {"question_id": "pr_podcast"},
            ]
        },
        headers=admin_headers,
    )

    assert response.status_code == 200, response.text
    answers = {a["question_id"]: a for a in response.json()["answers"]}
    assert answers["se_policy"]["value"] == "dedicated_reviewed"
    assert "pr_podcast" not in answers
    assert len(answers) == len(COMMUNITY["answers"]) - 1


def test_patch_with_submitted_status_submits_only_when_complete(client, admin_headers, org):
    draft = client.post(
        "/v1/assessments",
        json=body(org, dict(COMMUNITY, status="draft", answers=COMMUNITY["answers"][:3])),
        headers=admin_headers,
    ).json()
    url = f"/v1/assessments/{draft['id']}"

    refused = client.patch(url, json={"status": "submitted"}, headers=admin_headers)
    assert refused.status_code == 422
    assert client.get(url, headers=admin_headers).json()["status"] == "draft"

    done = client.patch(
        url,
        json={"answers": COMMUNITY["answers"][3:], "status": "submitted"},
        headers=admin_headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "submitted"


def test_invalid_patch_loses_nothing_already_stored(client, admin_headers, org):
    draft = client.post(
        "/v1/assessments", json=body(org, dict(COMMUNITY, status="draft")), headers=admin_headers
    ).json()
    url = f"/v1/assessments/{draft['id']}"

    bad = client.patch(
        url,
        json={
            "answers": [
                {"question_id": "se_policy", "value": "dedicated_reviewed"},
                {"question_id": "pr_podcast", "value": "nope"},
            ]
        },
        headers=admin_headers,
    )

    assert bad.status_code == 422
    assert client.get(url, headers=admin_headers).json() == draft


@pytest.mark.parametrize(
    ("answer", "field", "question_id", "phrase"),
    [
        (
            {"question_id": "no_such_question", "value": 1},
            "answers[0].question_id",
            "no_such_question",
            "not a question",
        ),
        (
            {"question_id": "se_shared_logins", "value": "yes"},
            "answers[0].value",
            "se_shared_logins",
            "true or false",
        ),
        (
            {"question_id": "pr_official_accounts", "value": "myspace"},
            "answers[0].value",
            "pr_official_accounts",
            "not an option",
        ),
        (
            {"question_id": "se_offboarding_hours", "value": -3},
            "answers[0].value",
            "se_offboarding_hours",
            "outside",
        ),
        ({"question_id": "se_policy", "na": True}, "answers[0].na", "se_policy", "not applicable"),
        (
            {"question_id": "co_strategy_approved", "value": True},
            "answers[0]",
            "co_strategy_approved",
            "not asked",
        ),
    ],
    ids=[
        "unknown-question",
        "wrong-type",
        "option-not-offered",
        "out-of-range",
        "na-not-allowed",
        "hidden-follow-up",
    ],
)
def test_each_invalid_answer_is_a_422_naming_the_question(
    client, admin_headers, org, answer, field, question_id, phrase
):
    document = {
        "questionnaire": {"id": "hospital-social-media", "version": 1},
        "status": "draft",
        "answers": [answer],
    }

    response = client.post("/v1/assessments", json=body(org, document), headers=admin_headers)

    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["error"] == "invalid_answers"
    [problem] = payload["errors"]
    assert problem["field"] == field
    assert problem["question_id"] == question_id
    assert phrase in problem["message"]


def test_schema_errors_name_the_offending_field(client, admin_headers, org):
    response = client.post(
        "/v1/assessments",
        json={
            "organization_id": str(org.id),
            "questionnaire": {"id": "hospital-social-media"},
            "status": "final",
        },
        headers=admin_headers,
    )

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert [e["field"] for e in response.json()["errors"]] == ["status"]


def test_unknown_questionnaire_or_version_is_404(client, admin_headers, org):
    for ref in ({"id": "no-such-questionnaire"}, {"id": "hospital-social-media", "version": 99}):
        document = {"questionnaire": ref, "status": "draft", "answers": []}
        response = client.post("/v1/assessments", json=body(org, document), headers=admin_headers)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_assessment_for_missing_organization_is_404(client, admin_headers):
    response = client.post(
        "/v1/assessments",
        json={"organization_id": "00000000-0000-4000-8000-000000000000", **COMMUNITY},
        headers=admin_headers,
    )

    assert response.status_code == 404


def test_list_filters_by_organization_and_status_and_pages(
    client, admin_headers, make_organization
):
    first, second = make_organization("First"), make_organization("Second")
    for _ in range(3):
        client.post("/v1/assessments", json=body(first), headers=admin_headers)
    client.post(
        "/v1/assessments", json=body(second, dict(COMMUNITY, status="draft")), headers=admin_headers
    )

    page = client.get(
        f"/v1/assessments?organization_id={first.id}&limit=2", headers=admin_headers
    ).json()
    assert page["total"] == 3
    assert len(page["items"]) == 2
    rest = client.get(
        f"/v1/assessments?organization_id={first.id}&limit=2&offset=2", headers=admin_headers
    ).json()
    assert len(rest["items"]) == 1
    ids = {i["id"] for i in page["items"]} | {i["id"] for i in rest["items"]}
    assert len(ids) == 3
    drafts = client.get("/v1/assessments?status=draft", headers=admin_headers).json()
    assert [i["organization_id"] for i in drafts["items"]] == [str(second.id)]
    assert page["items"][0]["levels"] == {"presence": 2, "consistency": 1, "security": 2}


def test_old_assessment_keeps_its_stored_scores(client, admin_headers, org, db):
    from app.intake.models import Assessment

    created = client.post("/v1/assessments", json=body(org), headers=admin_headers).json()
    row = db.get(Assessment, __import__("uuid").UUID(created["id"]))
    assert row.engine_version == created["scores"]["engine_version"]
    assert row.questionnaire_version == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/v1/assessments/batch"),
        ("GET", "/v1/assessments/batch"),
        ("GET", "/v1/reports/batch"),
    ],
)
def test_a_fixed_path_is_not_read_as_an_id_by_its_sibling_route(
    client, admin_headers, method, path
):
    response = client.request(method, path, json={"answers": []}, headers=admin_headers)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "method_not_allowed"
