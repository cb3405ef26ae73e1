"""The portfolio: every organization the principal may see, with its levels over time.

A fixed number of queries whatever the number of organizations: the organizations in
scope (filtered by name and type), their last two submitted assessments, their
invitations, and for the rows of the page only, the latest assessments' answers. The next
step is planned (10-90 ms each, then remembered by its inputs) for the rows of the page
only.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.service import Principal, visible_organizations
from app.db import utcnow
from app.errors import FieldError, InvalidRequest, NotFound
from app.history.service import HistoryEntry, latest_submitted
from app.intake.models import Assessment
from app.invitations.schemas import InvitationStatus
from app.invitations.service import invitation_counts
from app.memo import Memo
from app.organizations.models import Organization
from app.portfolio.schemas import (
    STALE_AFTER_DAYS,
    Attention,
    Column,
    DimensionCell,
    DimensionTotal,
    InvitationCounts,
    NextStep,
    Portfolio,
    PortfolioQuery,
    PortfolioRow,
    PortfolioTotals,
    Trend,
)
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.inputs import PlanRequest, ReportInputs, cache_key, plan, plan_inputs

FIXED_SORTS = ("name", "updated")


def columns(registry: QuestionnaireRegistry) -> tuple[Column, ...]:
    """The dimensions of every served questionnaire (latest versions), first seen first."""
    seen: dict[str, Column] = {}
    for loaded in registry.latest():
        for dimension in loaded.definition.dimensions:
            seen.setdefault(dimension.id, Column(dimension_id=dimension.id, title=dimension.title))
    return tuple(seen.values())


def sort_keys(registry: QuestionnaireRegistry) -> tuple[str, ...]:
    """What a portfolio sorts by: name, updated, or any dimension id."""
    return (*FIXED_SORTS, *(c.dimension_id for c in columns(registry)))


def portfolio(
    session: Session,
    registry: QuestionnaireRegistry,
    principal: Principal,
    *,
    query: PortfolioQuery,
) -> Portfolio:
    """A page of the organizations ``principal`` may see, filtered and sorted as asked;
    InvalidRequest (422) naming ``sort`` for a key that is neither a column nor name/updated."""
    dimension_columns = columns(registry)
    if query.sort not in sort_keys(registry):
        raise InvalidRequest(
            "The portfolio cannot be sorted that way.",
            errors=[
                FieldError(
                    field="sort",
                    message=f"sort: {query.sort!r} is not one of {', '.join(sort_keys(registry))}",
                ).model_dump()
            ],
        )
    in_scope = select(Organization.id).where(visible_organizations(principal))
    if query.q:
        in_scope = in_scope.where(Organization.name.icontains(query.q.strip(), autoescape=True))
    if query.types:
        in_scope = in_scope.where(Organization.type.in_([t.value for t in query.types]))
    organizations = list(
        session.scalars(select(Organization).where(Organization.id.in_(in_scope.scalar_subquery())))
    )
    history = latest_submitted(session, in_scope, per_organization=2)
    invitations = invitation_counts(session, in_scope)
    now = utcnow()
    rows = [
        _row(o, history.get(o.id, []), invitations.get(o.id, Counter()), now) for o in organizations
    ]
    if query.needs_attention is not None:
        rows = [r for r in rows if bool(r.attention) is query.needs_attention]
    ordered = _sorted(rows, query.sort, descending=query.order == "desc")
    page = ordered[query.offset : query.offset + query.limit]
    steps = _next_steps(session, registry, {o.id: o for o in organizations}, page)
    return Portfolio(
        columns=dimension_columns,
        rows=tuple(r.model_copy(update={"next_step": steps.get(r.organization_id)}) for r in page),
        total=len(ordered),
        limit=query.limit,
        offset=query.offset,
        sort=query.sort,
        order=query.order,
        totals=_totals(rows, dimension_columns),
    )


def _row(
    organization: Organization,
    history: Sequence[HistoryEntry],
    invitations: Counter[InvitationStatus],
    now: datetime,
) -> PortfolioRow:
    latest = history[0] if history else None
    previous = history[1] if len(history) > 1 else None
    before = {d.dimension_id: d.level for d in previous.dimensions} if previous else {}
    cells = tuple(
        DimensionCell(
            dimension_id=d.dimension_id,
            title=d.title,
            level=d.level,
            level_name=d.level_name,
            score=d.score,
            previous_level=before.get(d.dimension_id),
            trend=_trend(d.level, before.get(d.dimension_id)),
        )
        for d in (latest.dimensions if latest else [])
    )
    return PortfolioRow(
        organization_id=organization.id,
        name=organization.name,
        type=organization.type,
        licensed_beds=organization.licensed_beds,
        state=organization.state,
        latest_assessment_id=latest.assessment_id if latest else None,
        assessed_at=latest.submitted_at if latest else None,
        previous_assessment_id=previous.assessment_id if previous else None,
        overall_level=latest.overall_level if latest else None,
        dimensions=cells,
        invitations=_counts(invitations),
        next_step=None,
        attention=_attention(latest, cells, now),
    )


def _trend(level: int, previous: int | None) -> Trend:
    if previous is None:
        return "new"
    return "up" if level > previous else "down" if level < previous else "same"


def _counts(counts: Counter[InvitationStatus]) -> InvitationCounts:
    pending, started = counts[InvitationStatus.PENDING], counts[InvitationStatus.STARTED]
    return InvitationCounts(
        open=pending + started,
        pending=pending,
        started=started,
        submitted=counts[InvitationStatus.SUBMITTED],
        expired=counts[InvitationStatus.EXPIRED],
        revoked=counts[InvitationStatus.REVOKED],
    )


def _attention(
    latest: HistoryEntry | None, cells: Sequence[DimensionCell], now: datetime
) -> tuple[Attention, ...]:
    if latest is None:
        return ("never_assessed",)
    reasons: list[Attention] = []
    if any(c.trend == "down" for c in cells):
        reasons.append("level_down")
    if any(c.level == 1 for c in cells):
        reasons.append("lowest_level")
    if latest.submitted_at is not None and now - latest.submitted_at > timedelta(
        days=STALE_AFTER_DAYS
    ):
        reasons.append("stale")
    return tuple(reasons)


def level_of(row: PortfolioRow, dimension_id: str) -> int | None:
    """The row's current level in one dimension; None when it has none."""
    return next((c.level for c in row.dimensions if c.dimension_id == dimension_id), None)


