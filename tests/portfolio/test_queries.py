"""The portfolio reads a fixed number of statements, however many organizations there are."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from app.invitations.service import create_invitation
from app.memo import Memo
from app.portfolio import service
from app.portfolio.schemas import PortfolioQuery
from app.portfolio.service import portfolio
from tests.portfolio.conftest import day

# Organizations in scope, their last two submitted assessments, their invitations; for the
# page: its latest assessments (their answers are a column of each, no query of their own).
STATEMENTS = 4


@contextmanager
def counted(db) -> Iterator[list[str]]:
    """The SQL statements run on the session's connection inside the block."""
    statements: list[str] = []
    connection = db.connection()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _many(db, registry, principal, organization, assess, clone, count):
    me = principal()
    template = assess(organization("Template", by=me), on=day(1))
    for n in range(count - 1):
        # Beds differ, so that no next step is planned from the remembered ones.
        org = organization(f"Hospital {n:03}", beds=100 + count + n, by=me)
        clone(template, org, day(1), {"security": 1 + n % 5})
        clone(template, org, day(2) + timedelta(hours=n), {"security": 1 + (n + 1) % 5})
        create_invitation(db, registry, me, org, key=b"k" * 32)
    db.flush()
    return me


def test_a_page_of_50_organizations_costs_as_many_statements_as_one_of_5(
    db, registry, principal, organization, assess, clone
):
    few = _many(db, registry, principal, organization, assess, clone, 5)
    many = _many(db, registry, principal, organization, assess, clone, 50)

    with counted(db) as small:
        portfolio(db, registry, few, query=PortfolioQuery(limit=100))
    with counted(db) as large:
        result = portfolio(db, registry, many, query=PortfolioQuery(limit=100, sort="security"))

    assert len(result.rows) == 50
    assert sum(r.next_step is not None for r in result.rows) == 50
    assert len(small) == len(large) == STATEMENTS


def test_a_page_of_25_among_100_organizations_is_quick(
    db, registry, principal, organization, assess, clone, monkeypatch
):
    me = _many(db, registry, principal, organization, assess, clone, 100)
    # Nothing remembered yet: the same organizations, seeded for another backend earlier in
    # this process, have the same inputs and so the same remembered steps.
    monkeypatch.setattr(service, "_STEPS", Memo(service._STEPS.size))
    planned: list[object] = []
    first_action = service._first_action
    monkeypatch.setattr(
        service, "_first_action", lambda inputs: planned.append(inputs) or first_action(inputs)
    )

    started = time.perf_counter()
    result = portfolio(db, registry, me, query=PortfolioQuery(sort="security", order="desc"))
    elapsed = time.perf_counter() - started

    assert (len(result.rows), result.total) == (25, 100)
    # Up to 90 ms a row to plan its next step (nothing remembered yet), on a shared core.
    assert elapsed < 8, elapsed
    assert len(planned) == 25  # the page's rows only, not the 100
    again = portfolio(db, registry, me, query=PortfolioQuery(sort="security", order="desc"))
    assert again == result
    assert len(planned) == 25  # the second read plans nothing: the steps are remembered
