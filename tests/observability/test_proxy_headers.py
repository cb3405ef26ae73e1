"""`smm serve` believes X-Forwarded-For only from the proxies SMM_TRUSTED_PROXIES lists.

A real server on 127.0.0.1: the test is the peer, so it is a trusted proxy only when the
list names 127.0.0.1. The invitation rate limit and the audit trail must see the same
client address as the server does.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest

from tests.support.cli import run_smm, sqlite_serve_environment
from tests.support.servers import running_server

BURST = 3


@pytest.fixture
def serve_env(tmp_path: Path) -> dict[str, str]:
    return sqlite_serve_environment(
        tmp_path / "proxy.db",
        SMM_LOG_FORMAT="json",
        SMM_WEB_RATE_LIMIT="1",
        SMM_WEB_RATE_BURST=str(BURST),
    )


def _links_answered(base: str) -> list[int]:
    """Statuses of made-up invitation links, each from a new X-Forwarded-For address."""
    with httpx.Client(base_url=base, timeout=30) as http:
        return [
            http.get(
                f"/i/{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(18)}",
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            ).status_code
            for n in range(1, BURST + 3)
        ]


def _audited_ip(base: str, key: str, forwarded_for: str) -> str | None:
    with httpx.Client(base_url=base, timeout=30) as http:
        auth = {"Authorization": f"Bearer {key}"}
        created = http.post(
            "/v1/organizations",
            json={"name": "Lakeside", "type": "clinic", "licensed_beds": 5, "state": "MN"},
            headers={**auth, "X-Forwarded-For": forwarded_for},
        )
        assert created.status_code == 201, created.text
        events = http.get("/v1/audit", headers=auth).json()["items"]
    (event,) = [e for e in events if e["object_id"] == created.json()["id"]]
    ip: str | None = event["ip"]
    return ip


def _key(env: dict[str, str]) -> str:
    return run_smm("keys", "create", "--role", "admin", env=env).stdout.strip().splitlines()[-1]


def test_a_forged_x_forwarded_for_from_an_untrusted_peer_changes_neither_limit_nor_audit(
    serve_env, tmp_path
):
    key = _key(serve_env)

    with running_server(serve_env, tmp_path / "serve.log") as base:
        statuses = _links_answered(base)
        audited = _audited_ip(base, key, "203.0.113.7")

    assert statuses[:BURST] == [404] * BURST
    assert 429 in statuses[BURST:], statuses  # one bucket for the peer, whatever the header says
    assert audited == "127.0.0.1"
    access = [
        json.loads(line)
        for line in (tmp_path / "serve.log").read_text().splitlines()
        if '"uvicorn.access"' in line
    ]
    assert {line["client"].rsplit(":", 1)[0] for line in access} == {"127.0.0.1"}


def test_a_trusted_proxy_s_x_forwarded_for_names_the_client(serve_env, tmp_path):
    env = {**serve_env, "SMM_TRUSTED_PROXIES": '["127.0.0.1"]'}
    key = _key(env)

    with running_server(env, tmp_path / "serve.log") as base:
        statuses = _links_answered(base)
        audited = _audited_ip(base, key, "203.0.113.7")

    assert statuses == [404] * len(statuses)  # each client address has its own bucket
    assert audited == "203.0.113.7"
