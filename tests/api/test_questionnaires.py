"""Serving questionnaire definitions, and refusing to serve an edited published version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.config import PROJECT_ROOT
from app.questionnaire.loader import load_directory
from app.questionnaire.registry import PublishedVersionChanged, publish


def test_list_shows_each_questionnaire_with_its_versions(client, admin_headers):
    response = client.get("/v1/questionnaires", headers=admin_headers)

    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["id"] == "hospital-social-media"
    assert item["versions"][0] == 1
    assert item["latest_version"] == item["versions"][-1]


def test_definition_includes_every_option_score_gate_and_threshold(client, admin_headers):
    listed = client.get("/v1/questionnaires", headers=admin_headers).json()["items"][0]
    latest = client.get("/v1/questionnaires/hospital-social-media", headers=admin_headers).json()
    pinned = client.get(
        f"/v1/questionnaires/hospital-social-media/versions/{listed['latest_version']}",
        headers=admin_headers,
    ).json()

    assert latest == pinned
    assert len(latest["content_hash"]) == 64
    assert {d["id"] for d in latest["dimensions"]} == {"presence", "consistency", "security"}
    assert set(latest["dimensions"][0]["thresholds"]) == {"2", "3", "4", "5"}
    choice = next(q for q in latest["questions"] if q["type"] == "single_choice")
    assert all("score" in option for option in choice["options"])
    assert any(q["gates"] for q in latest["questions"])


def test_unknown_questionnaire_or_version_is_404(client, admin_headers):
    assert client.get("/v1/questionnaires/nope", headers=admin_headers).status_code == 404
    assert (
        client.get(
            "/v1/questionnaires/hospital-social-media/versions/7", headers=admin_headers
        ).status_code
        == 404
    )


@pytest.fixture
def questionnaire_copy(tmp_path: Path) -> Path:
    root = tmp_path / "questionnaires"
    shutil.copytree(PROJECT_ROOT / "questionnaires", root)
    return root


def test_edited_published_version_stops_start_up_with_a_clear_message(
    db: Session, questionnaire_copy: Path
):
    publish(db, load_directory(questionnaire_copy))
    path = questionnaire_copy / "hospital-social-media" / "v1.yaml"
    path.write_text(path.read_text().replace("weight: 1.5", "weight: 2", 1))

    with pytest.raises(PublishedVersionChanged) as raised:
        publish(db, load_directory(questionnaire_copy))

    message = str(raised.value)
    assert "v1.yaml" in message
    assert "immutable" in message
    assert "v2.yaml" in message


def test_layout_and_comment_edits_do_not_count_as_changes(db: Session, questionnaire_copy: Path):
    publish(db, load_directory(questionnaire_copy))
    path = questionnaire_copy / "hospital-social-media" / "v1.yaml"
    path.write_text("# reviewed by the privacy office\n" + path.read_text() + "\n\n")

    registry = publish(db, load_directory(questionnaire_copy))

    assert registry.get("hospital-social-media", 1).definition.version == 1


def test_version_whose_file_is_gone_is_served_from_its_snapshot(
    db: Session, questionnaire_copy: Path
):
    publish(db, load_directory(questionnaire_copy))
    v1 = questionnaire_copy / "hospital-social-media" / "v1.yaml"
    newest = v1.with_name("v9.yaml")
    newest.write_text(v1.read_text().replace("version: 1", "version: 9", 1))
    v1.unlink()

    registry = publish(db, load_directory(questionnaire_copy))

    versions = [v.definition.version for v in registry.versions("hospital-social-media")]
    assert versions[0] == 1
    assert versions[-1] == 9
    assert registry.get("hospital-social-media").definition.version == 9
