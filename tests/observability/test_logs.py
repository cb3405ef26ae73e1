"""Log lines: JSON objects that carry the request (or job) they belong to, and no secrets."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from app.config import Settings
from app.observability import log_context
from app.observability.logs import JsonFormatter, TextFormatter, log_format, redact
from app.observability.requests import REQUEST_ID_HEADER

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything the ``smm`` loggers write, formatted as the service formats it (JSON)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("smm")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def chatty_app(app: FastAPI) -> FastAPI:
    """The app with two routes of a test's own: one that logs twice, one that fails."""
    log = logging.getLogger("smm.test")

    def chatty() -> dict[str, str]:  # sync: runs in the thread pool, as most routes do
        log.info("first step")
        with log_context(step="second"):
            log.info("second step")
        return {"thread": threading.current_thread().name}

    def broken() -> None:
        log.info("about to fail")
        raise RuntimeError("the database is on fire")

    app.add_api_route("/test/chatty", chatty, include_in_schema=False)
    app.add_api_route("/test/broken", broken, include_in_schema=False)
    return app


@pytest.fixture
def chatty_client(chatty_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(chatty_app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_every_response_carries_a_generated_request_id(client):
    first = client.get("/healthz").headers[REQUEST_ID_HEADER]
    second = client.get("/v1/questionnaires").headers[REQUEST_ID_HEADER]  # a 401

    assert HEX_ID.fullmatch(first)
    assert HEX_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "sent",
    ["req-42", "3f2b8c1e-0d7a-4b8e-9d1c-6a5e4f3b2a10", "lb:7:abc.def_1"],
)
def test_a_valid_incoming_request_id_is_kept(client, sent):
    response = client.get("/healthz", headers={REQUEST_ID_HEADER: sent})

    assert response.headers[REQUEST_ID_HEADER] == sent


@pytest.mark.parametrize(
    "sent",
    [b"", b"two words", b"x" * 129, b'{"level":"error"}', b"-starts-with-a-dash", "ünï".encode()],
)
def test_an_unusable_incoming_request_id_is_replaced(client, sent):
    response = client.get("/healthz", headers={REQUEST_ID_HEADER: sent})

    assert HEX_ID.fullmatch(response.headers[REQUEST_ID_HEADER])


def test_every_line_logged_during_a_request_carries_its_request_id(chatty_client, captured):
    response = chatty_client.get("/test/chatty", headers={REQUEST_ID_HEADER: "trace-1"})

    assert response.status_code == 200
    assert response.json()["thread"] != threading.current_thread().name
    logged = lines(captured)
    assert [(line["message"], line["request_id"]) for line in logged] == [
        ("first step", "trace-1"),
        ("second step", "trace-1"),
    ]
    assert "step" not in logged[0]
    assert logged[1]["step"] == "second"


def test_an_unexpected_error_is_logged_with_the_request_id_it_answers_with(chatty_client, captured):
    response = chatty_client.get("/test/broken")

    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    request_id = response.headers[REQUEST_ID_HEADER]
    logged = lines(captured)
    assert [line["message"] for line in logged] == [
        "about to fail",
        "unhandled error on GET /test/broken",
    ]
    assert {line["request_id"] for line in logged} == {request_id}
    assert "RuntimeError: the database is on fire" in str(logged[1]["exception"])


def test_requests_do_not_leak_their_id_into_the_next(chatty_client, captured):
    chatty_client.get("/test/chatty", headers={REQUEST_ID_HEADER: "first"})
    chatty_client.get("/test/broken", headers={REQUEST_ID_HEADER: "second"})
    chatty_client.get("/test/chatty", headers={REQUEST_ID_HEADER: "third"})
    logging.getLogger("smm.test").info("outside any request")

    ids = [line.get("request_id") for line in lines(captured)]
    assert ids == ["first", "first", "second", "second", "third", "third", None]


def test_a_json_line_has_time_in_utc_level_logger_and_message():
    record = logging.LogRecord(
        "smm.jobs", logging.WARNING, __file__, 1, "job %s failed", ("j1",), None
    )
    with log_context(job_id="j1"):
        line = json.loads(JsonFormatter().format(record))

    assert line["level"] == "warning"
    assert line["logger"] == "smm.jobs"
    assert line["message"] == "job j1 failed"
    assert line["job_id"] == "j1"
    assert datetime.fromisoformat(str(line["time"])).utcoffset() == timedelta(0)


def test_nested_log_contexts_add_fields_and_restore_them_on_exit():
    formatter = TextFormatter()
    record = logging.LogRecord("smm", logging.INFO, __file__, 1, "rendered", None, None)
    with log_context(request_id="r1"):
        with log_context(job_id="j1"):
            inner = formatter.format(record)
        outer = formatter.format(record)
    after = formatter.format(record)

    assert inner.endswith("[request_id=r1 job_id=j1]")
    assert outer.endswith("[request_id=r1]")
    assert after.endswith("smm: rendered")


@pytest.mark.parametrize(
    ("setting", "terminal", "expected"),
    [
        ("auto", True, "text"),
        ("auto", False, "json"),
        ("json", True, "json"),
        ("text", False, "text"),
    ],
)
def test_log_format_auto_is_text_on_a_terminal_and_json_elsewhere(
    monkeypatch, setting, terminal, expected
):
    monkeypatch.setattr("sys.stderr.isatty", lambda: terminal)

    assert log_format(Settings(log_format=setting)) == expected


SECRET_ALPHABET = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=16
)


@given(
    prefix=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=12),
    secret=SECRET_ALPHABET,
    before=st.text(alphabet=" .,:;=\"'()[]{}<>/", max_size=20),
    after=st.text(alphabet=" .,:;=\"'()[]{}<>/", max_size=20),
)
def test_no_api_key_secret_survives_redaction(prefix, secret, before, after):
    redacted = redact(f"{before} smm_{prefix}_{secret}{after}")

    assert secret not in redacted
    assert f"smm_{prefix}_[redacted]" in redacted


@given(token=SECRET_ALPHABET, query=st.sampled_from(["", "?next=1", "#top", " HTTP/1.1"]))
def test_no_invitation_token_survives_redaction(token, query):
    redacted = redact(f'GET /i/{token}{query} 303 "https://assess.example.org/i/{token}"')

    assert token not in redacted
    assert redacted.count("/i/[redacted]") == 2


def test_a_bearer_credential_of_any_shape_is_redacted():
    assert redact("Authorization: Bearer not-a-key-at-all") == "Authorization: Bearer [redacted]"
