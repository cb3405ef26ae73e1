"""The form's pages: link, welcome, profile, one page per dimension, review, results, PDF.

Every page is rendered on the server; the script only shows follow-up questions at once
and moves focus to an error summary. GET never changes anything: drafts are made and
answers saved by POSTs, each carrying this session's CSRF token.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.config import Settings
from app.delivery.service import PlanRequest, gather_inputs, plan, report_pdf
from app.errors import AppError, InvalidAnswers
from app.http.context import record_of
from app.http.deps import RegistryDep, SessionDep, SettingsDep
from app.intake.identifiers import identifier_warnings
from app.intake.models import Assessment, AssessmentStatus
from app.intake.service import stored_answers, stored_values
from app.intake.validation import check_answers
from app.invitations import service
from app.invitations.models import Invitation
from app.invitations.schemas import InvitationStatus
from app.invitations.service import InvitationUnavailable
from app.organizations.models import Organization
from app.organizations.schemas import OrganizationType
from app.questionnaire.answers import AnswerValue
from app.questionnaire.registry import QuestionnaireRegistry
from app.questionnaire.schemas import QuestionnaireDefinition
from app.questionnaire.visibility import missing_required, visible_questions
from app.ratelimit import RateLimiter
from app.reports.charts import radar_chart
from app.reports.view import format_money, format_score, weeks_label
from app.scoring.engine import score_answers
from app.scoring.results import NextLevel
from app.web.forms import (
    UNANSWERED,
    FormAnswer,
    field_anchor,
    friendly_message,
    parse_section,
    question_views,
    review_rows,
    section_items,
    unanswered_required,
)
from app.web.security import (
    SESSION_COOKIE,
    FormSession,
    RateLimit,
    SecurityHeaders,
    redact_invitation_links,
)

log = logging.getLogger("smm.web")

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")


def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC.iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


templates.env.globals["asset_version"] = _asset_version()

ORGANIZATION_TYPES = {
    OrganizationType.COMMUNITY_HOSPITAL: "Community hospital",
    OrganizationType.CRITICAL_ACCESS_HOSPITAL: "Critical access hospital",
    OrganizationType.ACADEMIC_MEDICAL_CENTER: "Academic medical center",
    OrganizationType.CHILDRENS_HOSPITAL: "Children's hospital",
    OrganizationType.SPECIALTY_HOSPITAL: "Specialty hospital",
    OrganizationType.HEALTH_SYSTEM: "Health system",
    OrganizationType.CLINIC: "Clinic",
    OrganizationType.OTHER: "Other",
}
MAX_BEDS = 20_000


class WebPageError(Exception):
    """A page that explains a problem: its status, title, message and what to do."""

    def __init__(
        self,
        status: int,
        title: str,
        message: str,
        advice: str,
        link: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.message = message
        self.advice = advice
        self.link = link  # (href, text): where to go from here


NO_SESSION = WebPageError(
    403,
    "Please open your invitation link",
    "This page belongs to an assessment, and this browser has not opened its link yet "
    "(or the session has ended).",
    "Open the link from your invitation email again; your saved answers will be there.",
)
ADVICE = {
    None: "Check that you copied the whole link from your invitation. If it still does not "
    "work, ask the person who invited you for a new link.",
    InvitationStatus.EXPIRED: "Your saved answers are kept. Ask the person who invited you "
    "for a new link to finish the assessment.",
    InvitationStatus.REVOKED: "Ask the person who invited you whether there is a new link.",
    InvitationStatus.SUBMITTED: "Nothing more is needed from you, and the answers can no longer "
    "change. Your results and the roadmap PDF stay on the results page until the link expires.",
}
RESULTS_LINK = ("/form/results", "See your results")


def error_page(request: Request, error: WebPageError) -> Response:
    """The friendly page for a problem; never a stack trace."""
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": error.title,
            "message": error.message,
            "advice": error.advice,
            "link": error.link,
            "lang": "en",
        },
        status_code=error.status,
    )


def _as_page_error(exc: Exception) -> WebPageError | None:
    if isinstance(exc, WebPageError):
        return exc
    if isinstance(exc, InvitationUnavailable):
        submitted = exc.reason is InvitationStatus.SUBMITTED
        return WebPageError(
            exc.status,
            exc.detail,
            _unavailable_message(exc),
            ADVICE[exc.reason],
            RESULTS_LINK if submitted else None,
        )
    if isinstance(exc, RequestValidationError):
        return WebPageError(404, "Page not found", "There is no such page in this assessment.", "")
    if isinstance(exc, AppError):
        return WebPageError(exc.status_code, "Something needs attention", exc.detail, "")
    return None


def _unavailable_message(exc: InvitationUnavailable) -> str:
    if exc.reason is InvitationStatus.SUBMITTED:
        return "Thank you: the answers for this invitation were submitted."
    if exc.reason is None:
        return "We could not find an assessment for this link."
    return "Invitation links work for a limited time and can be withdrawn."


class WebRoute(APIRoute):
    """A route whose failures are friendly HTML pages, logged without the request path."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        template = self.path  # "/i/{token}", never the token itself

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except StarletteHTTPException:
                raise
            except Exception as exc:
                page = _as_page_error(exc)
                if page is None:
                    log.exception("web page %s %s failed", request.method, template)
                    page = WebPageError(
                        500,
                        "Something went wrong on our side",
                        "Your answers up to the last page you saved are safe.",
                        "Please try again in a few minutes.",
                    )
                return error_page(request, page)

        return guarded


