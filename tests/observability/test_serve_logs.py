"""`smm serve` as operators run it: JSON lines on stderr, request ids, and no secrets."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest

from app.auth.service import KEY_PATTERN
from tests.conftest import example
from tests.support.cli import environment_without_settings, migrated_environment, run_smm
from tests.support.servers import running_server


@pytest.fixture
def json_env(fresh_database_url: str, env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A migrated database, JSON logs at debug level, and a secret key that must stay secret."""
    environment = {
        **env,
        "SMM_DATABASE_URL": fresh_database_url,
        "SMM_LOG_FORMAT": "json",
        "SMM_LOG_LEVEL": "debug",
        "SMM_SECRET_KEY": secrets.token_urlsafe(32),
        "SMM_RUN_REPORT_JOBS": "false",
    }
    return migrated_environment(environment)


@pytest.fixture
def env() -> dict[str, str]:
    """This process's environment without any SMM_ setting of the developer's."""
    return environment_without_settings()


def use_the_service(base: str, key: str) -> dict[str, str]:
    """Requests carrying every kind of secret; returns the secrets sent and request ids seen."""
    idempotency_key = f"idem-{secrets.token_hex(16)}"
    wrong_key = f"smm_{'z' * 12}_{secrets.token_urlsafe(32)[:43]}"
    with httpx.Client(base_url=base, timeout=60) as http:
        auth = {"Authorization": f"Bearer {key}"}
        organization = http.post(
            "/v1/organizations",
            json={
                "name": "Lakeside",
                "type": "community_hospital",
                "licensed_beds": 60,
                "state": "MN",
            },
            headers={**auth, "Idempotency-Key": idempotency_key, "X-Request-ID": "ops-trace-1"},
        ).json()
        created = http.post(
            "/v1/assessments",
            json={**example("community-hospital"), "organization_id": organization["id"]},
            headers=auth,
        )
        assert created.status_code == 201, created.text
        refused = http.get("/v1/organizations", headers={"Authorization": f"Bearer {wrong_key}"})
        assert refused.status_code == 401
        invitation = http.post(f"/v1/organizations/{organization['id']}/invitations", headers=auth)
        assert invitation.status_code == 201, invitation.text
        link = invitation.json()["url"]
        opened = http.get(link, follow_redirects=True)  # to the form, with a session cookie
        assert opened.status_code == 200, opened.text
        assert http.get("/metrics").status_code == 200
        cookies = dict(http.cookies.items())
    return {
        "API key": key,
        "API key secret": KEY_PATTERN.match(key)["secret"],  # type: ignore[index]
        # The secret may itself hold "_", so its tail is cut by position, not at the last "_".
        "unknown key's secret": wrong_key[-20:],
        "Idempotency-Key": idempotency_key,
        "invitation token": link.rsplit("/", 1)[-1],
        **{f"cookie {name}": value for name, value in cookies.items()},
    }


def test_serve_logs_json_lines_with_request_ids_and_no_secrets(json_env, tmp_path):
    key = run_smm("keys", "create", "--role", "admin", env=json_env).stdout.strip().splitlines()[-1]
    log = tmp_path / "serve.log"

    with running_server(json_env, log) as base:
        sent = use_the_service(base, key)

    text = log.read_text()
    for what, secret in {**sent, "SMM_SECRET_KEY": json_env["SMM_SECRET_KEY"]}.items():
        assert secret not in text, f"the {what} is in the log"
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # all JSON
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    api_calls = [line for line in access if line["path"] != "/readyz"]
    assert len(api_calls) >= 7
    assert all(len(str(line.get("request_id", ""))) >= 8 for line in access)
    assert len({line["request_id"] for line in access}) == len(access)  # one id per request
    traced = [line for line in access if line["request_id"] == "ops-trace-1"]
    assert [(line["method"], line["path"], line["status"]) for line in traced] == [
        ("POST", "/v1/organizations", 201)
    ]
    assert any(line["path"] == "/i/[redacted]" for line in access)


def test_serve_without_migrating_refuses_a_database_that_is_behind(env, tmp_path):
    behind = {
        **env,
        "SMM_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}",
        "SMM_MIGRATE_ON_START": "false",
    }

    result = run_smm("serve", "--port", "9", env=behind, check=False)

    assert result.returncode == 1
    assert "the database is not migrated" in result.stderr
    assert "smm migrate" in result.stderr
