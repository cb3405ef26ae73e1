"""The `smm` command, run the way people run it: as a real process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.auth.service import KEY_PATTERN
from app.config import PROJECT_ROOT

SMM = [sys.executable, "-m", "app.cli"]
EXAMPLES = PROJECT_ROOT / "examples"


def run_smm(
    *args: str, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*SMM, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"smm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMM_")}
    environment["SMM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    environment["COLUMNS"] = "200"
    return environment


def test_keys_create_prints_the_key_alone_on_the_last_line(env):
    result = run_smm("keys", "create", "--role", "admin", "--name", "ops", env=env)

    last = result.stdout.strip().splitlines()[-1]
    assert KEY_PATTERN.match(last)
    listing = run_smm("keys", "list", env=env).stdout
    assert KEY_PATTERN.match(last)["prefix"] in listing
    assert last not in listing


def test_keys_create_with_unknown_organization_fails_clearly(env):
    result = run_smm(
        "keys",
        "create",
        "--role",
        "partner",
        "--org",
        "00000000-0000-4000-8000-000000000000",
        env=env,
        check=False,
    )

    assert result.returncode == 1
    assert "no organization" in result.stderr
    bad = run_smm("keys", "create", "--role", "partner", "--org", "lakeside", env=env, check=False)
    assert bad.returncode == 1
    assert "not an organization id" in bad.stderr


def test_score_prints_each_dimension_level_and_reason(env):
    result = run_smm("score", str(EXAMPLES / "community-hospital.json"), env=env)

    assert "Presence" in result.stdout
    assert "2 Developing" in result.stdout
    assert "1 Initial" in result.stdout
    assert "To reach level 2" in result.stdout
    assert "Overall: level 1 (Initial)" in result.stdout


def test_score_json_gives_the_full_result(env):
    result = run_smm("score", "--json", str(EXAMPLES / "academic-medical-center.json"), env=env)

    payload = json.loads(result.stdout)
    assert {d["dimension_id"]: d["level"] for d in payload["dimensions"]} == {
        "presence": 4,
        "consistency": 3,
        "security": 4,
    }


def test_score_rejects_invalid_answers_naming_the_question(env, tmp_path):
    document = json.loads((EXAMPLES / "community-hospital.json").read_text())
    document["answers"][0]["value"] = "carrier_pigeon"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))

    result = run_smm("score", str(path), env=env, check=False)

    assert result.returncode == 1
    assert f"answers[0].value: {document['answers'][0]['question_id']}" in result.stderr


def test_questionnaires_check_reports_file_line_and_path(env, tmp_path):
    assert "ok" in run_smm("questionnaires", "check", env=env).stdout
    root = tmp_path / "questionnaires"
    shutil.copytree(PROJECT_ROOT / "questionnaires", root)
    path = root / "hospital-social-media" / "v1.yaml"
    path.write_text(path.read_text().replace("weight: 1.5", "weight: 1.5\n    colour: blue", 1))

    result = run_smm(
        "questionnaires", "check", env={**env, "SMM_QUESTIONNAIRES_DIR": str(root)}, check=False
    )

    assert result.returncode == 1
    assert (
        "hospital-social-media/v1.yaml:88: dimensions[2].colour: unknown key 'colour'"
        in result.stderr
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """`smm serve` on a free port until the block ends; yields its base URL once ready."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            [*SMM, "serve", "--port", str(port)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=output,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"smm serve exited:\n{log.read_text()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"smm serve did not become ready:\n{log.read_text()}")
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture
def server_env(fresh_database_url: str, env: dict[str, str]) -> dict[str, str]:
    return {**env, "SMM_DATABASE_URL": fresh_database_url}


def test_readme_walk_through_from_key_to_levels(server_env, tmp_path):
    key = (
        run_smm("keys", "create", "--role", "admin", env=server_env).stdout.strip().splitlines()[-1]
    )
    headers = {"Authorization": f"Bearer {key}"}
    with (
        running_server(server_env, tmp_path / "serve.log") as base,
        httpx.Client(base_url=base, headers=headers, timeout=30) as api,
    ):
        org = api.post(
            "/v1/organizations",
            json={
                "name": "Lakeside Community Hospital",
                "type": "community_hospital",
                "licensed_beds": 60,
                "state": "MN",
            },
        ).json()
        questionnaire = api.get("/v1/questionnaires/hospital-social-media").json()
        document = json.loads((EXAMPLES / "community-hospital.json").read_text())
        created = api.post("/v1/assessments", json={"organization_id": org["id"], **document})
        fetched = api.get(f"/v1/assessments/{created.json()['id']}").json()

    assert questionnaire["version"] >= document["questionnaire"]["version"] == 1
    assert created.status_code == 201
    dimensions = {d["dimension_id"]: d for d in fetched["scores"]["dimensions"]}
    assert {k: d["level"] for k, d in dimensions.items()} == {
        "presence": 2,
        "consistency": 1,
        "security": 2,
    }
    assert all(d["summary"] and d["next_level"]["summary"] for d in dimensions.values())


def test_serve_refuses_to_start_when_a_published_version_was_edited(server_env, tmp_path):
    root = tmp_path / "questionnaires"
    shutil.copytree(PROJECT_ROOT / "questionnaires", root)
    edited_env = {**server_env, "SMM_QUESTIONNAIRES_DIR": str(root)}
    with running_server(edited_env, tmp_path / "first.log"):
        pass  # the first start publishes v1
    path = root / "hospital-social-media" / "v1.yaml"
    path.write_text(path.read_text().replace("weight: 1.5", "weight: 2", 1))

    result = run_smm("serve", "--port", str(_free_port()), env=edited_env, check=False)

    assert result.returncode == 1
    assert "Published versions are immutable" in result.stderr
    assert "v2.yaml" in result.stderr


def test_roadmap_prints_the_plan_with_prices_for_the_band(env):
    result = run_smm("roadmap", str(EXAMPLES / "community-hospital.json"), "--beds", "250", env=env)

    assert "100-299 beds" in result.stdout
    assert "First 90 days" in result.stdout
    assert "Total $" in result.stdout
    as_json = json.loads(
        run_smm("roadmap", "--json", str(EXAMPLES / "community-hospital.json"), env=env).stdout
    )
    assert as_json["targets"] == {"presence": 3, "consistency": 2, "security": 3}


def test_roadmap_rejects_a_malformed_target(env):
    result = run_smm(
        "roadmap",
        str(EXAMPLES / "community-hospital.json"),
        "--target",
        "security",
        env=env,
        check=False,
    )

    assert result.returncode == 1
    assert "dimension=level" in result.stderr


def test_report_writes_the_same_pdf_as_the_service_would(env, tmp_path):
    from pypdf import PdfReader

    output = tmp_path / "roadmap.pdf"
    run_smm(
        "report",
        str(EXAMPLES / "community-hospital.json"),
        "-o",
        str(output),
        "--beds",
        "250",
        "--organization",
        "Lakeside Community Hospital",
        "--target",
        "security=4",
        "--budget",
        "60000",
        "--date",
        "2026-11-02",
        env=env,
    )

    reader = PdfReader(output)
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Lakeside Community Hospital" in text
    assert "100-299 beds" in text
    assert "Level 4" in text
    assert reader.metadata.title