router = APIRouter(route_class=WebRoute, include_in_schema=False)


# -- session and CSRF -------------------------------------------------------------------


def signing_key(request: Request, settings: SettingsDep) -> bytes:
    """The secret key, read (or made) once per application."""
    key: bytes | None = getattr(request.app.state, "web_signing_key", None)
    if key is None:
        key = settings.signing_key()
        request.app.state.web_signing_key = key
    return key


KeyDep = Annotated[bytes, Depends(signing_key)]


@dataclass(frozen=True, slots=True)
class Visit:
    """The invitation this browser is filling in, and what its pages need from it."""

    session: FormSession
    invitation: Invitation
    organization: Organization
    definition: QuestionnaireDefinition
    csrf_token: str

    def steps(self) -> list[tuple[str, str]]:
        """(step id, title), in order: the profile, each dimension, the review."""
        return [
            ("profile", "Your organization"),
            *((d.id, d.title) for d in self.definition.dimensions),
            ("review", "Review and submit"),
        ]

    def url(self, step: str) -> str:
        if step in ("profile", "review"):
            return f"/form/{step}"
        return f"/form/section/{step}"


def _visit(
    request: Request,
    session: Session,
    registry: QuestionnaireRegistry,
    key: bytes,
    *,
    allow_submitted: bool,
) -> Visit:
    form_session = FormSession.from_cookie(request.cookies.get(SESSION_COOKIE), key)
    if form_session is None:
        raise NO_SESSION
    # The audit trail names the invitation as the actor of what this visit does.
    record_of(request).invitation_id = form_session.invitation_id
    invitation = service.usable_invitation(
        session, form_session.invitation_id, allow_submitted=allow_submitted
    )
    record_of(request).in_organization(invitation.organization_id)
    return Visit(
        form_session,
        invitation,
        session.get_one(Organization, invitation.organization_id),
        registry.get(invitation.questionnaire_id, invitation.questionnaire_version).definition,
        form_session.csrf_token(key),
    )


def open_visit(request: Request, session: SessionDep, registry: RegistryDep, key: KeyDep) -> Visit:
    """The visit of a form that can still change (not submitted, expired or revoked)."""
    return _visit(request, session, registry, key, allow_submitted=False)


def any_visit(request: Request, session: SessionDep, registry: RegistryDep, key: KeyDep) -> Visit:
    """The visit, also once submitted (for the results and the PDF)."""
    return _visit(request, session, registry, key, allow_submitted=True)


OpenVisit = Annotated[Visit, Depends(open_visit)]
AnyVisit = Annotated[Visit, Depends(any_visit)]

CSRF_FAILED = WebPageError(
    403,
    "This page has expired",
    "For your security, the form could not be accepted: it came from an old page or another site.",
    "Go back, reload the page, and try again. Answers you saved earlier are kept.",
)


