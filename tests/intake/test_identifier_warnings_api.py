"""The API warns, naming the field, when a comment or free text looks like an identifier."""

from __future__ import annotations

import pytest

V1 = {"id": "hospital-social-media", "version": 1}


@pytest.fixture
def org(make_organization):
    return make_organization()


def draft(org, answers):
    return {
        "organization_id": str(org.id),
        "questionnaire": V1,
        "status": "draft",
        "answers": answers,
    }


def test_creating_a_draft_with_a_phone_number_in_a_comment_warns_and_keeps_it(
    client, admin_headers, org
):
    answers = [
        {"question_id": "pr_official_accounts", "value": "main_platforms"},
        {
            "question_id": "pr_account_ownership",
            "value": "individual_work",
            "comment": "The admin is reachable on 612-555-0147.",
        },
    ]

    response = client.post("/v1/assessments", json=draft(org, answers), headers=admin_headers)

    assert response.status_code == 201
    [warning] = response.json()["warnings"]
    assert warning["field"] == "answers[1].comment"
    assert warning["question_id"] == "pr_account_ownership"
    assert warning["kinds"] == ["phone number"]
    assert "Do not enter patient names or identifiers" in warning["message"]
    stored = client.get(f"/v1/assessments/{response.json()['id']}", headers=admin_headers).json()
    assert stored["answers"][1]["comment"] == "The admin is reachable on 612-555-0147."
    assert stored["warnings"] == []  # warnings speak about the request that sent the text


def test_updating_free_text_with_a_record_number_warns_on_the_value(client, admin_headers, org):
    created = client.post("/v1/assessments", json=draft(org, []), headers=admin_headers).json()

    response = client.patch(
        f"/v1/assessments/{created['id']}",
        json={
            "answers": [
                {"question_id": "pr_official_accounts", "value": "main_platforms"},
                {
                    "question_id": "se_incidents_description",
                    "value": "A nurse posted a photo showing MRN 00451234 and DOB 04/12/1957.",
                },
            ]
        },
        headers=admin_headers,
    )

    assert response.status_code == 200, response.text
    [warning] = response.json()["warnings"]
    assert warning["field"] == "answers[1].value"
    assert warning["kinds"] == ["date of birth", "medical record or account number"]


def test_text_without_identifiers_gets_no_warning(client, admin_headers, org):
    answers = [
        {
            "question_id": "pr_account_ownership",
            "value": "individual_work",
            "comment": "Our marketing coordinator is the only admin; we post 3 times a week.",
        }
    ]

    response = client.post("/v1/assessments", json=draft(org, answers), headers=admin_headers)

    assert response.json()["warnings"] == []
