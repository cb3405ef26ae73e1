"""The portfolio: every client organization at a glance, from the service GET /v1/portfolio
calls (filtered, sorted and paged the same way)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from app.console.deps import ConsoleDep
from app.console.errors import ConsoleRoute
from app.console.pages import page
from app.errors import InvalidRequest
from app.http.deps import RegistryDep, SessionDep
from app.organizations.schemas import ORGANIZATION_TYPE_LABELS, OrganizationType
from app.portfolio.schemas import DEFAULT_LIMIT, PortfolioQuery
from app.portfolio.service import portfolio, sort_keys

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

ATTENTION_LABELS = {
    "never_assessed": "Never assessed",
    "level_down": "A level went down",
    "lowest_level": "A dimension at level 1",
    "stale": "Assessed over a year ago",
}
_ATTENTION_CHOICES = {"": None, "yes": True, "no": False}


@dataclass(frozen=True, slots=True)
class Filters:
    """The portfolio's filters as the page's form posts them (GET), and its query."""

    q: str
    types: tuple[str, ...]
    attention: str
    sort: str
    order: str
    page: int

    @classmethod
    def of(cls, params: Mapping[str, Any], multi: list[tuple[str, str]]) -> Filters:
        page_text = str(params.get("page") or "1")
        return cls(
            q=str(params.get("q") or "").strip(),
            types=tuple(value for name, value in multi if name == "type"),
            attention=str(params.get("attention") or ""),
            sort=str(params.get("sort") or "name"),
            order=str(params.get("order") or "asc"),
            page=int(page_text) if page_text.isdigit() and int(page_text) > 0 else 0,
        )

    def query(self) -> PortfolioQuery:
        """The service's query; ValidationError or InvalidRequest for a value it refuses."""
        if self.page < 1:
            raise InvalidRequest(
                "The page must be a whole number from 1.",
                errors=[{"field": "page", "message": "page: must be a whole number from 1"}],
            )
        if self.attention not in _ATTENTION_CHOICES:
            raise InvalidRequest(
                "Needs attention is yes, no, or either.",
                errors=[{"field": "attention", "message": "attention: must be yes, no or empty"}],
            )
        return PortfolioQuery(
            q=self.q or None,
            types=tuple(OrganizationType(t) for t in self.types),
            needs_attention=_ATTENTION_CHOICES[self.attention],
            sort=self.sort,
            order=self.order,  # validated by the model
            limit=DEFAULT_LIMIT,
            offset=(self.page - 1) * DEFAULT_LIMIT,
        )

    def url(self, **changes: Any) -> str:
        """This page's URL with some filters changed (sorting and paging links)."""
        values = {
            "q": self.q,
            "attention": self.attention,
            "sort": self.sort,
            "order": self.order,
            "page": self.page,
            **changes,
        }
        pairs = [(k, str(v)) for k, v in values.items() if v not in ("", None)]
        pairs += [("type", t) for t in self.types]
        return "/console?" + urlencode(pairs)

    def sort_url(self, key: str) -> str:
        """The link of a sortable column: this key ascending, or reversed when it is already."""
        order = "desc" if self.sort == key and self.order == "asc" else "asc"
        return self.url(sort=key, order=order, page=1)


@router.get("/console")
def portfolio_page(
    request: Request, console: ConsoleDep, session: SessionDep, registry: RegistryDep
) -> Response:
    """The organizations the user works on: levels as a heat map, trends, invitations and
    each one's next roadmap step."""
    filters = Filters.of(request.query_params, request.query_params.multi_items())
    problems: list[str] = []
    try:
        query = filters.query()
    except (ValidationError, ValueError, InvalidRequest) as exc:
        problems = _problems(exc)
        filters = Filters("", (), "", "name", "asc", 1)
        query = PortfolioQuery()
    try:
        result = portfolio(session, registry, console.principal, query=query)
    except InvalidRequest as exc:  # a sort key no questionnaire has
        problems = _problems(exc)
        filters = Filters("", (), "", "name", "asc", 1)
        result = portfolio(session, registry, console.principal, query=PortfolioQuery())
    pages = max(1, -(-result.total // result.limit))
    return page(
        request,
        "console/portfolio.html",
        console,
        status_code=422 if problems else 200,
        title="Your clients",
        section="portfolio",
        portfolio=result,
        filters=filters,
        problem_links=[("filters", problem) for problem in problems],
        sort_keys=sort_keys(registry),
        type_labels=ORGANIZATION_TYPE_LABELS,
        attention_labels=ATTENTION_LABELS,
        current_page=result.offset // result.limit + 1,
        pages=pages,
    )


def _problems(exc: Exception) -> list[str]:
    if isinstance(exc, InvalidRequest):
        return [str(e["message"]) for e in exc.extra.get("errors", [])] or [exc.detail]
    if isinstance(exc, ValidationError):
        return [
            f"{'.'.join(str(part) for part in e['loc']) or 'filter'}: {e['msg']}"
            for e in exc.errors()
        ]
    return ["type: is not an organization type"]
