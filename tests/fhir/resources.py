"""Build QuestionnaireResponses the way a partner would: from the exported Questionnaire.

Only the Questionnaire JSON and the documented conventions (codes in answerOption, the
data-absent-reason Coding for N/A, the comment extension) are used, never the app's own
mapping of answers, so a test of the round trip tests the mapping rather than repeat it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from app.fhir import terms
from app.fhir.questionnaire import questionnaire_resource
from app.questionnaire.answers import NA
from tests.strategies import DEFINITION

Resource = dict[str, Any]
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
EXPORTED_V1 = questionnaire_resource(DEFINITION)


def question_items(questionnaire: Resource) -> Iterator[Resource]:
    """Every item that asks something (groups and help texts left out), in order."""
    for item in questionnaire.get("item", []):
        if item["type"] == "group":
            yield from question_items(item)
        elif item["type"] != "display":
            yield item


def fhir_answers(item: Resource, answer: Mapping[str, Any]) -> list[Resource]:
    """The FHIR answers to one item for a native answer (``value`` or ``na``)."""
    options = [o["valueCoding"] for o in item.get("answerOption", [])]
    if answer.get("na"):
        coding = next((o for o in options if o["system"] == DATA_ABSENT_REASON), None)
        return [
            {
                "valueCoding": dict(
                    coding or {"system": DATA_ABSENT_REASON, "code": "not-applicable"}
                )
            }
        ]
    value = answer["value"]
    match item["type"]:
        case "choice":
            by_code = {o["code"]: o for o in options}
            codes = value if isinstance(value, list) else [str(value)]
            return [{"valueCoding": dict(by_code[code])} for code in codes]
        case "boolean":
            return [{"valueBoolean": value}]
        case "integer":
            return [{"valueInteger": value}]
        case "decimal":
            return [{"valueDecimal": value}]
        case "text" | "string":
            return [{"valueString": value}]
    raise AssertionError(item["type"])


def questionnaire_response(
    questionnaire: Resource,
    organization_id: str,
    answers: list[Mapping[str, Any]],
    status: str = "submitted",
) -> Resource:
    """A QuestionnaireResponse giving native answers (``examples/*.json`` items)."""
    by_question = {a["question_id"]: a for a in answers}
    groups = []
    for group in questionnaire["item"]:
        items = []
        for item in question_items(group):
            answer = by_question.get(item["linkId"])
            if answer is None:
                continue
            response_item: Resource = {
                "linkId": item["linkId"],
                "answer": fhir_answers(item, answer),
            }
            if answer.get("comment"):
                response_item["extension"] = [
                    {"url": terms.ANSWER_COMMENT, "valueString": answer["comment"]}
                ]
            items.append(response_item)
        if items:
            groups.append({"linkId": group["linkId"], "item": items})
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
        "status": "completed" if status == "submitted" else "in-progress",
        "subject": {"reference": f"Organization/{organization_id}"},
        "item": groups,
    }


def native_items(answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A strategy's answer set ({question id: value or NA}) as native answer items."""
    return [
        {"question_id": qid, "na": True} if value is NA else {"question_id": qid, "value": value}
        for qid, value in answers.items()
    ]
