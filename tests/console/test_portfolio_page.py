"""The portfolio page: the same rows GET /v1/portfolio gives, as a heat map people can read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.models import ApiKey
from app.auth.service import Principal
from app.organizations.models import Organization
from tests.console.conftest import Person
from tests.portfolio.conftest import assess, clone, day, organization, principal

__all__ = ["assess", "clone", "organization", "principal"]  # fixtures, shared


@pytest.fixture
def consultant(make_user: Callable[..., Person], db: Session) -> Person:
    return make_user()


def _as_principal(person: Person, db: Session) -> Principal:
    key = db.get_one(ApiKey, person.user.principal_id)
    from app.auth.models import Role

    return Principal(key.id, Role(key.role), user_id=person.user.id)


def _row_names(html: str) -> list[str]:
    return re.findall(
        r'<th scope="row">\s*<a href="/console/organizations/[^"]+">([^<]+)</a>', html
    )


def test_each_row_shows_levels_as_text_and_colour_with_the_trend(
    consultant: Person,
    db: Session,
    organization: Callable[..., Organization],
    assess: Callable[..., Any],
    clone: Callable[..., Any],
    signed_in_as: Callable[[Person], TestClient],
) -> None:
    mine = organization("Lakeside Community Hospital", by=_as_principal(consultant, db))
    first = assess(mine, on=day(1))
    levels = {d["dimension_id"]: d["level"] for d in first.scores["dimensions"]}
    clone(first, mine, day(6), {"security": min(5, levels["security"] + 1)})
    db.commit()
    page = signed_in_as(consultant).get("/console")
    assert page.status_code == 200
    assert _row_names(page.text) == ["Lakeside Community Hospital"]
    raised = min(5, levels["security"] + 1)
    assert f'heat heat-{raised}">' in page.text
    assert f"up from {levels['security']}" in page.text
    assert "no change" in page.text  # the other dimensions
    assert "/console/assessments/" in page.text
    assert "1 client organization" in page.text


def test_the_page_lists_exactly_what_the_api_lists_for_the_same_principal(
    consultant: Person,
    db: Session,
    organization: Callable[..., Organization],
    signed_in_as: Callable[[Person], TestClient],
    make_user: Callable[..., Person],
) -> None:
    mine = organization("Lakeside Community Hospital", by=_as_principal(consultant, db))
    organization("Hillcrest Regional Medical Center")  # someone else's
    granted = organization("Riverbend Critical Access Hospital")
    colleague = make_user(orgs=[granted.id])
    db.commit()
    assert _row_names(signed_in_as(consultant).get("/console").text) == [mine.name]
    assert _row_names(signed_in_as(colleague).get("/console").text) == [granted.name]


def test_sorting_by_a_dimension_and_reversing_it(
    consultant: Person,
    db: Session,
    organization: Callable[..., Organization],
    assess: Callable[..., Any],
    clone: Callable[..., Any],
    signed_in_as: Callable[[Person], TestClient],
) -> None:
    me = _as_principal(consultant, db)
    template = assess(organization("Template Hospital", by=me), on=day(1))
    for name, level in [("Alder", 2), ("Birch", 5), ("Cedar", 3)]:
        clone(template, organization(f"{name} Hospital", by=me), day(2), {"security": level})
    db.commit()
    browser = signed_in_as(consultant)
    ascending = browser.get("/console?sort=security&order=asc")
    names = [n for n in _row_names(ascending.text) if n != "Template Hospital"]
    assert names == ["Alder Hospital", "Cedar Hospital", "Birch Hospital"]
    assert 'aria-sort="ascending"' in ascending.text
    descending = browser.get("/console?sort=security&order=desc")
    names = [n for n in _row_names(descending.text) if n != "Template Hospital"]
    assert names == ["Birch Hospital", "Cedar Hospital", "Alder Hospital"]


def test_filters_by_name_type_and_attention(
    consultant: Person,
    db: Session,
    organization: Callable[..., Organization],
    assess: Callable[..., Any],
    signed_in_as: Callable[[Person], TestClient],
) -> None:
    me = _as_principal(consultant, db)
    assess(organization("Lakeside Community Hospital", by=me), on=day(1))
    organization("Northfield Clinic", type="clinic", by=me)  # never assessed
    db.commit()
    browser = signed_in_as(consultant)
    assert _row_names(browser.get("/console?q=lake").text) == ["Lakeside Community Hospital"]
    assert _row_names(browser.get("/console?type=clinic").text) == ["Northfield Clinic"]
    attention = browser.get("/console?attention=yes").text
    assert "Northfield Clinic" in _row_names(attention)
    assert "Never assessed" in attention
    assert "No client matches these filters" in browser.get("/console?q=zzz").text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=colour", "sort"),
        ("order=sideways", "order"),
        ("type=castle", "type"),
        ("page=0", "page"),
    ],
)
def test_a_filter_value_that_does_not_exist_is_named_and_the_list_still_shows(
    consultant: Person,
    db: Session,
    organization: Callable[..., Organization],
    signed_in_as: Callable[[Person], TestClient],
    query: str,
    field: str,
) -> None:
    organization("Lakeside Community Hospital", by=_as_principal(consultant, db))
    db.commit()
    page = signed_in_as(consultant).get(f"/console?{query}")
    assert page.status_code == 422
    assert "The filters could not be used" in page.text
    assert field in page.text.split("The filters could not be used")[1][:400]
    assert _row_names(page.text) == ["Lakeside Community Hospital"]


def test_many_clients_are_paged(
    consultant: Person,
    db: Session,
    organization: Callable[..., Organization],
    signed_in_as: Callable[[Person], TestClient],
) -> None:
    me = _as_principal(consultant, db)
    for number in range(30):
        organization(f"Hospital {number:02d}", by=me)
    db.commit()
    browser = signed_in_as(consultant)
    first = browser.get("/console")
    assert len(_row_names(first.text)) == 25
    assert "page 1 of 2" in first.text
    second = browser.get("/console?page=2")
    assert _row_names(second.text) == [f"Hospital {n}" for n in range(25, 30)]
    assert 'rel="prev"' in second.text


def test_a_consultant_without_clients_is_told_what_to_do_first(
    consultant: Person, signed_in_as: Callable[[Person], TestClient]
) -> None:
    page = signed_in_as(consultant).get("/console")
    assert "You have no client organizations yet" in page.text
    assert 'href="/console/organizations/new"' in page.text