async def posted_form(request: Request, key: KeyDep) -> dict[str, list[str]]:
    """The posted fields (name -> every value), after checking the CSRF token."""
    form = await request.form()
    form_session = FormSession.from_cookie(request.cookies.get(SESSION_COOKIE), key)
    if form_session is None:
        raise NO_SESSION
    token = form.get("csrf_token")
    if not form_session.csrf_ok(token if isinstance(token, str) else None, key):
        raise CSRF_FAILED
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
    return fields


FormDep = Annotated[dict[str, list[str]], Depends(posted_form)]


# -- helpers ------------------------------------------------------------------------------


def _stored(assessment: Assessment | None) -> dict[str, AnswerValue]:
    return stored_values(assessment)


def _comments(assessment: Assessment | None) -> dict[str, str]:
    if assessment is None:
        return {}
    return {a.question_id: a.comment for a in assessment.answers if a.comment}


def _progress(
    visit: Visit, answers: Mapping[str, AnswerValue], current: str
) -> list[dict[str, Any]]:
    shown = visible_questions(visit.definition, answers)
    steps = []
    for number, (step, title) in enumerate(visit.steps(), start=1):
        detail = ""
        done = False
        if step == "profile":
            done = bool(answers)
        elif step != "review":
            asked = [q for q in visit.definition.questions_in(step) if q.id in shown]
            answered = sum(1 for q in asked if q.id in answers)
            detail = f"{answered} of {len(asked)} answered"
            done = answered == len(asked)
        steps.append(
            {
                "number": number,
                "id": step,
                "title": title,
                "detail": detail,
                "current": step == current,
                "done": done,
            }
        )
    return steps


