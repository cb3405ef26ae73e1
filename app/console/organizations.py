"""The console's organization pages: create one, and one organization's page with its
profile, invitation links, assessments over time, roadmap settings (with a live preview of
the plan they give) and peer percentiles.

Every page calls the services the REST routes call (app/api/organizations.py,
invitations.py, consultants.py, reports.py); what is here turns posted fields into the
same request models and the services' answers into pages.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from app.benchmarks.service import organization_benchmark
from app.console.deps import Console, ConsoleDep, ConsoleFormDep, ConsoleLookupDep, first
from app.console.errors import ConsoleRoute
from app.console.pages import page, see_other
from app.errors import AppError, InvalidRequest, NotFound
from app.forms.service import SectionProgress, draft_progress
from app.history.service import History, organization_history, submitted_assessments
from app.http.context import record_of
from app.http.deps import RegistryDep, SessionDep, SettingsDep
from app.http.links import email_invitation, invitation_link
from app.invitations import service as invitations
from app.invitations.models import Invitation
from app.invitations.schemas import InvitationCreate, InvitationStatus
from app.mail import service as mail
from app.mail.models import EmailMessage
from app.organizations import service as organizations
from app.organizations.models import Organization
from app.organizations.roadmap_settings import (
    RoadmapSettingsRead,
    RoadmapSettingsUpdate,
    check_settings,
    read_settings,
    replace_settings,
)
from app.organizations.schemas import (
    ORGANIZATION_TYPE_LABELS,
    OrganizationCreate,
    OrganizationType,
    OrganizationUpdate,
)
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.charts import TrendSeries, trend_chart
from app.reports.inputs import PlanRequest, gather_inputs, plan, with_settings
from app.reports.view import DIMENSION_COLORS, EN_DASH, format_money, format_score
from app.roadmap.results import Roadmap

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

M = TypeVar("M", bound=BaseModel)
WHOLE = re.compile(r"-?[0-9]{1,11}")

# The header the preview script sends to get the preview panel alone, not the whole page.
FRAGMENT_HEADER = "x-console-fragment"

PROFILE_LABELS = {
    "name": "Name",
    "type": "Type",
    "licensed_beds": "Licensed beds",
    "state": "State",
}
SETTINGS_LABELS = {
    "targets": "Targets",
    "budget": "Budget",
    "excluded_services": "Excluded services",
    "notes": "Notes",
    "staff_hours_per_month": "Staff hours a month",
    "concurrent_actions": "Actions at once",
    "hourly_rate": "Hourly rate",
    "budget_scope": "What the budget caps",
}
INVITATION_LABELS = {
    "expires_in_days": "Days the link is valid",
    "questionnaire": "Questionnaire",
    "email": "Email the link to",
}
SETTINGS_NUMBERS = ("budget", "staff_hours_per_month", "concurrent_actions", "hourly_rate")
# Invitations whose link can still be used, and so can be revoked.
OPEN = (InvitationStatus.PENDING, InvitationStatus.STARTED)


def organization_in_path(organization_id: uuid.UUID, lookup: ConsoleLookupDep) -> Organization:
    """The organization in the path, if the user may see it (404 otherwise, as in the API)."""
    return lookup.organization(organization_id)


OrganizationDep = Annotated[Organization, Depends(organization_in_path)]


# -- posted fields to request models -------------------------------------------------------


class Problems(dict[str, str]):
    """What is wrong with a form: field name -> message (shown next to it and in a summary)."""

    def summary(self, prefix: str) -> list[tuple[str, str]]:
        """(input id, message) for the error summary's links."""
        return [(input_id(prefix, name), message) for name, message in self.items()]


def input_id(prefix: str, name: str) -> str:
    """The id of a field's input on the page: ``settings-target-security`` for targets.security."""
    return f"{prefix}-" + name.replace("targets.", "target-").replace("_", "-")


def _field_of(location: Iterable[Any]) -> str:
    parts = [str(p) for p in location]
    if parts and parts[0] == "targets" and len(parts) > 1:
        return f"targets.{parts[1]}"
    return parts[0] if parts else "form"


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "missing":
        return "is required"
    text = str(error.get("msg", "is not valid"))
    return text.removeprefix("Value error, ")