def _sorted(rows: list[PortfolioRow], sort: str, *, descending: bool) -> list[PortfolioRow]:
    """By name (then id) for equal keys; rows without the key (no level, never assessed)
    come last in either order."""
    by_name = sorted(rows, key=lambda r: (r.name.casefold(), str(r.organization_id)))
    if sort == "name":
        return by_name[::-1] if descending else by_name
    key: Callable[[PortfolioRow], Any] = (
        (lambda r: r.assessed_at) if sort == "updated" else (lambda r: level_of(r, sort))
    )
    present = [r for r in by_name if key(r) is not None]
    missing = [r for r in by_name if key(r) is None]
    # sorted() is stable in reverse too: equal keys keep their name order.
    return sorted(present, key=key, reverse=descending) + missing


def _next_steps(
    session: Session,
    registry: QuestionnaireRegistry,
    organizations: dict[uuid.UUID, Organization],
    page: Sequence[PortfolioRow],
) -> dict[uuid.UUID, NextStep]:
    """The next step of each row of the page: one query (the assessments, answers included)."""
    wanted = [r.latest_assessment_id for r in page if r.latest_assessment_id is not None]
    if not wanted:
        return {}
    assessments = session.scalars(select(Assessment).where(Assessment.id.in_(wanted)))
    steps = {}
    for assessment in assessments:
        step = next_step(registry, organizations[assessment.organization_id], assessment)
        if step is not None:
            steps[assessment.organization_id] = step
    return steps


def next_step(
    registry: QuestionnaireRegistry, organization: Organization, assessment: Assessment
) -> NextStep | None:
    """The first action of the assessment's roadmap with the organization's stored settings;
    None when there is no catalogue, the settings cannot be planned, or nothing is left to do."""
    try:
        inputs = plan_inputs(registry, organization, assessment)
    except NotFound:
        return None
    return _STEPS.get(cache_key(inputs, PlanRequest()), lambda: _first_action(inputs))


# Planning takes some 10-90 ms; a portfolio page is read again and again with the same
# inputs. Keyed by the report cache key (everything that determines the plan, and more),
# so a changed answer, setting or size is a new key, never a stale step.
_STEPS: Memo[str, NextStep | None] = Memo(2048)


def _first_action(inputs: ReportInputs) -> NextStep | None:
    try:
        roadmap = plan(inputs, PlanRequest())
    except InvalidRequest:
        return None
    for phase in roadmap.phases:
        for action in phase.actions:
            return NextStep(
                action_id=action.action_id,
                title=action.title,
                dimension_id=action.dimension_id,
                phase_id=phase.phase_id,
                phase_title=phase.title,
                start_month=action.start_month,
                end_month=action.end_month,
                cost=action.cost,
                currency=roadmap.currency,
            )
    return None


def _totals(rows: Sequence[PortfolioRow], dimension_columns: Sequence[Column]) -> PortfolioTotals:
    invitations = Counter[str]()
    for row in rows:
        invitations.update(row.invitations.model_dump())
    dimensions = []
    for column in dimension_columns:
        cells = [c for r in rows for c in r.dimensions if c.dimension_id == column.dimension_id]
        dimensions.append(
            DimensionTotal(
                dimension_id=column.dimension_id,
                title=column.title,
                assessed=len(cells),
                mean_level=round(sum(c.level for c in cells) / len(cells), 2) if cells else None,
                levels=dict(sorted(Counter(c.level for c in cells).items())),
                up=sum(c.trend == "up" for c in cells),
                down=sum(c.trend == "down" for c in cells),
            )
        )
    assessed = sum(r.latest_assessment_id is not None for r in rows)
    return PortfolioTotals(
        organizations=len(rows),
        assessed=assessed,
        never_assessed=len(rows) - assessed,
        needs_attention=sum(bool(r.attention) for r in rows),
        invitations=InvitationCounts(**invitations),
        dimensions=tuple(dimensions),
    )
