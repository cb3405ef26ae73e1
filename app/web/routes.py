"""The form's pages: link, welcome, profile, one page per dimension, review, results, PDF.

Every page is rendered on the server; the script only shows follow-up questions at once
and moves focus to an error summary. GET never changes anything: drafts are made and
answers saved by POSTs, each carrying this session's CSRF token. Each route reads the
request, calls one of the form's use cases (app.forms.service) and renders or redirects.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import UTC, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.forms import service as form
from app.forms.service import FormAnswers, SectionOutcome
from app.http.context import record_of
from app.http.deps import RegistryDep, SessionDep, SettingsDep
from app.http.reports import queue_prerender, recheck_seconds, wait_for_prerender
from app.invitations import service
from app.jobs import service as jobs
from app.jobs.models import JobPriority
from app.jobs.service import DEFAULT_REPORT, ReportState
from app.organizations.schemas import ORGANIZATION_TYPE_LABELS, OrganizationType
from app.questionnaire.schemas import Dimension
from app.ratelimit import RateLimiter
from app.reports.service import order_report, report_pdf
from app.web.deps import AnyVisit, FormDep, KeyDep, OpenVisit, Visit
from app.web.errors import (
    NO_SECTION,
    ROADMAP_NOT_READY,
    WebRoute,
    busy_page,
    rate_limited_page,
)
from app.web.forms import (
    PROFILE_PROBLEMS,
    UNANSWERED,
    answer_problem_text,
    comment_problem_text,
    field_anchor,
    problem_text,
    question_views,
    review_rows,
)
from app.web.security import (
    SESSION_COOKIE,
    FormSession,
    RateLimit,
    SecurityHeaders,
    redact_invitation_links,
)
from app.web.templating import STATIC, templates
from app.web.views import progress, results_page

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _page(
    request: Request,
    template: str,
    visit: Visit,
    answers: FormAnswers,
    current: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    steps = progress(visit, answers, current)
    position = next((s.number for s in steps if s.current), None)
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


def _answers(session: Session, visit: Visit) -> FormAnswers:
    return form.form_answers(session, visit.invitation, visit.definition)


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


def _first(fields: Mapping[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
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
    answers = _answers(session, visit)
    if answers.submitted:
        return _see_other("/form/results")
    steps = progress(visit, answers, "")
    resume = next(
        (visit.url(s.id) for s in steps if s.id != "profile" and not s.done),
        "/form/review",
    )
    return _page(
        request,
        "welcome.html",
        visit,
        answers,
        "",
        started=answers.started,
        resume_url=resume if answers.values else "/form/profile",
        expires_at=visit.invitation.expires_at,
    )


@router.post("/form/start")
def start(
    visit: OpenVisit, fields: FormDep, session: SessionDep, registry: RegistryDep
) -> Response:
    """Make the invitation's draft (once) and go to the first page."""
    form.start(session, registry, visit.invitation)
    return _see_other("/form/profile")