def problems_of(exc: ValidationError | AppError, labels: Mapping[str, str]) -> Problems:
    """A model's validation errors, or a service's field errors, by field, in words."""
    if isinstance(exc, ValidationError):
        raw = [(_field_of(e["loc"]), _message(e)) for e in exc.errors()]
    else:
        errors = exc.extra.get("errors") or [{"field": "form", "message": exc.detail}]
        raw = [
            (str(e.get("field") or "form").split("[")[0], str(e.get("message", exc.detail)))
            for e in errors
        ]
    found = Problems()
    for name, message in raw:
        label = labels.get(name) or labels.get(name.split(".")[0]) or "Form"
        if name.startswith("targets."):
            label = f"Target for {name.removeprefix('targets.')}"
        found.setdefault(name, f"{label}: {message.removeprefix(label.lower() + ': ')}")
    return found


def _number(text: str) -> int | str | None:
    """A posted number as an int; text that is not one as is (the model names the field)."""
    text = text.strip().replace(",", "")
    if not text:
        return None
    return int(text) if WHOLE.fullmatch(text) else text


def _fields_of(fields: Mapping[str, list[str]], names: Iterable[str]) -> dict[str, str]:
    return {name: first(dict(fields), name) for name in names}


def validated(model: type[M], data: dict[str, Any], labels: Mapping[str, str]) -> M | Problems:
    """The request model, or what is wrong with the fields."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        return problems_of(exc, labels)


# -- the form of roadmap settings ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingsForm:
    """The roadmap settings as the form shows them: every value as the text in its field."""

    targets: dict[str, str] = field(default_factory=dict)
    budget: str = ""
    excluded_services: frozenset[str] = frozenset()
    notes: str = ""
    staff_hours_per_month: str = ""
    concurrent_actions: str = ""
    hourly_rate: str = ""
    budget_scope: str = "center_fees"

    @classmethod
    def of(cls, settings: RoadmapSettingsRead) -> SettingsForm:
        def text(value: int | None) -> str:
            return "" if value is None else str(value)

        return cls(
            targets={d: str(level) for d, level in settings.targets.items()},
            budget=text(settings.budget),
            excluded_services=frozenset(settings.excluded_services),
            notes=settings.notes or "",
            staff_hours_per_month=text(settings.staff_hours_per_month),
            concurrent_actions=text(settings.concurrent_actions),
            hourly_rate=text(settings.hourly_rate),
            budget_scope=settings.budget_scope,
        )

    @classmethod
    def posted(cls, fields: Mapping[str, list[str]]) -> SettingsForm:
        """From posted (or queried) fields: ``target-<dimension>``, ``exclude`` (repeated)..."""
        one = _fields_of(fields, [*SETTINGS_NUMBERS, "budget_scope"])
        notes = (fields.get("notes") or [""])[0]
        return cls(
            targets={
                name.removeprefix("target-"): values[0].strip()
                for name, values in fields.items()
                if name.startswith("target-") and values and values[0].strip()
            },
            budget=one["budget"],
            excluded_services=frozenset(v.strip() for v in fields.get("exclude", []) if v.strip()),
            notes=notes,
            staff_hours_per_month=one["staff_hours_per_month"],
            concurrent_actions=one["concurrent_actions"],
            hourly_rate=one["hourly_rate"],
            budget_scope=one["budget_scope"] or "center_fees",
        )

    def request(self) -> RoadmapSettingsUpdate | Problems:
        """The settings as the body of PUT /v1/organizations/{id}/roadmap-settings."""
        return validated(
            RoadmapSettingsUpdate,
            {
                "targets": {d: _number(level) for d, level in self.targets.items()},
                "excluded_services": sorted(self.excluded_services),
                "notes": self.notes or None,
                "budget_scope": self.budget_scope,
                **{name: _number(getattr(self, name)) for name in SETTINGS_NUMBERS},
            },
            SETTINGS_LABELS,
        )


@dataclass(frozen=True, slots=True)
class Choices:
    """What the settings form offers: every served dimension and catalogue service."""

    dimensions: list[tuple[str, str]]  # (id, title)
    services: list[tuple[str, str]]


def choices(registry: QuestionnaireRegistry) -> Choices:
    dimensions: dict[str, str] = {}
    services: dict[str, str] = {}
    for loaded in registry.latest():
        dimensions.update({d.id: d.title for d in loaded.definition.dimensions})
        if loaded.catalogue is not None:
            services.update({s.id: s.title for s in loaded.catalogue.services})
    return Choices(list(dimensions.items()), sorted(services.items(), key=lambda s: s[1]))


# -- the preview ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DimensionRow:
    title: str
    current: str
    target: str
    projected: str


@dataclass(frozen=True, slots=True)
class Preview:
    """The plan the settings would give the latest submitted assessment, or why there is none."""

    roadmap: Roadmap | None = None
    note: str | None = None
    assessed_on: str = ""

    @property
    def rows(self) -> list[DimensionRow]:
        if self.roadmap is None:
            return []
        projected = {p.dimension_id: p for p in self.roadmap.projected}
        return [
            DimensionRow(
                c.title,
                f"{c.level} {c.level_name}",
                str(self.roadmap.targets.get(c.dimension_id, c.level)),
                f"{projected[c.dimension_id].level} {projected[c.dimension_id].level_name}"
                if c.dimension_id in projected
                else EN_DASH,
            )
            for c in self.roadmap.current
        ]

    def money(self, amount: int | None) -> str:
        if amount is None:
            return "no limit"
        return format_money(amount, self.roadmap.currency if self.roadmap else "USD")


def preview(
    session: Session,
    registry: QuestionnaireRegistry,
    organization: Organization,
    settings: RoadmapSettingsUpdate,
) -> Preview:
    """The roadmap of the latest submitted assessment, planned as GET .../roadmap plans it,
    with ``settings`` in place of the stored ones; nothing is saved."""
    assessments = submitted_assessments(session, organization.id)
    if not assessments:
        return Preview(note="There is no submitted assessment yet to plan a roadmap for.")
    latest = assessments[-1]
    try:
        inputs = gather_inputs(session, registry, latest)
    except NotFound as exc:
        return Preview(note=exc.detail)
    roadmap = plan(with_settings(inputs, settings), PlanRequest())
    day = inputs.assessed_on
    return Preview(roadmap=roadmap, assessed_on=f"{day:%B} {day.day}, {day.year}")


# -- the organization page -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvitationRow:
    invitation: Invitation
    status: InvitationStatus
    progress: list[SectionProgress] | None

    @property
    def revocable(self) -> bool:
        return self.status in OPEN


def trend(history: History) -> Any:
    """The history as a chart: overall and per-dimension scores over the assessments."""
    if not history.items:
        return None
    labels = [
        f"{e.submitted_at:%b} {e.submitted_at.day}, {e.submitted_at.year}"
        if e.submitted_at
        else "draft"
        for e in history.items
    ]
    titles: dict[str, str] = {}
    for entry in history.items:
        titles.update({d.dimension_id: d.title for d in entry.dimensions})
    series = [TrendSeries("Overall", "#1f2d3d", [e.overall_score for e in history.items])]
    for index, (dimension_id, title) in enumerate(titles.items()):
        scores = [
            next((d.score for d in e.dimensions if d.dimension_id == dimension_id), None)
            for e in history.items
        ]
        series.append(TrendSeries(title, DIMENSION_COLORS[index % len(DIMENSION_COLORS)], scores))
    return trend_chart(labels, series)


def organization_page(
    request: Request,
    console: Console,
    session: Session,
    registry: QuestionnaireRegistry,
    organization: Organization,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The organization's page, with forms as given in ``context`` (else as stored)."""
    sends_email = request.app.state.settings.sends_email
    rows = [
        InvitationRow(
            invitation,
            invitations.invitation_status(session, invitation),
            draft_progress(session, registry, invitation),
        )
        for invitation in invitations.list_invitations(session, organization)
    ]
    history = organization_history(session, organization)
    context.setdefault("profile", _profile_of(organization))
    context.setdefault("settings_values", SettingsForm.of(read_settings(organization)))
    response = page(
        request,
        "console/organization.html",
        console,
        status_code=status_code,
        title=organization.name,
        section="portfolio",
        organization=organization,
        type_label=ORGANIZATION_TYPE_LABELS.get(
            OrganizationType(organization.type), organization.type
        ),
        types=ORGANIZATION_TYPE_LABELS,
        invitations=rows,
        drafts=[row for row in rows if row.progress is not None and row.status in OPEN],
        questionnaires=[(q.definition.id, q.definition.title) for q in registry.latest()],
        # Each invitation's emails, oldest first; None when none was ever sent and the
        # service cannot send any (the table then has no email column).
        emails=_emails(session, organization, sends_email),
        sends_email=sends_email,
        history=history,
        chart=trend(history),
        benchmark=organization_benchmark(session, registry, organization),
        choices=choices(registry),
        saved=request.query_params.get("saved"),
        score=format_score,
        **_defaults(context),
    )
    return response


