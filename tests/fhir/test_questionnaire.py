"""Questionnaires exported as FHIR R4 Questionnaire resources."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from hypothesis import given

from app.fhir import terms
from app.fhir.questionnaire import questionnaire_resource
from app.questionnaire.answers import NA
from app.questionnaire.models import QuestionnaireVersion
from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    ScaleQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)
from app.questionnaire.visibility import visible_questions
from tests.conftest import bearer
from tests.fhir.resources import EXPORTED_V1, fhir_answers, native_items, question_items
from tests.strategies import DEFINITION, any_answers
from tests.support.questionnaires import loaded_questionnaires

LOADED = loaded_questionnaires()
FHIR_JSON = "application/fhir+json"
WEIGHTED_V1 = questionnaire_resource(DEFINITION, weights=True)


def _extension(element: dict[str, Any], url: str) -> list[Any]:
    return [e for e in element.get("extension", []) if e["url"] == url]


def _items_by_link_id(questionnaire: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in question_items(questionnaire)}


@pytest.mark.parametrize("loaded", LOADED, ids=lambda item: str(item.source.name))
def test_every_questionnaire_file_exports_a_valid_fhir_r4_questionnaire(loaded):
    resource = questionnaire_resource(loaded.definition)

    parsed = Questionnaire.model_validate(resource)

    assert parsed.url == terms.questionnaire_url(loaded.definition.id)
    assert parsed.version == str(loaded.definition.version)
    assert parsed.status == "active"
    assert parsed.title == loaded.definition.title
    link_ids = [item["linkId"] for item in question_items(resource)]
    assert link_ids == [q.id for q in loaded.definition.questions]


@pytest.mark.parametrize("loaded", LOADED, ids=lambda item: str(item.source.name))
def test_link_ids_are_unique_across_groups_questions_and_help_texts(loaded):
    def walk(items: list[dict[str, Any]]) -> list[str]:
        return [id_ for item in items for id_ in [item["linkId"], *walk(item.get("item", []))]]

    link_ids = walk(questionnaire_resource(loaded.definition)["item"])

    assert len(link_ids) == len(set(link_ids))


def test_questions_are_grouped_by_dimension():
    groups = EXPORTED_V1["item"]

    assert [g["linkId"] for g in groups] == [f"dimension-{d.id}" for d in DEFINITION.dimensions]
    for group, dimension in zip(groups, DEFINITION.dimensions, strict=True):
        assert group["type"] == "group"
        assert group["text"] == dimension.title
        assert [i["linkId"] for i in group["item"]] == [
            q.id for q in DEFINITION.questions_in(dimension.id)
        ]


def test_every_question_type_has_its_fhir_type_and_required_flag():
    items = _items_by_link_id(EXPORTED_V1)
    expected = {
        SingleChoiceQuestion: ("choice", False),
        MultipleChoiceQuestion: ("choice", True),
        YesNoQuestion: ("boolean", False),
        ScaleQuestion: ("choice", False),
        NumberQuestion: ("integer", False),
        TextQuestion: ("text", False),
    }
    assert {type(q) for q in DEFINITION.questions} == set(expected), "every type is exercised"
    for question in DEFINITION.questions:
        item = items[question.id]
        kind, repeats = expected[type(question)]
        assert item["type"] == kind, question.id
        assert item.get("repeats", False) is repeats, question.id
        assert item["required"] is question.required, question.id
        assert item["text"] == question.prompt


def test_every_option_carries_its_code_label_and_score():
    items = _items_by_link_id(WEIGHTED_V1)
    for question in DEFINITION.questions:
        if not isinstance(question, SingleChoiceQuestion | MultipleChoiceQuestion):
            continue
        options = [
            o
            for o in items[question.id]["answerOption"]
            if o["valueCoding"]["code"] != "not-applicable"
        ]
        assert len(options) == len(question.options)
        for exported, option in zip(options, question.options, strict=True):
            coding = exported["valueCoding"]
            assert coding["code"] == option.value
            assert coding["display"] == option.label
            assert coding["system"] == terms.option_system(DEFINITION.id, question.id)
            (weight,) = _extension(exported, terms.ITEM_WEIGHT)
            assert weight["valueDecimal"] == option.score
            exclusive = _extension(exported, terms.OPTION_EXCLUSIVE)
            assert bool(exclusive) is option.exclusive


def _control(item: dict[str, Any]) -> list[str]:
    return [
        coding["code"]
        for extension in _extension(item, terms.ITEM_CONTROL)
        for coding in extension["valueCodeableConcept"]["coding"]
        if coding["system"] == terms.ITEM_CONTROL_SYSTEM
    ]


@pytest.mark.parametrize("loaded", LOADED, ids=lambda item: str(item.source.name))
def test_scores_travel_as_item_weight_and_never_in_what_respondents_read(loaded):
    exported = questionnaire_resource(loaded.definition, weights=True)
    shown = questionnaire_resource(loaded.definition)

    assert "ordinalValue" not in str(exported)
    assert terms.ITEM_WEIGHT not in str(shown)
    assert shown == _without_weights(exported)
    for item in question_items(exported):
        question = loaded.definition.question(item["linkId"])
        for option in item.get("answerOption", []):
            coding = option["valueCoding"]
            if coding["code"] == "not-applicable":
                continue
            (weight,) = _extension(option, terms.ITEM_WEIGHT)
            assert isinstance(weight["valueDecimal"], int | float)
            # What a form shows is the label alone, never "Facebook - 25".
            assert coding["display"] == _label(question, coding["code"])
            assert set(option) == {"valueCoding", "extension"}


def _without_weights(element: Any) -> Any:
    if isinstance(element, list):
        return [_without_weights(e) for e in element]
    if not isinstance(element, dict):
        return element
    kept = {k: _without_weights(v) for k, v in element.items()}
    if "extension" in kept:
        kept["extension"] = [e for e in kept["extension"] if e["url"] != terms.ITEM_WEIGHT]
        if not kept["extension"]:
            del kept["extension"]
    return kept


def test_weights_are_given_only_when_asked_for(client, admin_headers):
    url = "/fhir/r4/Questionnaire/hospital-social-media/_history/1"

    shown = client.get(url, headers=admin_headers).json()
    weighted = client.get(f"{url}?weights=true", headers=admin_headers).json()
    found = client.get(
        "/fhir/r4/Questionnaire?version=1&weights=true", headers=admin_headers
    ).json()

    assert terms.ITEM_WEIGHT not in str(shown)
    assert _without_last_updated(weighted) == WEIGHTED_V1
    assert found["entry"][0]["resource"] == weighted
    assert "weights=true" in found["link"][0]["url"]  # the next pages keep them


def _label(question: Any, code: str) -> str:
    if isinstance(question, ScaleQuestion):
        return question.labels.get(int(code), code)
    return next(o.label for o in question.options if o.value == code)


@pytest.mark.parametrize("loaded", LOADED, ids=lambda item: str(item.source.name))
def test_single_choices_are_radio_buttons_and_multiple_choices_check_boxes(loaded):
    exported = questionnaire_resource(loaded.definition)

    for item in question_items(exported):
        question = loaded.definition.question(item["linkId"])
        expected = {
            SingleChoiceQuestion: ["radio-button"],
            ScaleQuestion: ["radio-button"],
            MultipleChoiceQuestion: ["check-box"],
        }.get(type(question), [])
        assert _control(item) == expected, question.id
        if expected:
            assert item["type"] == "choice"
            assert item.get("repeats", False) is (expected == ["check-box"])


def test_scale_points_are_coded_with_their_labels_and_linear_scores():
    item = _items_by_link_id(WEIGHTED_V1)["pr_clinician_participation"]

    points = [
        (o["valueCoding"]["code"], o["valueCoding"]["display"], o["extension"][0]["valueDecimal"])
        for o in item["answerOption"]
    ]

    assert points == [
        ("1", "Not at all", 0.0),
        ("2", "Occasionally quoted or pictured in our posts", 25.0),
        ("3", "A few clinicians regularly present or write content", 50.0),
        ("4", "A trained group of clinician contributors appears every month", 75.0),
        (
            "5",
            "An established program of trained, supported clinician and researcher voices "
            "across specialties",
            100.0,
        ),
    ]


def test_yes_no_and_number_questions_carry_their_scores_as_extensions():
    items = _items_by_link_id(EXPORTED_V1)
    shared_logins = items["se_shared_logins"]
    offboarding = items["se_offboarding_hours"]

    assert _extension(shared_logins, terms.YES_SCORE)[0]["valueDecimal"] == 0
    assert _extension(shared_logins, terms.NO_SCORE)[0]["valueDecimal"] == 100
    assert _extension(offboarding, terms.MIN_VALUE)[0]["valueInteger"] == 0
    assert _extension(offboarding, terms.MAX_VALUE)[0]["valueInteger"] == 720
    assert _extension(offboarding, terms.UNIT)[0]["valueCoding"]["display"] == "hours"
    bands = [
        {
            part["url"]: next(v for k, v in part.items() if k.startswith("value"))
            for part in band["extension"]
        }
        for band in _extension(offboarding, terms.SCORE_BAND)
    ]
    assert [(b["atLeast"], b["score"]) for b in bands] == [
        (0, 100),
        (9, 70),
        (25, 40),
        (73, 15),
        (169, 0),
    ]


def test_questions_that_allow_na_offer_the_data_absent_reason_code_and_no_others_do():
    items = _items_by_link_id(EXPORTED_V1)
    for question in DEFINITION.questions:
        codings = [o["valueCoding"] for o in items[question.id].get("answerOption", [])]
        na = [c for c in codings if c["system"] == terms.DATA_ABSENT_REASON]
        if question.allow_na:
            assert na == [
                {
                    "system": terms.DATA_ABSENT_REASON,
                    "code": "not-applicable",
                    "display": question.na_label,
                }
            ], question.id
        else:
            assert na == [], question.id


def test_every_show_if_becomes_enable_when_on_the_same_question():
    items = _items_by_link_id(EXPORTED_V1)
    for question in DEFINITION.questions:
        conditions = items[question.id].get("enableWhen", [])
        if question.show_if is None:
            assert conditions == [], question.id
        else:
            assert conditions, question.id
            assert {c["question"] for c in conditions} == {question.show_if.question}


def test_help_texts_are_help_display_items():
    item = _items_by_link_id(EXPORTED_V1)["pr_official_accounts"]

    (help_item,) = item["item"]

    assert help_item["type"] == "display"
    assert help_item["text"] == DEFINITION.question("pr_official_accounts").help
    control = help_item["extension"][0]
    assert control["url"] == terms.ITEM_CONTROL
    assert control["valueCodeableConcept"]["coding"][0]["code"] == "help"


# -- enableWhen, read as a FHIR form would, shows exactly the questions intake asks ---------


def _enabled(item: dict[str, Any], given: dict[str, list[dict[str, Any]]]) -> bool:
    """enableWhen evaluated per the R4 rules (exists/=/>= on the answers of an item)."""
    results = []
    for condition in item.get("enableWhen", []):
        answers = given.get(condition["question"], [])
        expected_key = next(k for k in condition if k.startswith("answer"))
        expected = condition[expected_key]
        value_key = "value" + expected_key.removeprefix("answer")
        held = False
        for answer in answers:
            if value_key not in answer:
                continue
            actual = answer[value_key]
            if condition["operator"] == "=":
                held |= (
                    (actual["system"], actual["code"]) == (expected["system"], expected["code"])
                    if isinstance(expected, dict)
                    else actual == expected
                )
            elif condition["operator"] == ">=":
                held |= actual >= expected
        results.append(held)
    if not results:
        return True
    return any(results) if item.get("enableBehavior") == "any" else all(results)


@given(any_answers)
def test_enable_when_enables_exactly_the_questions_show_if_asks(answers):
    items = _items_by_link_id(EXPORTED_V1)
    given_answers = {
        a["question_id"]: fhir_answers(items[a["question_id"]], a) for a in native_items(answers)
    }
    enabled: set[str] = set()
    for question in DEFINITION.questions:
        parent = question.show_if.question if question.show_if else None
        # A disabled item's answers do not count (R4: disabled items are not answered).
        visible_answers = {k: v for k, v in given_answers.items() if k in enabled or k != parent}
        if _enabled(items[question.id], visible_answers):
            enabled.add(question.id)

    shown = visible_questions(DEFINITION, answers)

    assert enabled == set(shown)
    assert NA not in given_answers  # NA answers are Codings, never the engine's marker


# -- over HTTP -----------------------------------------------------------------------------


def _without_last_updated(resource: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in resource["meta"].items() if k != "lastUpdated"}
    return {**resource, "meta": meta}


def test_the_latest_version_is_served_as_fhir_json(client, admin_headers):
    response = client.get(
        "/fhir/r4/Questionnaire/hospital-social-media/_history/1", headers=admin_headers
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    assert _without_last_updated(response.json()) == EXPORTED_V1
    assert response.json()["meta"]["versionId"] == "1"
    latest = client.get("/fhir/r4/Questionnaire/hospital-social-media", headers=admin_headers)
    assert latest.json()["version"] == latest.json()["meta"]["versionId"]
    assert latest.headers["ETag"] == f'W/"{latest.json()["version"]}"'


def test_a_read_gives_when_the_version_was_published_and_answers_304_when_unchanged(
    client, admin_headers, db
):
    url = "/fhir/r4/Questionnaire/hospital-social-media/_history/1"
    response = client.get(url, headers=admin_headers)
    published = db.get(QuestionnaireVersion, ("hospital-social-media", 1)).published_at

    meta = response.json()["meta"]
    assert datetime.fromisoformat(meta["lastUpdated"]) == published
    assert meta["lastUpdated"].endswith("Z")
    assert response.headers["ETag"] == 'W/"1"'
    assert parsedate_to_datetime(response.headers["Last-Modified"]) == published.replace(
        microsecond=0
    )
    for tag in ('W/"1"', '"1"', "1", "*"):
        again = client.get(url, headers={**admin_headers, "If-None-Match": tag})
        assert again.status_code == 304, tag
        assert again.content == b""
        assert again.headers["ETag"] == 'W/"1"'
    changed = client.get(url, headers={**admin_headers, "If-None-Match": 'W/"2"'})
    assert changed.status_code == 200


def test_a_version_is_served_by_vread(client, make_key):
    response = client.get(
        "/fhir/r4/Questionnaire/hospital-social-media/_history/1",
        headers=bearer(make_key("partner")),
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    assert _without_last_updated(response.json()) == EXPORTED_V1


@pytest.mark.parametrize(
    "url",
    [
        "/fhir/r4/Questionnaire/no-such-questionnaire",
        "/fhir/r4/Questionnaire/hospital-social-media/_history/99",
        "/fhir/r4/Questionnaire/hospital-social-media/_history/0",
        "/fhir/r4/Questionnaire/Not_An_Id",
    ],
)
def test_unknown_questionnaires_and_versions_are_404_operation_outcomes(client, admin_headers, url):
    response = client.get(url, headers=admin_headers)

    assert response.status_code == 404
    assert response.headers["content-type"] == FHIR_JSON
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"
    assert outcome["issue"][0]["severity"] == "error"


def test_without_a_key_the_questionnaire_is_a_401_operation_outcome(client):
    response = client.get("/fhir/r4/Questionnaire/hospital-social-media")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "login"


def test_an_unknown_query_parameter_is_ignored_unless_strict_handling_is_asked_for(
    client, admin_headers
):
    url = "/fhir/r4/Questionnaire/hospital-social-media?_elements=item"
    lenient = client.get(url, headers=admin_headers)
    strict = client.get(url, headers={**admin_headers, "Prefer": "handling=strict"})

    assert lenient.status_code == 200
    assert lenient.json()["resourceType"] == "Questionnaire"
    assert strict.status_code == 400
    assert strict.headers["content-type"] == FHIR_JSON
    assert strict.json()["issue"][0]["expression"] == ["_elements"]
    assert strict.json()["issue"][0]["code"] == "not-supported"
