"""The consultant's portfolio: client organizations with their levels, trends and next step."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.api.responses import errors
from app.http.deps import PrincipalDep, RegistryDep, SessionDep, reject_unknown_query_parameters
from app.organizations.schemas import OrganizationType
from app.portfolio.schemas import DEFAULT_LIMIT, MAX_LIMIT, Portfolio, PortfolioQuery, SortOrder
from app.portfolio.service import portfolio
from app.text import Text

router = APIRouter(tags=["portfolio"], dependencies=[Depends(reject_unknown_query_parameters)])

Search = Annotated[
    Text | None, Query(max_length=200, description="Part of the organization's name, any case.")
]
Types = Annotated[
    list[OrganizationType],
    Query(alias="type", max_length=20, description="Only these types (repeat for more)."),
]
NeedsAttention = Annotated[
    bool | None,
    Query(description="true: only organizations with an attention reason; false: only without."),
]
Sort = Annotated[
    Text,
    Query(
        max_length=64,
        description="`name`, `updated` (latest submitted assessment) or a dimension id "
        "(its current level, e.g. `security`). Organizations without the key come last.",
    ),
]
Order = Annotated[SortOrder, Query(description="Ascending or descending.")]
Limit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description="Page size (each row is planned for its next step)."),
]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Rows to skip.")]


@router.get("/v1/portfolio", operation_id="getPortfolio", responses=errors(422))
def get_portfolio(
    session: SessionDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    q: Search = None,
    types: Types = [],  # noqa: B006 - FastAPI copies query defaults
    needs_attention: NeedsAttention = None,
    sort: Sort = "name",
    order: Order = "asc",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Portfolio:
    """The organizations this key may see, with current levels, trends, invitations and the
    next roadmap step of each; filtered, sorted and paged."""
    query = PortfolioQuery(
        q=q,
        types=tuple(types),
        needs_attention=needs_attention,
        sort=sort,
        order=order,
        limit=limit,
        offset=offset,
    )
    return portfolio(session, registry, principal, query=query)
