"""What a portfolio is asked for and what it answers: one row per client organization.

The models are frozen: the REST door returns them as they are and the console renders them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.organizations.schemas import OrganizationType

Trend = Literal["up", "down", "same", "new"]
Attention = Literal["never_assessed", "level_down", "lowest_level", "stale"]
SortOrder = Literal["asc", "desc"]

# How many rows a page may hold: each one is planned (a few milliseconds) for its next step.
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
# A latest submitted assessment older than this is "stale".
STALE_AFTER_DAYS = 365


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class PortfolioQuery(_Frozen):
    """Which organizations, in what order, which page. ``sort``: ``name``, ``updated`` (the
    latest submitted assessment's date) or a dimension id (its current level)."""

    q: str | None = Field(default=None, description="Part of the name, in any case.")
    types: tuple[OrganizationType, ...] = Field(
        default=(), description="Only organizations of these types (any, when empty)."
    )
    needs_attention: bool | None = Field(
        default=None,
        description="True: only rows with an attention reason; false: only rows without.",
    )
    sort: str = "name"
    order: SortOrder = "asc"
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0)


class Column(_Frozen):
    """A dimension column of the table, in the questionnaire's order."""

    dimension_id: str
    title: str


class DimensionCell(_Frozen):
    """One dimension of one row: the current level, the one before it and which way it went.

    ``trend`` is ``new`` when there is no earlier submitted assessment with this dimension.
    """

    dimension_id: str
    title: str
    level: int = Field(ge=1, le=5)
    level_name: str
    score: float
    previous_level: int | None
    trend: Trend


class InvitationCounts(_Frozen):
    """An organization's invitations by status (``open`` = pending + started: usable links)."""

    open: int = 0
    pending: int = 0
    started: int = 0
    submitted: int = 0
    expired: int = 0
    revoked: int = 0


class NextStep(_Frozen):
    """The first action of the roadmap of the latest submitted assessment, planned with the
    organization's stored roadmap settings (what GET /v1/assessments/{id}/roadmap returns)."""

    action_id: str
    title: str
    dimension_id: str
    phase_id: str
    phase_title: str
    start_month: int
    end_month: int
    cost: int
    currency: str


class PortfolioRow(_Frozen):
    """One client organization."""

    organization_id: uuid.UUID
    name: str
    type: OrganizationType
    licensed_beds: int
    state: str
    latest_assessment_id: uuid.UUID | None = Field(
        description="The latest submitted assessment; null when none is (drafts never count)."
    )
    assessed_at: datetime | None = Field(description="When it was submitted.")
    previous_assessment_id: uuid.UUID | None
    overall_level: int | None
    dimensions: tuple[DimensionCell, ...] = Field(
        description="The latest submitted assessment's levels; empty when there is none."
    )
    invitations: InvitationCounts
    next_step: NextStep | None = Field(
        description="Null without a submitted assessment, without a catalogue for its "
        "questionnaire version, when the stored settings cannot be planned, or when the plan "
        "has nothing left to do."
    )
    attention: tuple[Attention, ...] = Field(
        description="Why the row needs attention: never_assessed, level_down (a dimension "
        "went down), lowest_level (a dimension at level 1), stale (assessed over "
        f"{STALE_AFTER_DAYS} days ago)."
    )


class DimensionTotal(_Frozen):
    """A dimension over every organization of the filtered set."""

    dimension_id: str
    title: str
    assessed: int
    mean_level: float | None
    levels: dict[int, int] = Field(description="How many organizations are at each level.")
    up: int
    down: int


class PortfolioTotals(_Frozen):
    """Counts over every organization of the filtered set (not only the page)."""

    organizations: int
    assessed: int
    never_assessed: int
    needs_attention: int
    invitations: InvitationCounts
    dimensions: tuple[DimensionTotal, ...]


class Portfolio(_Frozen):
    """A page of the principal's organizations, the dimension columns and the totals."""

    columns: tuple[Column, ...]
    rows: tuple[PortfolioRow, ...]
    total: int = Field(description="Organizations matching the filters, on every page.")
    limit: int
    offset: int
    sort: str
    order: SortOrder
    totals: PortfolioTotals
