"""What a roadmap and its report are made from: the options asked for, the stored inputs,
the plan, the HTML, and the cache key.

Reports are cached by a hash of everything that determines their bytes: the definition
and catalogue versions, the answers, the organization as the report shows it, its roadmap
settings and notes, the trend and peer percentiles the report shows, the plan options, the
engine and the template version. Nothing here writes to the database or renders a PDF
(``app.reports.service`` does, through ``get_or_render``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Hashable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from app.benchmarks.percentile import Benchmark
from app.benchmarks.service import assessment_benchmark
from app.errors import Conflict, FieldError, InvalidRequest, NotFound
from app.history.service import submitted_assessments
from app.intake.models import Assessment, AssessmentStatus
from app.intake.service import stored_values
from app.memo import Memo
from app.organizations.models import Organization
from app.organizations.roadmap_settings import (
    RoadmapSettingsRead,
    RoadmapSettingsUpdate,
    read_settings,
)
from app.questionnaire.answers import NA, AnswerValue
from app.questionnaire.catalogue import Catalogue
from app.questionnaire.registry import QuestionnaireRegistry
from app.questionnaire.schemas import QuestionnaireDefinition
from app.reports.render import render_html, template_version
from app.reports.view import OrganizationInfo, TrendPoint, build_report_view
from app.roadmap.planner import PlanningError, PlanOptions, plan_roadmap
from app.roadmap.results import Roadmap
from app.scoring.engine import ENGINE_VERSION, score_answers

_TARGET = re.compile(r"^(?P<dimension>[a-z][a-z0-9_]*)[=:](?P<level>[1-5])$")


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What a caller asks of a roadmap: targets per dimension, a budget, excluded services.

    ``include_narratives`` is asked per report, never stored: only then does the PDF print
    free-text answers and comments, which may hold what a board report must not.
    """

    targets: dict[str, int] = field(default_factory=dict)
    budget: int | None = None
    excluded_services: tuple[str, ...] = ()
    include_narratives: bool = False
    # Capacity, staff-hour rate and budget scope; None: the stored setting or the default.
    staff_hours_per_month: int | None = None
    concurrent_actions: int | None = None
    hourly_rate: int | None = None
    budget_scope: str | None = None

    @classmethod
    def parse(
        cls,
        targets: list[str],
        budget: int | None,
        exclude: list[str],
        include_narratives: bool = False,
        **capacity: Any,
    ) -> PlanRequest:
        """From query or command-line values like ``security=4``; InvalidRequest names the field."""
        parsed: dict[str, int] = {}
        problems = []
        for value in targets:
            match = _TARGET.match(value.strip())
            if match is None:
                problems.append(
                    FieldError(
                        field="target", message=f"target: {value!r} is not dimension=level (1-5)"
                    )
                )
            else:
                parsed[match["dimension"]] = int(match["level"])
        if problems:
            raise InvalidRequest(
                "The roadmap options are not valid.", errors=[p.model_dump() for p in problems]
            )
        return cls(parsed, budget, tuple(sorted(set(exclude))), include_narratives, **capacity)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def over(self, defaults: PlanRequest) -> PlanRequest:
        """This request, with ``defaults`` (an organization's settings) where it gives nothing.

        Field by field: a target per dimension overrides that dimension's stored target,
        a budget overrides the stored budget, and a list of exclusions replaces the stored one.
        """
        return PlanRequest(
            {**defaults.targets, **self.targets},
            self.budget if self.budget is not None else defaults.budget,
            self.excluded_services or defaults.excluded_services,
            self.include_narratives,
            _given(self.staff_hours_per_month, defaults.staff_hours_per_month),
            _given(self.concurrent_actions, defaults.concurrent_actions),
            _given(self.hourly_rate, defaults.hourly_rate),
            self.budget_scope or defaults.budget_scope,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlanRequest:
        return cls(
            dict(data["targets"]),
            data["budget"],
            tuple(data["excluded_services"]),
            bool(data.get("include_narratives", False)),  # jobs queued before it existed
            data.get("staff_hours_per_month"),
            data.get("concurrent_actions"),
            data.get("hourly_rate"),
            data.get("budget_scope"),
        )


def _given(value: int | None, default: int | None) -> int | None:
    return value if value is not None else default


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """Everything a roadmap and its report are made from, read from the database."""

    definition: QuestionnaireDefinition
    definition_hash: str
    catalogue: Catalogue
    catalogue_hash: str
    answers: dict[str, AnswerValue]
    comments: dict[str, str]
    organization: OrganizationInfo
    assessed_on: date
    notes: str | None = None
    settings: PlanRequest = field(default_factory=PlanRequest)
    trend: tuple[TrendPoint, ...] = ()
    peers: Benchmark | None = None


def gather_inputs(
    session: Session, registry: QuestionnaireRegistry, assessment: Assessment
) -> ReportInputs:
    """The inputs for a submitted assessment; Conflict for a draft, NotFound without a catalogue."""
    organization = session.get_one(Organization, assessment.organization_id)
    inputs = plan_inputs(registry, organization, assessment)
    trend = tuple(
        TrendPoint(
            day=earlier.submitted_at.date(),
            dimensions=tuple(
                (d["dimension_id"], float(d["score"]), int(d["level"]))
                for d in earlier.scores["dimensions"]
            ),
        )
        for earlier in submitted_assessments(
            session,
            organization.id,
            questionnaire_id=assessment.questionnaire_id,
            up_to=assessment.submitted_at,
        )
        if earlier.submitted_at is not None
    )
    return replace(
        inputs,
        trend=trend,
        peers=assessment_benchmark(session, registry, organization, assessment),
    )


def plan_inputs(
    registry: QuestionnaireRegistry, organization: Organization, assessment: Assessment
) -> ReportInputs:
    """What a plan of a submitted assessment is made from, without the trend and peers only
    the report shows (so it reads nothing more from the database); NotFound without a
    catalogue."""
    if assessment.status != AssessmentStatus.SUBMITTED or assessment.submitted_at is None:
        raise Conflict(
            "Roadmaps and reports are made for submitted assessments; submit this draft first."
        )
    loaded = registry.get(assessment.questionnaire_id, assessment.questionnaire_version)
    if loaded.catalogue is None or loaded.catalogue_hash is None:
        raise NotFound(
            f"There is no action catalogue for {loaded.definition.id!r} "
            f"version {loaded.definition.version}, so no roadmap can be planned."
        )
    return ReportInputs(
        definition=loaded.definition,
        definition_hash=loaded.content_hash,
        catalogue=loaded.catalogue,
        catalogue_hash=loaded.catalogue_hash,
        answers=stored_values(assessment),
        comments={a.question_id: a.comment for a in assessment.answers if a.comment},
        organization=OrganizationInfo(
            name=organization.name,
            type=organization.type,
            licensed_beds=organization.licensed_beds,
            state=organization.state,
        ),
        assessed_on=assessment.submitted_at.date(),
        notes=organization.consultant_notes,
        settings=stored_settings(organization, loaded.definition, loaded.catalogue),
    )


def stored_settings(
    organization: Organization, definition: QuestionnaireDefinition, catalogue: Catalogue
) -> PlanRequest:
    """The organization's roadmap settings, as far as they apply to this questionnaire version.

    Settings are checked against every served questionnaire when saved; a target for a
    dimension (or an exclusion of a service) this version does not have is left out here
    rather than failing every roadmap of the organization.
    """
    return settings_request(read_settings(organization), definition, catalogue)


def settings_request(
    settings: RoadmapSettingsRead | RoadmapSettingsUpdate,
    definition: QuestionnaireDefinition,
    catalogue: Catalogue,
) -> PlanRequest:
    """Roadmap settings (stored, or about to be) as the defaults a plan starts from, limited
    to what this questionnaire version and its catalogue have."""
    dimensions = {d.id for d in definition.dimensions}
    services = {s.id for s in catalogue.services}
    return PlanRequest(
        {d: int(level) for d, level in settings.targets.items() if d in dimensions},
        settings.budget,
        tuple(sorted({s for s in settings.excluded_services if s in services})),
        staff_hours_per_month=settings.staff_hours_per_month,
        concurrent_actions=settings.concurrent_actions,
        hourly_rate=settings.hourly_rate,
        # The default scope is left out, so that reports cached before it existed stay valid.
        budget_scope=None if settings.budget_scope == "center_fees" else settings.budget_scope,
    )


def with_settings(
    inputs: ReportInputs, settings: RoadmapSettingsRead | RoadmapSettingsUpdate
) -> ReportInputs:
    """The same inputs as if the organization's roadmap settings were ``settings`` (a preview
    of settings not saved yet); nothing is stored."""
    return replace(inputs, settings=settings_request(settings, inputs.definition, inputs.catalogue))


def plan(inputs: ReportInputs, request: PlanRequest) -> Roadmap:
    """The roadmap for these inputs; InvalidRequest (422) names a bad option.

    The organization's stored settings fill in whatever the request leaves out. The plan
    is remembered (``_PLANS``): the results page, the report, the console and the API ask
    for the same one again and again.
    """
    request = request.over(inputs.settings)
    options = PlanOptions(
        licensed_beds=inputs.organization.licensed_beds,
        targets=request.targets,
        budget=request.budget,
        excluded_services=frozenset(request.excluded_services),
        staff_hours_per_month=request.staff_hours_per_month,
        concurrent_actions=request.concurrent_actions,
        hourly_rate=request.hourly_rate,
        budget_scope=request.budget_scope or "center_fees",
    )
    try:
        return _PLANS.get(
            _plan_key(inputs, options),
            lambda: plan_roadmap(inputs.definition, inputs.catalogue, inputs.answers, options),
        )
    except PlanningError as exc:
        error = FieldError(field=exc.field, message=str(exc))
        raise InvalidRequest(
            "The roadmap options are not valid.", errors=[error.model_dump()]
        ) from exc


# Planning takes 10-90 ms, and a respondent waiting for the PDF reloads the results page
# (which shows the plan) every few seconds. A plan is a pure function of the key below:
# the questionnaire and catalogue by content hash, the answers and the options. Roadmaps
# are frozen dataclasses, so one can be shared.
_PLANS: Memo[tuple[Hashable, ...], Roadmap] = Memo(256)


def _plan_key(inputs: ReportInputs, options: PlanOptions) -> tuple[Hashable, ...]:
    answers = tuple(
        (qid, tuple(value) if isinstance(value, list) else value)
        for qid, value in sorted(inputs.answers.items())  # question ids are unique
    )
    return (
        inputs.definition_hash,
        inputs.catalogue_hash,
        answers,
        options.licensed_beds,
        tuple(sorted(options.targets.items())),
        options.budget,
        tuple(sorted(options.excluded_services)),
        options.staff_hours_per_month,
        options.concurrent_actions,
        options.hourly_rate,
        options.budget_scope,
    )


def report_html(inputs: ReportInputs, request: PlanRequest) -> str:
    """The report as HTML: score, plan, view model, template."""
    score = score_answers(inputs.definition, inputs.answers)
    roadmap = plan(inputs, request)
    view = build_report_view(
        inputs.definition,
        score,
        roadmap,
        inputs.organization,
        inputs.answers,
        inputs.comments,
        inputs.assessed_on,
        inputs.notes,
        inputs.trend,
        inputs.peers,
        include_narratives=request.include_narratives,
    )
    return render_html(view)


@cache
def _template_version() -> str:
    return template_version()


def cache_key(inputs: ReportInputs, request: PlanRequest) -> str:
    """SHA-256 of everything that determines a report's bytes."""
    material = {
        "definition": inputs.definition_hash,
        "catalogue": inputs.catalogue_hash,
        "answers": sorted(
            [qid, None if value is NA else value, value is NA]
            for qid, value in inputs.answers.items()
        ),
        "comments": sorted(inputs.comments.items()),
        "organization": asdict(inputs.organization),
        "assessed_on": inputs.assessed_on.isoformat(),
        "notes": inputs.notes,
        "plan": request.over(inputs.settings).to_dict(),
        "trend": [asdict(point) for point in inputs.trend],
        "peers": asdict(inputs.peers) if inputs.peers is not None else None,
        "engine": ENGINE_VERSION,
        "templates": _template_version(),
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
