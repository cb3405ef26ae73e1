"""The web form's results page plans the roadmap with the organization's settings."""

from __future__ import annotations

from fastapi.testclient import TestClient

# The web form's fixtures: its settings, an invitation, and a visitor holding the session.
from tests.web.conftest import Invited, answer_everything, csrf_of
from tests.web.conftest import app_settings as app_settings
from tests.web.conftest import invite as invite
from tests.web.conftest import invited as invited
from tests.web.conftest import visitor as visitor


def test_the_results_page_uses_the_stored_targets(
    visitor: TestClient, invited: Invited, admin_headers: dict[str, str]
) -> None:
    stored = visitor.put(
        f"/v1/organizations/{invited.organization.id}/roadmap-settings",
        json={"targets": {"security": 4, "presence": 2}},
        headers=admin_headers,
    )
    assert stored.status_code == 200, stored.text
    answer_everything(visitor)
    token = csrf_of(visitor, "/form/review")
    visitor.post("/form/submit", data={"csrf_token": token}, follow_redirects=False)

    page = visitor.get("/form/results")

    assert page.status_code == 200, page.text
    targets = {d["title"]: d["target"] for d in page.context["dimensions"]}  # type: ignore[attr-defined]
    assert targets["Presence"] == 2
    assert targets["Consistency"] == 2  # one level up, by default
    assert [t for title, t in targets.items() if title.startswith("Privacy")] == [4]
