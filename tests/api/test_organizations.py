"""Creating, reading, listing and changing organizations."""

from __future__ import annotations

NEW = {
    "name": "Riverside Regional Medical Center",
    "type": "community_hospital",
    "licensed_beds": 310,
    "state": "wi",
}


def test_created_organization_is_returned_with_normalised_state(client, admin_headers):
    response = client.post("/v1/organizations", json=NEW, headers=admin_headers)

    assert response.status_code == 201, response.text
    payload = response.json()
    assert payload["name"] == NEW["name"]
    assert payload["state"] == "WI"
    assert payload["licensed_beds"] == 310
    assert client.get(f"/v1/organizations/{payload['id']}", headers=admin_headers).json() == payload


def test_patch_changes_only_the_given_fields(client, admin_headers):
    created = client.post("/v1/organizations", json=NEW, headers=admin_headers).json()

    response = client.patch(
        f"/v1/organizations/{created['id']}", json={"licensed_beds": 325}, headers=admin_headers
    )

    assert response.status_code == 200
    assert response.json()["licensed_beds"] == 325
    assert response.json()["name"] == NEW["name"]
    assert response.json()["updated_at"] >= created["updated_at"]


def test_patch_refuses_null_and_keeps_the_stored_value(client, admin_headers):
    created = client.post("/v1/organizations", json=NEW, headers=admin_headers).json()

    response = client.patch(
        f"/v1/organizations/{created['id']}", json={"name": None}, headers=admin_headers
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
    assert (
        client.get(f"/v1/organizations/{created['id']}", headers=admin_headers).json()["name"]
        == NEW["name"]
    )


def test_each_invalid_field_is_named(client, admin_headers):
    bad = {"name": "", "type": "spa", "licensed_beds": -1, "state": "XX", "extra": 1}

    response = client.post("/v1/organizations", json=bad, headers=admin_headers)

    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "name",
        "type",
        "licensed_beds",
        "state",
        "extra",
    }


def test_list_pages_oldest_first(client, admin_headers):
    names = [f"Hospital {i}" for i in range(5)]
    for name in names:
        client.post("/v1/organizations", json={**NEW, "name": name}, headers=admin_headers)

    first = client.get("/v1/organizations?limit=3", headers=admin_headers).json()
    second = client.get("/v1/organizations?limit=3&offset=3", headers=admin_headers).json()

    assert first["total"] == 5
    assert [o["name"] for o in first["items"] + second["items"]] == names


def test_malformed_or_unknown_id_is_404(client, admin_headers):
    for identifier in ("not-a-uuid", "00000000-0000-4000-8000-000000000000"):
        response = client.get(f"/v1/organizations/{identifier}", headers=admin_headers)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
