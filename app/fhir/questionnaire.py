"""A questionnaire definition as a FHIR R4 ``Questionnaire`` resource.

Questions are grouped by dimension; each question's linkId is our question id and each
option's code is our option value, so a ``QuestionnaireResponse`` maps back without a
lookup table. Option scores travel as ``itemWeight`` when asked for, other scores as our own
extensions; an option's display is its label alone, so forms show respondents the words.
Choice questions carry an ``itemControl`` hint (radio buttons, check boxes), so that a form
does not fold a long option list into a drop-down.
"""

from __future__ import annotations

import math
from typing import Any

from app.fhir import terms
from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    Option,
    Question,
    QuestionnaireDefinition,
    ScaleQuestion,
    ShowIf,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)

Resource = dict[str, Any]


def questionnaire_resource(
    definition: QuestionnaireDefinition, *, weights: bool = False
) -> Resource:
    """The FHIR R4 Questionnaire for one published version of a definition.

    Option scores (``itemWeight``) only with ``weights``: form renderers such as LHC-Forms
    print an option's weight beside its label ("Facebook - 25"), and nothing in a
    Questionnaire can tell them not to, so what respondents are shown leaves them out.
    """
    resource = _questionnaire(definition)
    return resource if weights else _without_weights(resource)


def _without_weights(element: Any) -> Any:
    if isinstance(element, list):
        return [_without_weights(e) for e in element]
    if not isinstance(element, dict):
        return element
    result = {}
    for key, value in element.items():
        if key == "extension":
            value = [e for e in value if e.get("url") != terms.ITEM_WEIGHT]
            if not value:
                continue
        result[key] = _without_weights(value)
    return result


def _questionnaire(definition: QuestionnaireDefinition) -> Resource:
    return {
        "resourceType": "Questionnaire",
        "id": definition.id,
        "meta": {"versionId": str(definition.version)},
        "language": definition.language,
        "url": terms.questionnaire_url(definition.id),
        "version": str(definition.version),
        "name": _computable_name(definition.id),
        "title": definition.title,
        "status": "active",
        "subjectType": ["Organization"],
        "publisher": definition.publisher,
        "description": definition.description,
        "item": [
            {
                "linkId": terms.group_link_id(dimension.id),
                "text": dimension.title,
                "type": "group",
                "item": [
                    _question_item(definition, question)
                    for question in definition.questions_in(dimension.id)
                ],
            }
            for dimension in definition.dimensions
        ],
    }


def _computable_name(questionnaire_id: str) -> str:
    # FHIR names must start with a capital and hold only letters, digits and underscores.
    return "".join(part.capitalize() for part in questionnaire_id.split("-"))


def coding(
    definition: QuestionnaireDefinition, question: Question, code: str, display: str | None
) -> dict[str, str]:
    """The Coding of one of a question's options (a scale point's code is the number)."""
    result = {"system": terms.option_system(definition.id, question.id), "code": code}
    if display is not None:
        result["display"] = display
    return result


def not_applicable_coding(question: Question) -> dict[str, str]:
    """The Coding that answers a question 'not applicable' (data-absent-reason)."""
    return {
        "system": terms.DATA_ABSENT_REASON,
        "code": terms.NOT_APPLICABLE,
        "display": question.na_label or "Not applicable",
    }


def scale_label(question: ScaleQuestion, point: int) -> str:
    """What a scale point says, or the number where the definition gives no label."""
    return question.labels.get(point, str(point))


def scale_score(question: ScaleQuestion, point: int) -> float:
    """A scale point's score: linear from 0 at ``min`` to 100 at ``max``."""
    return 100.0 * (point - question.min) / (question.max - question.min)


def _question_item(definition: QuestionnaireDefinition, question: Question) -> Resource:
    item: Resource = {
        "linkId": question.id,
        "text": question.prompt,
        "required": question.required,
        **_type_details(definition, question),
    }
    extensions = [*item.pop("extension", [])]
    if question.type != "text":
        extensions.insert(0, {"url": terms.QUESTION_WEIGHT, "valueDecimal": question.weight})
    control = _CONTROLS.get(type(question))
    if control is not None:
        extensions.append(item_control(control))
    if question.allow_na:
        if "answerOption" in item:
            option: Resource = {"valueCoding": not_applicable_coding(question)}
            if isinstance(question, MultipleChoiceQuestion):
                option["extension"] = [{"url": terms.OPTION_EXCLUSIVE, "valueBoolean": True}]
            item["answerOption"].append(option)
        else:  # no option list to offer it in: say so, for forms to add a checkbox
            label = question.na_label or "Not applicable"
            extensions.append({"url": terms.NOT_APPLICABLE_ALLOWED, "valueString": label})
    # Where the help text's statements are published: a support link per source with one.
    extensions += [
        {"url": SUPPORT_LINK, "valueUri": src.url} for src in question.sources if src.url
    ]
    if extensions:
        item["extension"] = extensions
    if question.show_if is not None:
        item.update(_enable_when(definition, question.show_if))
    item["item"] = [
        {
            "linkId": f"{question.id}{terms.HELP_SUFFIX}",
            "text": question.help,
            "type": "display",
            "extension": [item_control("help")],
        }
    ]
    if question.sources:
        item["item"].append(_sources_item(question))
    return item


# Every option on the page: one choice as radio buttons, several as check boxes.
_CONTROLS: dict[type[Question], str] = {
    SingleChoiceQuestion: terms.RADIO_BUTTON,
    ScaleQuestion: terms.RADIO_BUTTON,
    MultipleChoiceQuestion: terms.CHECK_BOX,
}


