"""A mistyped or tampered invitation link never puts its token in `smm serve`'s log.

Whatever the spelling (case, doubled slashes, percent-encoding, the token without its
/i/, only its nonce or signature), the access log line has the path with the token, the
nonce and the signature redacted.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from app.observability.logs import redact
from tests.support.cli import sqlite_serve_environment
from tests.support.servers import running_server

NONCE = secrets.token_urlsafe(24)
SIGNATURE = secrets.token_urlsafe(18)
TOKEN = f"{NONCE}.{SIGNATURE}"
EVERY_BYTE_ENCODED = "".join(f"%{b:02X}" for b in TOKEN.encode())

SPELLINGS = {
    "the link": f"/i/{TOKEN}",
    "capital I": f"/I/{TOKEN}",
    "doubled slashes": f"//i//{TOKEN}",
    "leading doubled slash": f"//i/{TOKEN}",
    "no /i/": f"/{TOKEN}",
    "under /form": f"/form/{TOKEN}",
    "upper-cased token": f"/i/{TOKEN.upper()}",
    "upper-cased, no /i/": f"/{TOKEN.upper()}",
    "lower-cased, no /i/": f"/{TOKEN.lower()}",
    "the nonce only": f"/{NONCE}",
    "the signature only": f"/x/{SIGNATURE}",
    "i percent-encoded": f"/%69/{TOKEN}",
    "slash percent-encoded": f"/i%2F{TOKEN}",
    "token percent-encoded": f"/i/{EVERY_BYTE_ENCODED}",
    "token percent-encoded, no /i/": f"/{EVERY_BYTE_ENCODED}",
    "in the query": f"/form?t={quote(TOKEN)}",
    "trailing parts": f"/i/{TOKEN}/extra?x=1",
}
SECRETS = [NONCE, SIGNATURE, TOKEN, TOKEN.upper(), TOKEN.lower(), NONCE.upper(), NONCE.lower()]


@pytest.fixture
def serve_env(tmp_path: Path) -> dict[str, str]:
    return sqlite_serve_environment(
        tmp_path / "logs.db", SMM_LOG_LEVEL="debug", SMM_WEB_RATE_BURST="1000"
    )


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_no_spelling_of_a_token_in_a_path_reaches_the_access_log(serve_env, tmp_path, log_format):
    log = tmp_path / "serve.log"
    env = {**serve_env, "SMM_LOG_FORMAT": log_format}

    with running_server(env, log) as base:
        answered = {}
        with httpx.Client(timeout=30) as http:
            for name, path in SPELLINGS.items():
                # Sent as written: no client-side normalisation of slashes or escapes.
                request = http.build_request("GET", base)
                request.url = request.url.copy_with(raw_path=path.encode())
                answered[name] = http.send(request).status_code

    assert all(400 <= status < 500 for status in answered.values()), answered
    text = log.read_text()
    access = [line for line in text.splitlines() if "uvicorn.access" in line]
    assert len(access) >= len(SPELLINGS)
    for secret in SECRETS:
        assert secret not in text, f"{secret} is in the log"
    assert "[redacted]" in text


def test_ids_and_words_in_paths_are_kept():
    for path in [
        "/v1/assessments/3fa85f64-5717-4562-b3fc-2c963f66afa6/report.pdf",
        "/v1/questionnaires/hospital-social-media/versions/1",
        "/v1/exports/assessments.csv?questionnaire=hospital-social-media",
        "/v1/audit?before_id=99999999999999999999999",
    ]:
        assert redact(f"GET {path} 200") == f"GET {path} 200"