def _profile_page(
    request: Request,
    visit: Visit,
    session: Session,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    if values is None:
        hours = form.staff_hours_of(session, visit.invitation)
        values = {
            "type": visit.organization.type,
            "licensed_beds": str(visit.organization.licensed_beds),
            "staff_hours_per_month": "" if hours is None else str(hours),
        }
    return _page(
        request,
        "profile.html",
        visit,
        _answers(session, visit),
        "profile",
        status_code=422 if errors else 200,
        types=[(t.value, label) for t, label in ORGANIZATION_TYPE_LABELS.items()],
        values=values,
        errors=errors or {},
        error_links=[(PROFILE_INPUTS[field], message) for field, message in (errors or {}).items()],
    )


# The input each profile field's error links to.
PROFILE_INPUTS = {
    "type": "type-0",
    "licensed_beds": "licensed-beds",
    "staff_hours_per_month": "staff-hours",
}


@router.get("/form/profile")
def profile(request: Request, visit: OpenVisit, session: SessionDep) -> Response:
    """The organization's type and licensed beds (they set the prices in the roadmap), and
    the staff hours a month it can give the program (they pace the roadmap)."""
    return _profile_page(request, visit, session)


@router.post("/form/profile")
def save_profile(
    request: Request,
    visit: OpenVisit,
    fields: FormDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """Save the profile, then go where the pressed button says."""
    values = {
        "type": _first(fields, "type"),
        "licensed_beds": _first(fields, "licensed_beds").strip(),
        "staff_hours_per_month": _first(fields, "staff_hours_per_month").strip(),
    }
    problems = form.save_profile(
        session,
        registry,
        visit.invitation,
        organization_type=values["type"],
        licensed_beds=values["licensed_beds"],
        staff_hours_per_month=values["staff_hours_per_month"],
    )
    if problems:
        errors = {name: PROFILE_PROBLEMS[code] for name, code in problems.items()}
        return _profile_page(request, visit, session, values=values, errors=errors)
    return _see_other(_next_step(visit, "profile", _first(fields, "action")))


def _dimension(visit: Visit, dimension_id: str) -> Dimension:
    for dimension in visit.definition.dimensions:
        if dimension.id == dimension_id:
            return dimension
    raise NO_SECTION


def _section_page(
    request: Request,
    visit: Visit,
    dimension_id: str,
    answers: FormAnswers,
    *,
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
        missing = answers.missing(page_questions)
        errors = dict.fromkeys(missing, UNANSWERED)
    questions = question_views(
        answers, page_questions, raw=raw, errors=errors, comment_errors=comment_errors
    )
    # Saved text that looks like it holds an identifier: said beside the question.
    kinds = form.identifier_kinds(answers, [q.id for q in questions if q.id in identifiers])
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
    return _section_page(
        request,
        visit,
        dimension_id,
        _answers(session, visit),
        followup=followup,
        unanswered=unanswered,
        identifiers=frozenset(check.split(",")[:50]) if check else frozenset(),
    )


def _refused_section(
    request: Request, visit: Visit, dimension_id: str, outcome: SectionOutcome
) -> Response:
    """The section again, with what was posted and each problem in words."""
    parsed = outcome.parsed
    index = visit.definition.question_index()
    errors = {
        qid: answer_problem_text(index[qid][1], problem)
        for qid, problem in outcome.answer_problems.items()
    }
    for qid, code in outcome.problems.items():
        errors[qid] = problem_text(index[qid][1], code, parsed.raw.get(qid, []))
    return _section_page(
        request,
        visit,
        dimension_id,
        outcome.before.with_posted(parsed),
        raw=parsed.raw,
        errors=errors,
        comment_errors={
            qid: comment_problem_text(code, parsed.comments.get(qid, ""))
            for qid, code in outcome.comment_problems.items()
        },
    )


@router.post("/form/section/{dimension_id}")
def save_section(
    request: Request,
    dimension_id: str,
    visit: OpenVisit,
    fields: FormDep,
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
    outcome = form.save_section(
        session, registry, visit.invitation, visit.definition, dimension_id, fields
    )
    if not outcome.saved:
        return _refused_section(request, visit, dimension_id, outcome)
    action = _first(fields, "action")
    # Newly typed text that looks like an identifier: back to this page, once, to say so.
    flagged = outcome.identifiers
    if flagged:
        return _see_other(f"/form/section/{dimension_id}?check={','.join(flagged)}#q-{flagged[0]}")
    if action == "next":
        appeared, missing = outcome.appeared, outcome.missing
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
    answers = _answers(session, visit)
    sections = [
        (
            dimension,
            review_rows(
                answers, visit.definition.questions_in(dimension.id), visit.url(dimension.id)
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
        missing_count=len(answers.missing()),
        sections=sections,
        errors=errors or [],
        organization_type=ORGANIZATION_TYPE_LABELS.get(
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
    fields: FormDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """Submit the assessment; it then cannot change, and the results are ready.

    Its roadmap PDF is queued for rendering in the same transaction, so that it is ready,
    or nearly, by the time the results page offers it.
    """
    problems = form.submit(session, registry, visit.invitation)
    if not problems:
        submitted = form.submitted(session, visit.invitation)
        if submitted is not None:
            queue_prerender(request, session, submitted, None, JobPriority.PERSON)
        return _see_other("/form/results")
    index = visit.definition.question_index()
    errors = []
    for problem in problems:
        if problem.question_id in index:
            question = index[problem.question_id][1]
            errors.append(
                (
                    f"{visit.url(question.dimension)}#{field_anchor(question)}",
                    question.prompt,
                    answer_problem_text(question, problem),
                )
            )
    return _review_page(request, visit, session, errors=errors)


@router.get("/form/saved")
def saved(request: Request, visit: OpenVisit, session: SessionDep) -> Response:
    """Answers are saved; how to come back."""
    answers = _answers(session, visit)
    return _page(request, "saved.html", visit, answers, "", expires_at=visit.invitation.expires_at)


def _report_state(session: Session, settings: Settings, assessment_id: uuid.UUID, key: str) -> str:
    # A job queued for longer than a runner could take to start it (and to render the jobs
    # ahead of it) is not being worked on: no runner is taking jobs.
    patience = timedelta(seconds=settings.render_timeout_seconds * 2 + 30)
    state = jobs.report_state(session, assessment_id, key, queued_patience=patience)
    return state.value


@router.get("/form/results")
def results(
    request: Request,
    visit: AnyVisit,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    """Levels per dimension with the radar chart, why, and the roadmap's first phase.

    While the roadmap PDF is still being rendered, the page says so and reloads itself
    (the script, where it runs, asks ``/form/roadmap-status`` instead and shows the link).
    """
    found = form.results(session, registry, visit.invitation, visit.definition)
    if found is None:
        return _see_other("/form/review")
    report_state = _report_state(session, settings, found.assessment_id, found.report_key)
    page = results_page(visit.definition, found)
    return _page(
        request,
        "results.html",
        visit,
        found.answers,
        "",
        score=page,
        dimensions=page.dimensions,
        radar=Markup(page.radar),  # noqa: S704 - radar_chart escapes every piece of text itself
        phase=page.phase,
        phase_cost=page.phase_cost,
        actions=page.actions,
        total_cost=page.total_cost,
        phase_count=page.phase_count,
        report_state=report_state,
        refresh_seconds=(
            recheck_seconds(utcnow() - found.submitted_at)
            if report_state == ReportState.PREPARING
            else None
        ),
    )


@router.get("/form/roadmap-status")
def roadmap_status(
    visit: AnyVisit, session: SessionDep, registry: RegistryDep, settings: SettingsDep
) -> Response:
    """Whether the roadmap PDF is ready: ``{"state": "preparing" | "ready" | "failed"}``.

    What the results page's script asks while the PDF is being prepared; never stored.
    """
    assessment = form.submitted(session, visit.invitation)
    if assessment is None:
        raise ROADMAP_NOT_READY
    key = order_report(session, registry, assessment, DEFAULT_REPORT).key
    state = _report_state(session, settings, assessment.id, key)
    return JSONResponse({"state": state}, headers={"Cache-Control": "no-store"})


@router.get("/form/roadmap.pdf")
def roadmap_pdf(
    visit: AnyVisit, session: SessionDep, registry: RegistryDep, settings: SettingsDep
) -> Response:
    """The roadmap report, from the same cache the API serves it from."""
    assessment = form.submitted(session, visit.invitation)
    if assessment is None:
        raise ROADMAP_NOT_READY
    wait_for_prerender(session, registry, assessment, DEFAULT_REPORT, settings)
    pdf = report_pdf(session, registry, assessment, DEFAULT_REPORT, settings)
    slug = re.sub(r"[^a-z0-9]+", "-", visit.organization.name.lower()).strip("-") or "roadmap"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="roadmap-{slug}.pdf"'},
    )


# -- wiring -------------------------------------------------------------------------------


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
    app.add_middleware(RateLimit, limiter=limiter, page=rate_limited_page, busy_page=busy_page)
    app.add_middleware(SecurityHeaders)
    redact_invitation_links("uvicorn.access", "uvicorn.error", "smm", "smm.web")


__all__ = ["install_web"]
