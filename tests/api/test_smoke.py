from tests.conftest import example


def test_submit_example_returns_levels(client, admin_headers, make_organization):
    org = make_organization()
    body = {"organization_id": str(org.id), **example("community-hospital")}
    response = client.post("/v1/assessments", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    levels = {d["dimension_id"]: d["level"] for d in response.json()["scores"]["dimensions"]}
    assert levels == {"presence": 2, "consistency": 1, "security": 2}
