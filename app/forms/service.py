"""The invitation form's use cases: start, save the profile, save a section, submit, results.

No web framework here: the web door calls these, and the API could too. Each use case
flushes; the request commits. Problems come back as codes (profile fields), codes read
from posted fields (app.forms.fields) or intake's FieldErrors with their codes, and each
door words them its own way.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.auth.service import Principal
from app.db import utcnow
from app.errors import FieldError
from app.forms.fields import (
    FormAnswer,
    ParsedSection,
    field_values,
    parse_section,
    section_items,
)
from app.intake.identifiers import IdentifierKind, identifier_warnings
from app.intake.models import Assessment, AssessmentStatus
from app.intake.service import stored_answers, stored_values
from app.intake.validation import AnswerProblems, check_answers
from app.invitations import service as invitations
from app.invitations.models import Invitation
from app.organizations import roadmap_settings
from app.organizations.models import Organization
from app.organizations.schemas import OrganizationType
from app.questionnaire.answers import AnswerValue, describe_answer
from app.questionnaire.registry import QuestionnaireRegistry
from app.questionnaire.schemas import Question, QuestionnaireDefinition
from app.questionnaire.visibility import missing_required, visible_questions
from app.reports.inputs import PlanRequest, cache_key, gather_inputs, plan
from app.roadmap.results import Roadmap

MAX_BEDS = 20_000

# Problems with the profile, by field ("type", "licensed_beds", "staff_hours_per_month").
UNKNOWN_TYPE = "unknown_type"
BEDS_MISSING = "beds_missing"
BEDS_INVALID = "beds_invalid"
STAFF_HOURS_INVALID = "staff_hours_invalid"


@cache
def staff_hours_range() -> tuple[int, int]:
    """The staff hours a month the roadmap settings accept, lowest and highest."""
    schema = roadmap_settings.RoadmapSettingsUpdate.model_json_schema()
    number = next(
        s for s in schema["properties"]["staff_hours_per_month"]["anyOf"] if "minimum" in s
    )
    return int(number["minimum"]), int(number["maximum"])


@dataclass(frozen=True, slots=True)
class FormAnswers:
    """An invitation's answers as its pages read them, and what those answers ask."""

    definition: QuestionnaireDefinition
    values: Mapping[str, AnswerValue]  # question id -> value, or NA ("not applicable")
    comments: Mapping[str, str]
    status: str | None = None  # None: no draft yet

    @property
    def started(self) -> bool:
        """Whether the invitation's draft exists."""
        return self.status is not None

    @property
    def submitted(self) -> bool:
        return self.status == AssessmentStatus.SUBMITTED

    def asked(self) -> set[str]:
        """Ids of the questions these answers ask (follow-ups included)."""
        return visible_questions(self.definition, self.values)

    def missing(self, questions: Iterable[Question] | None = None) -> list[str]:
        """Ids of the required questions asked but not answered (among ``questions``)."""
        missing = [q.id for q in missing_required(self.definition, self.values)]
        if questions is None:
            return missing
        on_page = {q.id for q in questions}
        return [qid for qid in missing if qid in on_page]

    def section_progress(self, dimension_id: str) -> tuple[int, int]:
        """How many of the questions a section asks are answered, and how many it asks."""
        shown = self.asked()
        asked = [q for q in self.definition.questions_in(dimension_id) if q.id in shown]
        return sum(1 for q in asked if q.id in self.values), len(asked)

    def field_values(self, question_id: str) -> list[str]:
        """The question's answer as the values its fields hold."""
        return field_values(self.values.get(question_id))

    def answer_text(self, question: Question) -> str | None:
        """The answer in words (the options' labels, never their codes); None: unanswered."""
        if question.id not in self.values:
            return None
        return describe_answer(question, self.values[question.id])

    def with_posted(self, parsed: ParsedSection) -> FormAnswers:
        """These answers with what was just posted over them (to show a refused page again)."""
        posted = {k: v for k, v in parsed.values.items() if v is not None}
        return FormAnswers(
            self.definition,
            {**self.values, **posted},
            {**self.comments, **parsed.comments},
            self.status,
        )


def _answers_of(definition: QuestionnaireDefinition, draft: Assessment | None) -> FormAnswers:
    if draft is None:
        return FormAnswers(definition, {}, {})
    return FormAnswers(
        definition,
        stored_values(draft),
        {a.question_id: a.comment for a in draft.answers if a.comment},
        draft.status,
    )