def _defaults(context: dict[str, Any]) -> dict[str, Any]:
    return {
        "profile_problems": Problems(),
        "invitation_problems": Problems(),
        "settings_problems": Problems(),
        "invitation_form": {"expires_in_days": "", "questionnaire": "", "email": ""},
        "created_link": None,
        "preview": None,
        **context,
    }


def _profile_of(organization: Organization) -> dict[str, str]:
    return {
        "name": organization.name,
        "type": organization.type,
        "licensed_beds": str(organization.licensed_beds),
        "state": organization.state,
    }


@router.get("/console/organizations/new")
def new_organization_page(request: Request, console: ConsoleDep) -> Response:
    """The form for a new client organization."""
    return _new_form(request, console, {"name": "", "type": "", "licensed_beds": "", "state": ""})


def _new_form(
    request: Request,
    console: Console,
    values: dict[str, str],
    problems: Problems | None = None,
) -> Response:
    return page(
        request,
        "console/organization_new.html",
        console,
        status_code=422 if problems else 200,
        title="New client organization",
        section="portfolio",
        values=values,
        types=ORGANIZATION_TYPE_LABELS,
        problems=problems or Problems(),
    )


@router.post("/console/organizations/new")
def create_organization(
    request: Request, console: ConsoleDep, fields: ConsoleFormDep, session: SessionDep
) -> Response:
    """Create the organization as POST /v1/organizations does, then show its page."""
    values = _fields_of(fields, PROFILE_LABELS)
    data = {k: (_number(v) if k == "licensed_beds" else v) for k, v in values.items() if v}
    body = validated(OrganizationCreate, data, PROFILE_LABELS)
    if isinstance(body, Problems):
        return _new_form(request, console, values, body)
    created = organizations.create_organization(session, console.principal, body)
    record_of(request).acted_on(created.id, created.id)
    return see_other(f"/console/organizations/{created.id}")


