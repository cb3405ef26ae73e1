"""A question's sources travel with the FHIR Questionnaire: support links and a help text."""

from __future__ import annotations

from fhir.resources.R4B.questionnaire import Questionnaire

from app.fhir.questionnaire import SUPPORT_LINK, questionnaire_resource
from app.questionnaire.loader import parse_definition
from tests.questionnaire.test_format_additions import with_additions
from tests.questionnaire.test_loader import FILE, dump, valid_definition


def items_by_link(resource):
    found = {}
    for group in resource["item"]:
        for item in group.get("item", []):
            found[item["linkId"]] = item
    return found


def test_sources_with_a_url_become_support_links_and_all_are_listed_in_help():
    resource = questionnaire_resource(parse_definition(dump(with_additions()), FILE))

    Questionnaire.model_validate(resource)
    item = items_by_link(resource)["q_choice"]
    links = [e["valueUri"] for e in item["extension"] if e["url"] == SUPPORT_LINK]
    assert links == ["https://www.ecfr.gov/current/title-45/section-164.508"]
    [sources] = [child for child in item["item"] if child["linkId"] == "q_choice.sources"]
    assert sources["type"] == "display"
    assert sources["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "help"
    assert (
        "45 CFR 164.508, Electronic Code of Federal Regulations (eCFR) (2024-03-18)"
        in (sources["text"])
    )
    assert "Guidance on online tracking, HHS OCR (2024)" in sources["text"]


def test_a_question_without_sources_exports_as_before():
    resource = questionnaire_resource(parse_definition(dump(valid_definition()), FILE))

    for item in items_by_link(resource).values():
        assert all(e["url"] != SUPPORT_LINK for e in item.get("extension", []))
        assert [child["linkId"] for child in item.get("item", [])] in (
            [],
            [f"{item['linkId']}.help"],
        )