def assessment_answers(definition: QuestionnaireDefinition, assessment: Assessment) -> FormAnswers:
    """Any stored assessment's answers as pages read them (the console shows them so)."""
    return _answers_of(definition, assessment)


def form_answers(
    session: Session, invitation: Invitation, definition: QuestionnaireDefinition
) -> FormAnswers:
    """The invitation's answers so far (none before its draft is started)."""
    return _answers_of(definition, invitations.draft_of(session, invitation))


@dataclass(frozen=True, slots=True)
class SectionProgress:
    """One section (dimension) of a draft: its title, answered and asked questions."""

    dimension_id: str
    title: str
    answered: int
    asked: int


def draft_progress(
    session: Session, registry: QuestionnaireRegistry, invitation: Invitation
) -> list[SectionProgress] | None:
    """How far the invitation's draft is, section by section; None before it is started."""
    definition = registry.get(invitation.questionnaire_id, invitation.questionnaire_version)
    answers = form_answers(session, invitation, definition.definition)
    if not answers.started:
        return None
    return [
        SectionProgress(d.id, d.title, *answers.section_progress(d.id))
        for d in definition.definition.dimensions
    ]


def start(session: Session, registry: QuestionnaireRegistry, invitation: Invitation) -> None:
    """Make the invitation's draft, once."""
    invitations.start_draft(session, registry, invitation)


def _organization_of(session: Session, invitation: Invitation) -> Organization:
    return session.get_one(Organization, invitation.organization_id)


def save_profile(
    session: Session,
    registry: QuestionnaireRegistry,
    invitation: Invitation,
    *,
    organization_type: str,
    licensed_beds: str,
    staff_hours_per_month: str = "",
) -> dict[str, str]:
    """Set the organization's type, licensed beds and staff hours a month (as typed) and
    start the draft.

    The staff hours are the organization's roadmap setting of that name, stored by the
    roadmap-settings service with every other setting kept; empty clears it (the default
    from size and answers). Returns the problems by field (codes above); nothing is saved
    when there are any.
    """
    problems: dict[str, str] = {}
    if organization_type not in {t.value for t in OrganizationType}:
        problems["type"] = UNKNOWN_TYPE
    beds_text = licensed_beds.strip().replace(",", "")
    if not beds_text:
        problems["licensed_beds"] = BEDS_MISSING
    elif not beds_text.isdigit() or int(beds_text) > MAX_BEDS:
        problems["licensed_beds"] = BEDS_INVALID
    organization = _organization_of(session, invitation)
    current = roadmap_settings.read_settings(organization)
    hours_text = staff_hours_per_month.strip().replace(",", "")
    settings: roadmap_settings.RoadmapSettingsUpdate | None = None
    if not hours_text or hours_text.isdigit():
        hours = int(hours_text) if hours_text else None
        try:
            settings = roadmap_settings.settings_update(current, staff_hours_per_month=hours)
        except ValidationError:
            problems["staff_hours_per_month"] = STAFF_HOURS_INVALID
    else:
        problems["staff_hours_per_month"] = STAFF_HOURS_INVALID
    if problems:
        return problems
    invitations.update_profile(
        session, invitation, organization_type=organization_type, licensed_beds=int(beds_text)
    )
    if settings is not None and settings.staff_hours_per_month != current.staff_hours_per_month:
        # The invitation link is the visitor's authority (the web door checked it); the
        # settings' role check is for API keys, so the change is made as the operator's.
        roadmap_settings.replace_settings(
            session, registry, Principal.system(), organization, settings
        )
    invitations.start_draft(session, registry, invitation)
    return {}


def staff_hours_of(session: Session, invitation: Invitation) -> int | None:
    """The organization's staff hours a month as its roadmap settings hold them."""
    organization = _organization_of(session, invitation)
    return roadmap_settings.read_settings(organization).staff_hours_per_month


@dataclass(frozen=True, slots=True)
class SectionOutcome:
    """What saving a section did: saved it, or found the problems that saved nothing."""

    parsed: ParsedSection
    before: FormAnswers
    problems: Mapping[str, str]  # question id -> code, from reading the fields
    answer_problems: Mapping[str, FieldError]  # question id -> intake's first problem
    comment_problems: Mapping[str, str]  # question id -> code
    after: FormAnswers | None = None  # None: nothing was saved
    identifiers: tuple[str, ...] = ()  # newly typed text that looks like an identifier
    appeared: tuple[str, ...] = ()  # follow-ups the saved answers ask, not yet answered
    missing: tuple[str, ...] = ()  # the section's required questions still unanswered

    @property
    def saved(self) -> bool:
        return self.after is not None