@router.get("/console/organizations/{organization_id}")
def organization_view(
    request: Request,
    console: ConsoleDep,
    organization: OrganizationDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """One organization: profile, invitations, assessments, roadmap settings and peers."""
    return organization_page(request, console, session, registry, organization)


@router.post("/console/organizations/{organization_id}/profile")
def update_organization(
    request: Request,
    console: ConsoleDep,
    organization: OrganizationDep,
    fields: ConsoleFormDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """Change the profile as PATCH /v1/organizations/{id} does (the fields posted)."""
    values = _fields_of(fields, PROFILE_LABELS)
    data = {
        k: (_number(v) if k == "licensed_beds" else v) for k, v in values.items() if k in fields
    }
    body = validated(OrganizationUpdate, data, PROFILE_LABELS)
    if isinstance(body, Problems):
        return _refused(
            request, console, session, registry, organization, profile=values, profile_problems=body
        )
    organizations.update_organization(session, console.principal, organization, body)
    return see_other(f"/console/organizations/{organization.id}?saved=profile#profile")


@router.post("/console/organizations/{organization_id}/invitations")
def create_invitation(
    request: Request,
    console: ConsoleDep,
    organization: OrganizationDep,
    fields: ConsoleFormDep,
    session: SessionDep,
    registry: RegistryDep,
    settings: SettingsDep,
) -> Response:
    """A new link, made as POST /v1/organizations/{id}/invitations makes it.

    The link is in this response only (status 201, not stored, not cached): it holds the
    token, which only the person it is sent to should see again.
    """
    values = _fields_of(fields, INVITATION_LABELS)
    data: dict[str, Any] = {"expires_in_days": _number(values["expires_in_days"])}
    if values["questionnaire"]:
        data["questionnaire"] = {"id": values["questionnaire"]}
    if values["email"]:
        data["email"] = values["email"]
    body = validated(InvitationCreate, data, INVITATION_LABELS)
    if isinstance(body, Problems):
        return _refused(
            request,
            console,
            session,
            registry,
            organization,
            invitation_form=values,
            invitation_problems=body,
        )
    try:
        if body.email is not None:
            mail.require_mail(settings)
        issued = invitations.create_invitation(
            session,
            registry,
            console.principal,
            organization,
            key=settings.signing_key(),
            questionnaire_id=body.questionnaire.id if body.questionnaire else None,
            version=body.questionnaire.version if body.questionnaire else None,
            days=body.expires_in_days or settings.invitation_days,
        )
    except InvalidRequest as exc:
        return _refused(
            request,
            console,
            session,
            registry,
            organization,
            invitation_form=values,
            invitation_problems=problems_of(exc, INVITATION_LABELS),
        )
    record_of(request).acted_on(issued.invitation.id, organization.id)
    link = invitation_link(request, settings, issued.token)
    if body.email is not None:
        email_invitation(
            request,
            session,
            settings,
            issued.invitation,
            link,
            body.email,
            invited_by=console.user.name,
        )
    response = organization_page(
        request,
        console,
        session,
        registry,
        organization,
        status_code=201,
        created_link=link,
        created_id=issued.invitation.id,
        emailed_to=body.email,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(
    request: Request,
    console: Console,
    session: Session,
    registry: QuestionnaireRegistry,
    organization: Organization,
    **forms: Any,
) -> Response:
    """The organization's page again (422), with a refused form as typed and its problems."""
    return organization_page(
        request, console, session, registry, organization, status_code=422, **forms
    )


@router.post("/console/invitations/{invitation_id}/revoke")
def revoke_invitation(
    request: Request,
    invitation_id: uuid.UUID,
    console: ConsoleDep,
    lookup: ConsoleLookupDep,
    _: ConsoleFormDep,
    session: SessionDep,
) -> Response:
    """Revoke the link as DELETE /v1/invitations/{id} does; its answers are kept."""
    invitation = lookup.invitation(invitation_id)
    invitations.revoke_invitation(session, console.principal, invitation)
    record_of(request).acted_on(invitation.id, invitation.organization_id)
    return see_other(
        f"/console/organizations/{invitation.organization_id}?saved=revoked#invitations"
    )


@router.post("/console/organizations/{organization_id}/roadmap-settings")
def put_roadmap_settings(
    request: Request,
    console: ConsoleDep,
    organization: OrganizationDep,
    fields: ConsoleFormDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """Replace the settings as PUT /v1/organizations/{id}/roadmap-settings does."""
    form = SettingsForm.posted(fields)
    body = form.request()
    if not isinstance(body, Problems):
        try:
            replace_settings(session, registry, console.principal, organization, body)
        except InvalidRequest as exc:
            body = problems_of(exc, SETTINGS_LABELS)
    if isinstance(body, Problems):
        return _refused(
            request,
            console,
            session,
            registry,
            organization,
            settings_values=form,
            settings_problems=body,
        )
    return see_other(f"/console/organizations/{organization.id}?saved=settings#roadmap-settings")


@router.get("/console/organizations/{organization_id}/roadmap-preview")
def roadmap_preview(
    request: Request,
    console: ConsoleDep,
    organization: OrganizationDep,
    session: SessionDep,
    registry: RegistryDep,
) -> Response:
    """The plan the settings in the query would give, without saving them: a page with the
    form still filled in, or (asked by the preview script) the preview panel alone."""
    fields: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name != "csrf_token":
            fields.setdefault(name, []).append(value)
    form = SettingsForm.posted(fields)
    body = form.request()
    result: Preview | None = None
    if not isinstance(body, Problems):
        try:
            check_settings(registry, body)
            result = preview(session, registry, organization, body)
        except InvalidRequest as exc:
            body = problems_of(exc, SETTINGS_LABELS)
    problems = body if isinstance(body, Problems) else Problems()
    fragment = request.headers.get(FRAGMENT_HEADER) == "1"
    return page(
        request,
        f"console/organization_preview{'_panel' if fragment else ''}.html",
        console,
        status_code=422 if problems else 200,
        title=f"Roadmap preview: {organization.name}",
        section="portfolio",
        organization=organization,
        settings_values=form,
        settings_problems=problems,
        choices=choices(registry),
        preview=result,
    )


def _emails(
    session: Session, organization: Organization, sends_email: bool
) -> dict[uuid.UUID, list[EmailMessage]] | None:
    by_invitation: dict[uuid.UUID, list[EmailMessage]] = {}
    for message in reversed(mail.messages_for(session, organization.id)):
        if message.invitation_id is not None:
            by_invitation.setdefault(message.invitation_id, []).append(message)
    return by_invitation if by_invitation or sends_email else None