def item_control(code: str) -> Resource:
    """The questionnaire-itemControl extension asking forms for one kind of control."""
    return {
        "url": terms.ITEM_CONTROL,
        "valueCodeableConcept": {"coding": [{"system": terms.ITEM_CONTROL_SYSTEM, "code": code}]},
    }


# R4 core extension: "A URL that resolves to additional supporting information or guidance
# related to the question", on Questionnaire.item.
SUPPORT_LINK = "http://hl7.org/fhir/StructureDefinition/questionnaire-supportLink"


def _sources_item(question: Question) -> Resource:
    """A help display item listing the question's sources, links or not."""
    lines = [
        f"{src.title}, {src.publisher}"
        + (f" ({src.date})" if src.date else "")
        + (f": {src.url}" if src.url else "")
        for src in question.sources
    ]
    return {
        "linkId": f"{question.id}.sources",
        "text": "Sources: " + "; ".join(lines),
        "type": "display",
        "extension": [item_control("help")],
    }


def _type_details(definition: QuestionnaireDefinition, question: Question) -> Resource:
    match question:
        case SingleChoiceQuestion(options=options):
            return {"type": "choice", "answerOption": _options(definition, question, options)}
        case MultipleChoiceQuestion(options=options):
            return {
                "type": "choice",
                "repeats": True,
                "answerOption": _options(definition, question, options),
            }
        case YesNoQuestion(yes_score=yes, no_score=no):
            return {
                "type": "boolean",
                "extension": [
                    {"url": terms.YES_SCORE, "valueDecimal": yes},
                    {"url": terms.NO_SCORE, "valueDecimal": no},
                ],
            }
        case ScaleQuestion(min=low, max=high):
            # Coded points rather than an integer, so that forms show each point's label.
            return {
                "type": "choice",
                "answerOption": [
                    {
                        "valueCoding": coding(
                            definition, question, str(point), scale_label(question, point)
                        ),
                        "extension": [
                            {
                                "url": terms.ITEM_WEIGHT,
                                "valueDecimal": scale_score(question, point),
                            }
                        ],
                    }
                    for point in range(low, high + 1)
                ],
            }
        case NumberQuestion():
            return _number_details(question)
        case TextQuestion(max_length=max_length):
            return {"type": "text", "maxLength": max_length}
    raise AssertionError(f"no FHIR type for {question.type}")  # pragma: no cover


def _options(
    definition: QuestionnaireDefinition, question: Question, options: tuple[Option, ...]
) -> list[Resource]:
    result = []
    for option in options:
        extensions: list[Resource] = [{"url": terms.ITEM_WEIGHT, "valueDecimal": option.score}]
        if option.exclusive:
            extensions.append({"url": terms.OPTION_EXCLUSIVE, "valueBoolean": True})
        result.append(
            {
                "valueCoding": coding(definition, question, option.value, option.label),
                "extension": extensions,
            }
        )
    return result


def _number_details(question: NumberQuestion) -> Resource:
    kind = "Integer" if question.integer else "Decimal"

    def number(value: float) -> float:
        return int(value) if question.integer else value

    bands = []
    for band in question.bands:
        parts: list[Resource] = [
            {"url": "atLeast", "valueDecimal": band.at_least},
            {"url": "score", "valueDecimal": band.score},
        ]
        if band.label is not None:
            parts.append({"url": "label", "valueString": band.label})
        bands.append({"url": terms.SCORE_BAND, "extension": parts})
    return {
        "type": kind.lower(),
        "extension": [
            {"url": terms.MIN_VALUE, f"value{kind}": number(question.min)},
            {"url": terms.MAX_VALUE, f"value{kind}": number(question.max)},
            {"url": terms.UNIT, "valueCoding": {"display": question.unit}},
            *bands,
        ],
    }


def _enable_when(definition: QuestionnaireDefinition, condition: ShowIf) -> Resource:
    """``show_if`` as enableWhen; several conditions mean 'any of them'."""
    parent = definition.question(condition.question)
    assert parent is not None  # noqa: S101 - the loader checks that show_if names a question

    def equals(answer: Resource) -> Resource:
        return {"question": parent.id, "operator": "=", **answer}

    def coded(code: str) -> Resource:
        return equals({"answerCoding": coding(definition, parent, code, None)})

    conditions: list[Resource]
    match parent:
        case YesNoQuestion():
            conditions = [equals({"answerBoolean": condition.equals})]
        case ScaleQuestion(max=high):
            if condition.at_least is not None:
                # A coded scale has no order in FHIR: spell out every point from at_least.
                low = math.ceil(condition.at_least)
                conditions = [coded(str(point)) for point in range(max(low, parent.min), high + 1)]
            else:
                conditions = [coded(str(condition.equals))]
        case NumberQuestion(integer=integer):
            operand = condition.at_least
            assert operand is not None  # noqa: S101 - the loader checks the operator fits
            answer = (
                {"answerInteger": int(operand)}
                if integer and operand == int(operand)
                else {"answerDecimal": operand}
            )
            conditions = [{"question": parent.id, "operator": ">=", **answer}]
        case MultipleChoiceQuestion():
            # For a repeating item, "=" holds when any of its answers equals the code.
            conditions = [coded(str(condition.includes))]
        case _:
            values = condition.any_of or (str(condition.equals),)
            conditions = [coded(value) for value in values]
    if len(conditions) == 1:
        return {"enableWhen": conditions}
    return {"enableWhen": conditions, "enableBehavior": "any"}
