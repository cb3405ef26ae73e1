"""Property: sorting by a dimension orders the filtered set by that level, and only it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.portfolio.schemas import PortfolioQuery
from app.portfolio.service import level_of, portfolio
from tests.portfolio.conftest import day

DIMENSIONS = ("presence", "consistency", "security")
LEVELS = st.fixed_dictionaries({d: st.integers(1, 5) for d in DIMENSIONS})
ORGANIZATIONS = st.lists(
    st.tuples(st.sampled_from(["clinic", "community_hospital"]), st.none() | LEVELS),
    min_size=0,
    max_size=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    organizations=ORGANIZATIONS,
    dimension=st.sampled_from(DIMENSIONS),
    order=st.sampled_from(["asc", "desc"]),
    only_clinics=st.booleans(),
)
def test_sorting_by_a_dimension_is_a_permutation_of_the_filtered_set_ordered_by_level(
    db,
    registry,
    principal,
    organization,
    assess,
    clone,
    organizations,
    dimension,
    order,
    only_clinics,
):
    savepoint = db.begin_nested()
    try:
        me = principal()
        template = assess(organization("Template", type="other", by=me), on=day(1))
        expected = {}
        for n, (kind, levels) in enumerate(organizations):
            org = organization(f"Org {n}", type=kind, by=me)
            if levels is not None:
                clone(template, org, day(2), levels)
            if kind == "clinic" or not only_clinics:
                expected[org.id] = None if levels is None else levels[dimension]
        if not only_clinics:
            expected[template.organization_id] = template.scores["dimensions"][
                DIMENSIONS.index(dimension)
            ]["level"]
        query = PortfolioQuery(
            sort=dimension,
            order=order,
            types=("clinic",) if only_clinics else (),
            limit=100,
        )

        rows = portfolio(db, registry, me, query=query).rows
    finally:
        savepoint.rollback()

    assert sorted(str(r.organization_id) for r in rows) == sorted(str(i) for i in expected)
    assert all(level_of(r, dimension) == expected[r.organization_id] for r in rows)
    levels = [level_of(r, dimension) for r in rows]
    present = [level for level in levels if level is not None]
    assert levels == present + [None] * (len(levels) - len(present))
    assert present == sorted(present, reverse=order == "desc")
