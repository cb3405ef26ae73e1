"""GET /v1/portfolio: the service's page as JSON, and 422 naming each bad parameter."""

from __future__ import annotations

import pytest

from tests.conftest import bearer, example

NEW = {
    "name": "Riverside Regional",
    "type": "community_hospital",
    "licensed_beds": 90,
    "state": "WI",
}


@pytest.fixture
def consultant(client, make_key):
    token = make_key("consultant")
    for name in ("Riverside Regional", "Hillcrest Clinic"):
        kind = "clinic" if "Clinic" in name else "community_hospital"
        created = client.post(
            "/v1/organizations", json={**NEW, "name": name, "type": kind}, headers=bearer(token)
        )
        assert created.status_code == 201, created.text
        if kind == "community_hospital":
            posted = client.post(
                "/v1/assessments",
                json={**example("community-hospital"), "organization_id": created.json()["id"]},
                headers=bearer(token),
            )
            assert posted.status_code == 201, posted.text
    return bearer(token)


def test_the_portfolio_lists_levels_trends_and_next_steps(client, consultant):
    response = client.get("/v1/portfolio", params={"sort": "security"}, headers=consultant)

    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["dimension_id"] for c in body["columns"]] == ["presence", "consistency", "security"]
    assert [r["name"] for r in body["rows"]] == ["Riverside Regional", "Hillcrest Clinic"]
    assessed, never = body["rows"]
    assert [(c["level"], c["trend"]) for c in assessed["dimensions"]] == [
        (2, "new"),
        (1, "new"),
        (2, "new"),
    ]
    assert assessed["next_step"]["title"]
    assert never["dimensions"] == []
    assert never["attention"] == ["never_assessed"]
    assert (body["total"], body["limit"], body["offset"]) == (2, 25, 0)


def test_filters_arrive_as_query_parameters(client, consultant):
    response = client.get(
        "/v1/portfolio",
        params={"q": "hill", "type": ["clinic", "community_hospital"], "needs_attention": "true"},
        headers=consultant,
    )

    assert response.status_code == 200, response.text
    assert [r["name"] for r in response.json()["rows"]] == ["Hillcrest Clinic"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "beds"}, "sort"),
        ({"order": "up"}, "order"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"type": "castle"}, "type"),
        ({"needs_attention": "maybe"}, "needs_attention"),
        ({"q": "x" * 201}, "q"),
        ({"organisation": "x"}, "organisation"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(client, consultant, params, field):
    response = client.get("/v1/portfolio", params=params, headers=consultant)

    assert response.status_code == 422, response.text
    # A repeated parameter is named with its place: type[0].
    fields = {error["field"].partition("[")[0] for error in response.json()["errors"]}
    assert field in fields, response.text