def save_section(
    session: Session,
    registry: QuestionnaireRegistry,
    invitation: Invitation,
    definition: QuestionnaireDefinition,
    dimension_id: str,
    fields: Mapping[str, list[str]],
) -> SectionOutcome:
    """Check and save one dimension's answers, read from posted fields.

    An answer that does not fit saves nothing. Required questions left unanswered do not
    stop the save; they are listed (``missing``) for the door to flag.
    """
    questions = definition.questions_in(dimension_id)
    draft = invitations.draft_of(session, invitation)
    before = _answers_of(definition, draft)
    parsed = parse_section(questions, fields)
    section = section_items(definition, questions, parsed, before.values)
    existing = stored_answers(draft)
    answer_problems: dict[str, FieldError] = {}
    try:
        check_answers(definition, section.items, existing=existing)
    except AnswerProblems as exc:
        for problem in exc.problems:
            qid = problem.question_id
            if qid and qid not in parsed.problems and qid not in answer_problems:
                answer_problems[qid] = problem
    if parsed.problems or answer_problems or section.comment_problems:
        return SectionOutcome(
            parsed, before, parsed.problems, answer_problems, section.comment_problems
        )
    assessment = invitations.save_answers(session, registry, invitation, section.items)
    after = _answers_of(definition, assessment)
    changed = [
        item
        for item in section.items
        if (item.value is not None and item.value != before.values.get(item.question_id))
        or (item.comment and item.comment != before.comments.get(item.question_id))
    ]
    asked_before = before.asked()
    asked_after = after.asked()
    return SectionOutcome(
        parsed,
        before,
        {},
        {},
        {},
        after=after,
        identifiers=tuple(w.question_id for w in identifier_warnings(definition, changed)),
        appeared=tuple(
            q.id
            for q in questions
            if q.id in asked_after - asked_before and q.id not in after.values
        ),
        missing=tuple(after.missing(questions)),
    )


def identifier_kinds(
    answers: FormAnswers, question_ids: Iterable[str]
) -> dict[str, tuple[IdentifierKind, ...]]:
    """For saved answers and comments that look like they hold a patient identifier: which kinds."""
    wanted = set(question_ids)
    items = [
        FormAnswer(q.id, value=answers.values.get(q.id), comment=answers.comments.get(q.id))
        for q in answers.definition.questions
        if q.id in wanted
    ]
    return {w.question_id: tuple(w.kinds) for w in identifier_warnings(answers.definition, items)}


def submit(
    session: Session, registry: QuestionnaireRegistry, invitation: Invitation
) -> Sequence[FieldError]:
    """Submit the invitation's answers; the problems (codes included) if they are not complete."""
    try:
        invitations.save_answers(session, registry, invitation, [], submit=True)
    except AnswerProblems as exc:
        return exc.problems
    return ()


@dataclass(frozen=True, slots=True)
class FormResults:
    """A submitted assessment's results: its stored score snapshot and its roadmap."""

    answers: FormAnswers
    scores: Mapping[str, Any]  # the snapshot stored at submission (AssessmentScore.to_dict())
    roadmap: Roadmap
    assessment_id: uuid.UUID
    report_key: str  # the report cache key of its roadmap PDF, with the default options
    submitted_at: datetime


def submitted(session: Session, invitation: Invitation) -> Assessment | None:
    """The invitation's assessment once submitted; None before."""
    draft = invitations.draft_of(session, invitation)
    if draft is None or draft.status != AssessmentStatus.SUBMITTED:
        return None
    return draft


def results(
    session: Session,
    registry: QuestionnaireRegistry,
    invitation: Invitation,
    definition: QuestionnaireDefinition,
) -> FormResults | None:
    """The results of the submitted answers (None before submitting), scored as stored.

    The roadmap is not stored: it is planned as the API plans it, with the organization's
    settings.
    """
    assessment = submitted(session, invitation)
    if assessment is None:
        return None
    inputs = gather_inputs(session, registry, assessment)
    roadmap = plan(inputs, PlanRequest())
    return FormResults(
        _answers_of(definition, assessment),
        assessment.scores,
        roadmap,
        assessment.id,
        cache_key(inputs, PlanRequest()),
        assessment.submitted_at or utcnow(),
    )