def _page(
    request: Request,
    template: str,
    visit: Visit,
    answers: Mapping[str, AnswerValue],
    current: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    steps = _progress(visit, answers, current)
    position = next((s["number"] for s in steps if s["current"]), None)
    return templates.TemplateResponse(
        request,
        template,
        {
            "lang": visit.definition.language.split("-")[0],
            "organization": visit.organization,
            "questionnaire": visit.definition,
            "csrf_token": visit.csrf_token,
            "steps": steps,
            "step_number": position,
            "step_count": len(steps),
            **context,
        },
        status_code=status_code,
    )


def _next_step(visit: Visit, current: str, action: str) -> str:
    order = [step for step, _ in visit.steps()]
    index = order.index(current)
    if action == "later":
        return "/form/saved"
    if action == "back":
        return "/form" if index == 0 else visit.url(order[index - 1])
    return visit.url(order[min(index + 1, len(order) - 1)])


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _first(form: Mapping[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


# -- pages --------------------------------------------------------------------------------


@router.get("/i/{token}")
def open_link(
    token: str, request: Request, session: SessionDep, key: KeyDep, settings: SettingsDep
) -> Response:
    """Exchange the link for a session cookie, then leave the token out of every later URL.

    Once submitted, the link still opens, read-only, to the results (the welcome page sends
    a submitted visit there) until it expires or is revoked.
    """
    record_of(request).action = "auth.invitation"  # a sign-in, recorded whatever the outcome
    invitation = service.open_invitation(session, token, key=key, allow_submitted=True)
    record_of(request).invitation_id = invitation.id
    record_of(request).in_organization(invitation.organization_id)
    existing = FormSession.from_cookie(request.cookies.get(SESSION_COOKIE), key)
    form_session = (
        existing
        if existing is not None and existing.invitation_id == invitation.id
        else FormSession.new(invitation.id)
    )
    response = _see_other("/form")
    lifetime = invitation.expires_at - invitation.created_at.astimezone(UTC)
    response.set_cookie(
        SESSION_COOKIE,
        form_session.cookie(key),
        max_age=max(60, int(lifetime.total_seconds())),
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(settings, request),
    )
    return response


def cookie_secure(settings: Settings, request: Request) -> bool:
    """Whether the session cookie is ``Secure``: always, never, or when the request is https.

    ``auto`` reads the scheme uvicorn gives the request, which is the client's when a proxy
    it trusts says so (``X-Forwarded-Proto``).
    """
    if settings.cookie_secure == "auto":
        return request.url.scheme == "https"
    return settings.cookie_secure == "always"


@router.get("/form")
def welcome(request: Request, visit: AnyVisit, session: SessionDep) -> Response:
    """What the assessment is, how long it takes, and a button to start or continue."""
    draft = service.draft_of(session, visit.invitation)
    if draft is not None and draft.status == AssessmentStatus.SUBMITTED:
        return _see_other("/form/results")
    answers = _stored(draft)
    steps = _progress(visit, answers, "")
    resume = next(
        (visit.url(s["id"]) for s in steps if s["id"] != "profile" and not s["done"]),
        "/form/review",
    )
    return _page(
        request,
        "welcome.html",
        visit,
        answers,
        "",
        started=draft is not None,
        resume_url=resume if answers else "/form/profile",
        expires_at=visit.invitation.expires_at,
    )


@router.post("/form/start")
def start(visit: OpenVisit, form: FormDep, session: SessionDep, registry: RegistryDep) -> Response:
    """Make the invitation's draft (once) and go to the first page."""
    service.start_draft(session, registry, visit.invitation)
    return _see_other("/form/profile")


def _profile_page(
    request: Request,
    visit: Visit,
    session: Session,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    answers = _stored(service.draft_of(session, visit.invitation))
    values = values or {
        "type": visit.organization.type,
        "licensed_beds": str(visit.organization.licensed_beds),
    }
    return _page(
        request,
        "profile.html",
        visit,
        answers,
        "profile",
        status_code=422 if errors else 200,
        types=[(t.value, label) for t, label in ORGANIZATION_TYPES.items()],
        values=values,
        errors=errors or {},
        error_links=[
            (("type-0" if field == "type" else "licensed-beds"), message)
            for field, message in (errors or {}).items()
        ],
    )


@router.get("/form/profile")
def profile(request: Request, visit: OpenVisit, session: SessionDep) -> Response:
    """The organization's type and licensed beds (they set the prices in the roadmap)."""
    return _profile_page(request, visit, session)


@router.post("/form/profile")
def save_profile(
    request: Request,
    visit: OpenVisit,
    form: FormDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """Save the profile, then go where the pressed button says."""
    values = {"type": _first(form, "type"), "licensed_beds": _first(form, "licensed_beds").strip()}
    errors: dict[str, str] = {}
    if values["type"] not in {t.value for t in ORGANIZATION_TYPES}:
        errors["type"] = "Choose the type of organization."
    beds_text = values["licensed_beds"].replace(",", "")
    if not beds_text:
        errors["licensed_beds"] = "Enter the number of licensed beds, for example 120."
    elif not beds_text.isdigit() or int(beds_text) > MAX_BEDS:
        errors["licensed_beds"] = (
            f"Enter the licensed beds as a whole number from 0 to {MAX_BEDS:,}."
        )
    if errors:
        return _profile_page(request, visit, session, values=values, errors=errors)
    service.update_profile(
        session, visit.invitation, organization_type=values["type"], licensed_beds=int(beds_text)
    )
    service.start_draft(session, registry, visit.invitation)
    return _see_other(_next_step(visit, "profile", _first(form, "action")))


def _dimension(visit: Visit, dimension_id: str) -> Any:
    for dimension in visit.definition.dimensions:
        if dimension.id == dimension_id:
            return dimension
    raise WebPageError(404, "Page not found", "There is no such section in this assessment.", "")


def _section_page(
    request: Request,
    visit: Visit,
    dimension_id: str,
    answers: Mapping[str, AnswerValue],
    *,
    comments: Mapping[str, str],
    raw: Mapping[str, list[str]] | None = None,
    errors: Mapping[str, str] | None = None,
    comment_errors: Mapping[str, str] | None = None,
    followup: bool = False,
    unanswered: bool = False,
    identifiers: frozenset[str] = frozenset(),
) -> Response:
    dimension = _dimension(visit, dimension_id)
    page_questions = visit.definition.questions_in(dimension_id)
    missing: list[str] = []
    if unanswered and not errors and not comment_errors:
        missing = unanswered_required(visit.definition, page_questions, answers)
        errors = dict.fromkeys(missing, UNANSWERED)
    questions = question_views(
        visit.definition,
        page_questions,
        answers,
        raw=raw,
        errors=errors,
        comments=comments,
        comment_errors=comment_errors,
    )
    # Saved text that looks like it holds an identifier: said beside the question.
    found = identifier_warnings(
        visit.definition,
        [
            FormAnswer(q.id, value=answers.get(q.id), comment=comments.get(q.id))
            for q in questions
            if q.id in identifiers
        ],
    )
    kinds = {w.question_id: w.kinds for w in found}
    for view in questions:
        if view.id in kinds:
            seen = " or ".join(str(kind) for kind in kinds[view.id])
            view.identifier_warning = (
                f"Saved, but this looks like it may hold a {seen}. Please remove patient "
                "names and identifiers; describe what happened without them."
            )
    error_links = []
    for q in questions:
        if q.error:
            error_links.append((q.first_input_id, q.prompt, q.error))
        if q.comment_error:
            error_links.append((q.comment_input_id, f"Comment on: {q.prompt}", q.comment_error))
    invalid = bool(error_links) and not missing
    return _page(
        request,
        "section.html",
        visit,
        answers,
        dimension_id,
        status_code=422 if invalid else 200,
        dimension=dimension,
        questions=questions,
        error_links=error_links,
        unanswered=missing,
        next_title=_next_title(visit, dimension_id),
        followup=followup,
    )


def _next_title(visit: Visit, current: str) -> str:
    steps = visit.steps()
    index = [step for step, _ in steps].index(current)
    return steps[min(index + 1, len(steps) - 1)][1]


@router.get("/form/section/{dimension_id}")
def section(
    request: Request,
    dimension_id: str,
    visit: OpenVisit,
    session: SessionDep,
    followup: bool = False,
    unanswered: bool = False,
    check: str = "",
) -> Response:
    """One dimension's questions, in the definition's order, with their help.

    ``unanswered``: flag the page's required questions still without an answer (where
    "Save and continue" sends a page it saved with some left). ``check``: the questions
    whose newly saved text looks like it holds a patient identifier, to say so beside them.
    """
    draft = service.draft_of(session, visit.invitation)
    return _section_page(
        request,
        visit,
        dimension_id,
        _stored(draft),
        comments=_comments(draft),
        followup=followup,
        unanswered=unanswered,
        identifiers=frozenset(check.split(",")[:50]) if check else frozenset(),
    )


@router.post("/form/section/{dimension_id}")
def save_section(
    request: Request,
    dimension_id: str,
    visit: OpenVisit,
    form: FormDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """Check and save a section's answers, then go on.

    An answer that does not fit keeps the person here and saves nothing. Required
    questions left unanswered do not: the answers given are saved and "Save and continue"
    shows the page again with them flagged, where "Continue without answering" (or any
    other page) moves on; the review page lists them again before submitting.
    """
    _dimension(visit, dimension_id)
    definition = visit.definition
    questions = definition.questions_in(dimension_id)
    draft = service.draft_of(session, visit.invitation)
    stored = _stored(draft)
    parsed = parse_section(questions, form)
    section_form = section_items(definition, questions, parsed, stored)
    items = section_form.items
    errors = dict(parsed.problems)
    existing = stored_answers(draft)
    try:
        check_answers(definition, items, existing=existing)
    except InvalidAnswers as exc:
        for problem in exc.extra["errors"]:
            qid = problem.get("question_id")
            if qid and qid not in errors:
                errors[qid] = friendly_message(problem["message"], qid)
    if errors or section_form.comment_problems:
        shown = {**stored, **{k: v for k, v in parsed.values.items() if v is not None}}
        return _section_page(
            request,
            visit,
            dimension_id,
            shown,
            comments={**_comments(draft), **parsed.comments},
            raw=parsed.raw,
            errors=errors,
            comment_errors=section_form.comment_problems,
        )
    comments_before = _comments(draft)
    assessment = service.save_answers(session, registry, visit.invitation, items)
    saved = _stored(assessment)
    action = _first(form, "action")
    # Newly typed text that looks like an identifier: back to this page, once, to say so.
    changed = [
        item
        for item in items
        if (item.value is not None and item.value != stored.get(item.question_id))
        or (item.comment and item.comment != comments_before.get(item.question_id))
    ]
    flagged = [w.question_id for w in identifier_warnings(definition, changed)]
    if flagged:
        return _see_other(f"/form/section/{dimension_id}?check={','.join(flagged)}#q-{flagged[0]}")
    if action == "next":
        before = visible_questions(definition, stored)
        after = visible_questions(definition, saved)
        appeared = [q.id for q in questions if q.id in after - before and q.id not in saved]
        missing = unanswered_required(definition, questions, saved)
        # Without a script, follow-ups appear only now: ask them before moving on.
        query = [name for name, flag in (("followup", appeared), ("unanswered", missing)) if flag]
        if query:
            anchor = f"#q-{appeared[0]}" if appeared else ""
            flags = "&".join(f"{name}=true" for name in query)
            return _see_other(f"/form/section/{dimension_id}?{flags}{anchor}")
    return _see_other(_next_step(visit, dimension_id, "next" if action == "skip" else action))


def _review_page(
    request: Request,
    visit: Visit,
    session: Session,
    *,
    errors: list[tuple[str, str, str]] | None = None,
) -> Response:
    draft = service.draft_of(session, visit.invitation)
    answers = _stored(draft)
    comments = _comments(draft)
    sections = [
        (
            dimension,
            review_rows(
                visit.definition,
                visit.definition.questions_in(dimension.id),
                answers,
                comments,
                visit.url(dimension.id),
            ),
        )
        for dimension in visit.definition.dimensions
    ]
    return _page(
        request,
        "review.html",
        visit,
        answers,
        "review",
        status_code=422 if errors else 200,
        missing_count=len(missing_required(visit.definition, answers)),
        sections=sections,
        errors=errors or [],
        organization_type=ORGANIZATION_TYPES.get(
            OrganizationType(visit.organization.type)
            if visit.organization.type in {t.value for t in OrganizationType}
            else OrganizationType.OTHER,
            visit.organization.type,
        ),
    )


@router.get("/form/review")
def review(request: Request, visit: OpenVisit, session: SessionDep) -> Response:
    """Every answer by section, each with a link to change it; unanswered required ones marked."""
    return _review_page(request, visit, session)


@router.post("/form/submit")
def submit(
    request: Request,
    visit: OpenVisit,
    form: FormDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """Submit the assessment; it then cannot change, and the results are ready."""
    try:
        service.save_answers(session, registry, visit.invitation, [], submit=True)
    except InvalidAnswers as exc:
        index = visit.definition.question_index()
        errors = []
        for problem in exc.extra["errors"]:
            qid = problem.get("question_id")
            if qid in index:
                question = index[qid][1]
                errors.append(
                    (
                        f"{visit.url(question.dimension)}#{field_anchor(question)}",
                        question.prompt,
                        friendly_message(problem["message"], qid),
                    )
                )
        return _review_page(request, visit, session, errors=errors)
    return _see_other("/form/results")


@router.get("/form/saved")
def saved(request: Request, visit: OpenVisit, session: SessionDep) -> Response:
    """Answers are saved; how to come back."""
    answers = _stored(service.draft_of(session, visit.invitation))
    return _page(request, "saved.html", visit, answers, "", expires_at=visit.invitation.expires_at)


def _submitted(session: Session, visit: Visit) -> Assessment | None:
    draft = service.draft_of(session, visit.invitation)
    if draft is None or draft.status != AssessmentStatus.SUBMITTED:
        return None
    return draft


@router.get("/form/results")
def results(
    request: Request, visit: AnyVisit, session: SessionDep, registry: RegistryDep
) -> Response:
    """Levels per dimension with the radar chart, why, and the roadmap's first phase."""
    assessment = _submitted(session, visit)
    if assessment is None:
        return _see_other("/form/review")
    inputs = gather_inputs(session, registry, assessment)
    score = score_answers(inputs.definition, inputs.answers)
    roadmap = plan(inputs, PlanRequest())
    projected = {p.dimension_id: p.level for p in roadmap.projected}
    chart = radar_chart(
        [
            (
                d.title,
                d.level,
                roadmap.targets.get(d.dimension_id, d.level),
                projected.get(d.dimension_id, d.level),
            )
            for d in score.dimensions
        ]
    )
    first_phase = next((p for p in roadmap.phases if p.actions), None)
    dimensions = [
        {
            "title": d.title,
            "level": d.level,
            "level_name": d.level_name,
            "score": format_score(d.score),
            # What the level means (in the dimension's own terms where it has them).
            "description": _level_meaning(visit.definition, d.dimension_id, d.level),
            "why": _plain(d.summary),
            "next": _next_level_text(d.next_level) if d.next_level else None,
            "next_questions": [g.prompt for g in d.next_level.gates_to_meet]
            if d.next_level
            else [],
            "target": roadmap.targets.get(d.dimension_id),
        }
        for d in score.dimensions
    ]
    actions = [
        {
            "title": a.title,
            "rationale": a.rationale,
            "weeks": weeks_label(a.start_week, a.end_week),
            "services": [s.title for s in a.services],
            # A service bought for an earlier action costs nothing more here.
            "cost": format_money(a.cost, roadmap.currency) if a.cost else "no added cost",
        }
        for a in (first_phase.actions if first_phase else ())
    ]
    return _page(
        request,
        "results.html",
        visit,
        inputs.answers,
        "",
        score=score,
        dimensions=dimensions,
        radar=Markup(chart),  # noqa: S704 - radar_chart escapes every piece of text itself
        phase=first_phase,
        phase_cost=format_money(first_phase.cost, roadmap.currency) if first_phase else None,
        actions=actions,
        total_cost=format_money(roadmap.total_cost, roadmap.currency),
        phase_count=sum(1 for p in roadmap.phases if p.actions),
    )


_QUESTION_IDS = re.compile(r" \([a-z][a-z0-9_]*\)")


def _level_meaning(definition: QuestionnaireDefinition, dimension_id: str, level: int) -> str:
    dimension = definition.dimension(dimension_id)
    if dimension is None:
        return definition.levels[level - 1].description
    return dimension.level_description(level, definition.levels)


def _next_level_text(next_level: NextLevel) -> str:
    """What the level above takes, in words; the questions it needs are listed after it."""
    head = f"To reach level {next_level.level} ({next_level.name}), "
    score = (
        f"raise the score to {format_score(next_level.score_needed)} "
        f"({format_score(next_level.points_short)} points more)"
        if next_level.points_short > 0
        else ""
    )
    count = len(next_level.gates_to_meet)
    questions = (
        f"give a stronger answer to {'this question' if count == 1 else f'these {count} questions'}"
        if count
        else ""
    )
    if score and questions:
        return f"{head}{score} and {questions}:"
    if questions:
        return f"{head}{questions}:"
    return f"{head}{score}."


def _plain(text: str) -> str:
    """An engine explanation without the question ids meant for analysts."""
    return _QUESTION_IDS.sub("", text)


@router.get("/form/roadmap.pdf")
def roadmap_pdf(
    visit: AnyVisit, session: SessionDep, registry: RegistryDep, settings: SettingsDep
) -> Response:
    """The roadmap report, from the same cache the API serves it from."""
    assessment = _submitted(session, visit)
    if assessment is None:
        raise WebPageError(
            409,
            "The roadmap is not ready yet",
            "The roadmap is made once the assessment is submitted.",
            "Review your answers and submit them first.",
        )
    pdf = report_pdf(session, registry, assessment, PlanRequest(), settings)
    slug = re.sub(r"[^a-z0-9]+", "-", visit.organization.name.lower()).strip("-") or "roadmap"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="roadmap-{slug}.pdf"'},
    )


# -- wiring -------------------------------------------------------------------------------


def _rate_limited_page(wait: float) -> bytes:
    template = templates.get_template("error.html")
    return template.render(
        title="Please slow down",
        message="This assessment received too many requests from your network in a short time.",
        advice=f"Wait {max(1, round(wait))} seconds, then try again. Your saved answers are safe.",
        lang="en",
    ).encode()


def install_web(app: FastAPI, settings: Settings) -> None:
    """Add the form's routes, assets, headers, rate limit and log redaction to ``app``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    limiter = RateLimiter(
        "web",
        per_minute=settings.web_rate_limit,
        burst=settings.web_rate_burst,
        shared=not settings.is_sqlite,
    )
    app.add_middleware(RateLimit, limiter=limiter, page=_rate_limited_page)
    app.add_middleware(SecurityHeaders)
    redact_invitation_links("uvicorn.access", "uvicorn.error", "smm", "smm.web")


__all__ = ["install_web"]
