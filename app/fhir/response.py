"""``QuestionnaireResponse`` in and out: answers by linkId, to and from intake's shape.

Reading a response turns each item into an answer intake understands (option codes to
option values, Codings of a scale to its numbers, data-absent-reason to N/A) and keeps the
FHIRPath of each, so that intake's errors can be reported where the partner put the answer.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError
from pydantic_core import from_json

from app.errors import InvalidAnswers, NotFound, field_path
from app.fhir import terms
from app.fhir.outcome import (
    UnprocessableResponse,
    UnreadableResource,
    issue,
    item_expression,
)
from app.fhir.questionnaire import coding, not_applicable_coding, scale_label
from app.intake.schemas import AnswerIn
from app.intake.validation import AnswerItem
from app.questionnaire.registry import QuestionnaireRegistry
from app.questionnaire.schemas import (
    MultipleChoiceQuestion,
    NumberQuestion,
    Question,
    QuestionnaireDefinition,
    ScaleQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)
from app.text import text_problem, text_problems

Resource = dict[str, Any]
ROOT = "QuestionnaireResponse"
STATUSES = {"completed": "submitted", "in-progress": "draft"}


@dataclass(frozen=True, slots=True)
class ResponseAnswer:
    """One answer for intake (it has the shape of the native API's AnswerIn)."""

    question_id: str
    value: Any
    na: bool
    comment: str | None
    expression: str  # the FHIRPath of the item in the posted resource


@dataclass(frozen=True, slots=True)
class ResponseIntake:
    """What a QuestionnaireResponse asks intake to store."""

    organization_id: uuid.UUID
    definition: QuestionnaireDefinition
    status: str
    answers: list[ResponseAnswer]


def parse_resource(body: bytes) -> Any:
    """The posted QuestionnaireResponse, structurally valid FHIR R4; UnreadableResource if not."""
    try:
        data = from_json(body, allow_inf_nan=False)
    except ValueError as error:
        # JSON may escape a lone surrogate ("\ud800"), which this parser refuses: such a
        # body is JSON, with a string that is not text, and is answered as one.
        data = _with_lone_surrogates(body)
        if data is None:
            raise UnreadableResource(
                f"The body is not valid JSON: {error}.",
                issues=[issue("structure", f"The body is not valid JSON: {error}.")],
            ) from None
    _check_text(data)
    if not isinstance(data, dict) or data.get("resourceType") != ROOT:
        found = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        detail = f"Expected a QuestionnaireResponse resource, got {found!r}."
        raise UnreadableResource(detail, issues=[issue("structure", detail, ["resourceType"])])
    _check_size(data)
    try:
        return QuestionnaireResponse.model_validate(data)
    except ValidationError as error:
        issues = [
            issue("structure", f"{_path(e['loc'])}: {e['msg']}", [_path(e["loc"])])
            for e in error.errors()
        ]
        raise UnreadableResource(
            f"The body is not a valid FHIR R4 QuestionnaireResponse ({len(issues)} problem(s)).",
            issues=issues,
        ) from None


def _with_lone_surrogates(body: bytes) -> Any:
    """The body parsed by a JSON reader that keeps lone surrogates, or None if it is not JSON."""
    if b"\\u" not in body:
        return None
    try:
        return json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None


def _enclosing_link_id(data: Any, location: tuple[Any, ...]) -> str | None:
    """The linkId of the innermost item holding ``location``, when it is text itself."""
    found = None
    node = data
    for part in location:
        if isinstance(node, dict):
            link_id = node.get("linkId")
            if isinstance(link_id, str) and text_problem(link_id) is None:
                found = link_id
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_text(data: Any) -> None:
    """422 naming every string (linkId, answer, comment, ...) that is not text (app.text)."""
    problems = list(text_problems(data))
    if problems:
        issues = []
        for where, problem in problems:
            link_id = _enclosing_link_id(data, where)
            also = [item_expression(link_id)] if link_id is not None else []
            issues.append(issue("value", f"{_path(where)}: {problem}", [_path(where), *also]))
        raise UnprocessableResponse(
            f"The resource has {len(issues)} string(s) that are not text.", issues=issues
        )


# As many as a native request may hold. Validating a FHIR resource costs about a
# millisecond per hundred elements, so the count is checked before the model sees it.
MAX_ITEMS = 1000
MAX_ANSWERS = 2000


def _check_size(data: dict[str, Any]) -> None:
    items = answers = 0
    pending = [data]
    while pending and items <= MAX_ITEMS and answers <= MAX_ANSWERS:
        node = pending.pop()
        children = node.get("item")
        if isinstance(children, list):
            items += len(children)
            pending += [c for c in children if isinstance(c, dict)]
        given = node.get("answer")
        if isinstance(given, list):
            answers += len(given)
            pending += [a for a in given if isinstance(a, dict)]
    if items > MAX_ITEMS or answers > MAX_ANSWERS:
        detail = (
            f"A QuestionnaireResponse may hold at most {MAX_ITEMS} items and {MAX_ANSWERS} "
            "answers; send large batches as several responses."
        )
        raise UnprocessableResponse(detail, issues=[issue("too-costly", detail, [f"{ROOT}.item"])])


def _path(location: tuple[Any, ...]) -> str:
    return field_path(location, ROOT)


def read_response(
    resource: Any,
    registry: QuestionnaireRegistry,
    *,
    before_answers: Callable[[uuid.UUID], object] | None = None,
) -> ResponseIntake:
    """Map a parsed QuestionnaireResponse onto the questionnaire version it answers.

    ``before_answers`` sees the organization before any answer is read (a scope check).
    """
    definition = _questionnaire(resource.questionnaire, registry)
    organization_id = _organization(resource.subject)
    if before_answers is not None:
        before_answers(organization_id)
    status = STATUSES.get(resource.status)
    if status is None:
        detail = (
            f"status {resource.status!r} cannot be stored: send 'completed' (submitted) "
            "or 'in-progress' (a draft)."
        )
        raise UnprocessableResponse(detail, issues=[issue("value", detail, [f"{ROOT}.status"])])
    reader = _ItemReader(definition)
    reader.read(resource.item or [], ROOT)
    if reader.issues:
        count = len(reader.issues)
        raise InvalidAnswers(
            f"{count} answer{'s do' if count > 1 else ' does'} not fit questionnaire "
            f"{definition.id!r} version {definition.version}.",
            issues=reader.issues,
        )
    return ResponseIntake(organization_id, definition, status, reader.answers)


def _questionnaire(
    canonical: str | None, registry: QuestionnaireRegistry
) -> QuestionnaireDefinition:
    where = [f"{ROOT}.questionnaire"]
    if not canonical:
        detail = "questionnaire is required: the canonical URL of the Questionnaire answered."
        raise UnprocessableResponse(detail, issues=[issue("required", detail, where)])
    reference = terms.parse_questionnaire_reference(canonical)
    if reference is None:
        detail = (
            f"{canonical!r} is not a questionnaire of this service; use the url|version of "
            f"GET /fhir/r4/Questionnaire/{{id}} ({terms.questionnaire_url('<id>')}|<version>)."
        )
        raise NotFound(detail, issues=[issue("not-found", detail, where)])
    questionnaire_id, version = reference
    number = None
    if version is not None:
        if re.fullmatch(r"[1-9][0-9]{0,6}", version) is None:
            detail = f"Questionnaire {questionnaire_id!r} has no version {version[:20]!r}."
            raise NotFound(detail, issues=[issue("not-found", detail, where)])
        number = int(version)
    try:
        return registry.get(questionnaire_id, number).definition
    except NotFound as error:
        raise NotFound(error.detail, issues=[issue("not-found", error.detail, where)]) from None


def _organization(subject: Any) -> uuid.UUID:
    where = [f"{ROOT}.subject"]
    reference = getattr(subject, "reference", None)
    if not reference:
        detail = "subject is required: a reference to the organization, Organization/<id>."
        raise UnprocessableResponse(detail, issues=[issue("required", detail, where)])
    kind, _, identifier = reference.rstrip("/").rpartition("/")
    if kind.rpartition("/")[2] != "Organization":
        detail = f"subject must reference an Organization (Organization/<id>), not {reference!r}."
        raise UnprocessableResponse(detail, issues=[issue("value", detail, where)])
    try:
        return uuid.UUID(identifier)
    except ValueError:
        detail = f"There is no organization {identifier[:64]!r} that this key can see."
        raise NotFound(detail, issues=[issue("not-found", detail, where)]) from None


class _ItemReader:
    """Walks the items (through dimension groups) and collects answers and problems."""

    def __init__(self, definition: QuestionnaireDefinition) -> None:
        self.definition = definition
        self.groups = {terms.group_link_id(d.id) for d in definition.dimensions}
        self.answers: list[ResponseAnswer] = []
        self.issues: list[Resource] = []

    def problem(self, code: str, link_id: str, path: str, message: str) -> None:
        self.issues.append(issue(code, f"{link_id}: {message}", [path, item_expression(link_id)]))

    def read(self, items: list[Any], parent: str) -> None:
        for index, item in enumerate(items):
            path = f"{parent}.item[{index}]"
            if item.linkId in self.groups:
                if item.answer:
                    self.problem("structure", item.linkId, path, "is a group and takes no answer")
                self.read(item.item or [], path)
                continue
            if item.item:
                self.problem("structure", item.linkId, path, "no question here has sub-items")
            question = self.definition.question(item.linkId)
            if question is None:
                # Intake names unknown questions, as it does for native answers.
                self.add(item.linkId, None, False, None, path)
                continue
            self.read_answers(question, item, path)

    def read_answers(self, question: Question, item: Any, path: str) -> None:
        answers = item.answer or []
        comment = _comment(item)
        if not answers:
            return  # an unanswered item is the same as leaving the question out
        for index, answer in enumerate(answers):
            if answer.item:
                where = f"{path}.answer[{index}]"
                self.problem("structure", question.id, where, "no question here has sub-items")
        if any(_is_not_applicable(a) for a in answers):
            if len(answers) > 1:
                message = "'not applicable' cannot be combined with other answers"
                self.problem("value", question.id, path, message)
                return
            self.add(question.id, None, True, comment, path)
            return
        if not isinstance(question, MultipleChoiceQuestion) and len(answers) > 1:
            message = f"takes one answer, not {len(answers)} (it does not repeat)"
            self.problem("value", question.id, f"{path}.answer", message)
            return
        values = []
        for index, answer in enumerate(answers):
            value, problem = self.value_of(question, answer)
            if problem is not None:
                self.problem("value", question.id, f"{path}.answer[{index}]", problem)
                return
            values.append(value)
        value = values if isinstance(question, MultipleChoiceQuestion) else values[0]
        self.add(question.id, value, False, comment, path)

    def add(self, link_id: str, value: Any, na: bool, comment: str | None, path: str) -> None:
        """Keep an answer; its linkId and comment are held to a native answer's limits."""
        try:
            native = AnswerIn.model_validate({"question_id": link_id, "na": na, "comment": comment})
        except ValidationError as error:
            for problem in error.errors():
                part = _PARTS.get(str(problem["loc"][0]), "")
                self.problem("value", link_id[:64], path + part, problem["msg"])
            return
        self.answers.append(ResponseAnswer(native.question_id, value, na, native.comment, path))

    def value_of(self, question: Question, answer: Any) -> tuple[Any, str | None]:
        """The native value of one FHIR answer, or the problem with it."""
        match question:
            case SingleChoiceQuestion() | MultipleChoiceQuestion() | ScaleQuestion():
                if isinstance(question, ScaleQuestion) and answer.valueInteger is not None:
                    return answer.valueInteger, None
                code = answer.valueCoding
                if code is None or code.code is None:
                    return None, "expects a valueCoding with a code from the answerOptions"
                system = terms.option_system(self.definition.id, question.id)
                if code.system is not None and code.system != system:
                    return None, f"code system {code.system!r} is not this question's ({system})"
                if isinstance(question, ScaleQuestion):
                    if re.fullmatch(r"-?[0-9]{1,9}", code.code) is None:
                        return None, f"{code.code[:20]!r} is not a point of the scale"
                    return int(code.code), None
                return code.code, None
            case YesNoQuestion():
                if answer.valueBoolean is None:
                    return None, "expects a valueBoolean"
                return answer.valueBoolean, None
            case NumberQuestion():
                number = answer.valueInteger
                if number is None and answer.valueDecimal is not None:
                    number = _plain_number(answer.valueDecimal)
                if number is None:
                    return None, "expects a valueInteger or valueDecimal"
                return number, None
            case TextQuestion():
                if answer.valueString is None:
                    return None, "expects a valueString"
                if "\x00" in answer.valueString:
                    return None, "holds a NUL character, which cannot be stored"
                return answer.valueString, None
        return None, "cannot be answered"  # pragma: no cover - every type is matched above


# Where in an item each field of a native answer comes from.
_PARTS = {"question_id": ".linkId", "comment": ".extension"}


def _plain_number(value: Decimal) -> int | float:
    if not value.is_finite():
        return float("nan")  # intake refuses it, naming the question
    return int(value) if value == value.to_integral_value() and abs(value) < 2**63 else float(value)


def _is_not_applicable(answer: Any) -> bool:
    code = answer.valueCoding
    return bool(
        code is not None
        and code.system == terms.DATA_ABSENT_REASON
        and code.code == terms.NOT_APPLICABLE
    )


def _comment(item: Any) -> str | None:
    for extension in item.extension or []:
        if extension.url == terms.ANSWER_COMMENT and extension.valueString:
            return str(extension.valueString)
    return None


# -- out: a stored assessment as a QuestionnaireResponse --------------------------------


def response_resource(
    definition: QuestionnaireDefinition,
    *,
    assessment_id: uuid.UUID,
    organization_id: uuid.UUID,
    status: str,
    authored: datetime,
    answers: list[AnswerItem],
    assessment_url: str,
) -> Resource:
    """The QuestionnaireResponse of a stored assessment, grouped like the Questionnaire."""
    by_question = {a.question_id: a for a in answers}
    groups = []
    for dimension in definition.dimensions:
        items = [
            _answer_item(definition, question, by_question[question.id])
            for question in definition.questions_in(dimension.id)
            if question.id in by_question
        ]
        if items:
            groups.append(
                {
                    "linkId": terms.group_link_id(dimension.id),
                    "text": dimension.title,
                    "item": items,
                }
            )
    resource: Resource = {
        "resourceType": ROOT,
        "id": str(assessment_id),
        "extension": [{"url": terms.ASSESSMENT, "valueUrl": assessment_url}],
        "questionnaire": f"{terms.questionnaire_url(definition.id)}|{definition.version}",
        "status": "completed" if status == "submitted" else "in-progress",
        "subject": {"reference": f"Organization/{organization_id}"},
        "authored": authored.isoformat(),
    }
    if groups:
        resource["item"] = groups
    return resource


def _answer_item(
    definition: QuestionnaireDefinition, question: Question, answer: AnswerItem
) -> Resource:
    item: Resource = {"linkId": question.id, "text": question.prompt}
    if answer.comment:
        item["extension"] = [{"url": terms.ANSWER_COMMENT, "valueString": answer.comment}]
    if answer.na:
        item["answer"] = [{"valueCoding": not_applicable_coding(question)}]
        return item
    value = answer.value
    match question:
        case SingleChoiceQuestion(options=options):
            label = next(o.label for o in options if o.value == value)
            item["answer"] = [{"valueCoding": coding(definition, question, value, label)}]
        case MultipleChoiceQuestion(options=options):
            labels = {o.value: o.label for o in options}
            item["answer"] = [
                {"valueCoding": coding(definition, question, v, labels[v])} for v in value
            ]
        case ScaleQuestion():
            display = scale_label(question, value)
            item["answer"] = [{"valueCoding": coding(definition, question, str(value), display)}]
        case YesNoQuestion():
            item["answer"] = [{"valueBoolean": value}]
        case NumberQuestion(integer=integer):
            item["answer"] = [{"valueInteger": int(value)} if integer else {"valueDecimal": value}]
        case TextQuestion():
            item["answer"] = [{"valueString": value}]
    return item
