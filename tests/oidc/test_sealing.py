"""The signed cookie value that carries a sign-in in progress."""

from __future__ import annotations

import string

import pytest

from app.oidc import OidcStart, open_start, seal_start

KEY = b"k" * 32
START = OidcStart(
    url="https://idp.example.org/authorize?client_id=smm&state=abc",
    state="abc",
    nonce="n-123",
    code_verifier="v" * 86,
)
NOW = 1_800_000_000


def test_a_sealed_start_opens_to_the_same_start() -> None:
    value = seal_start(START, KEY, now=NOW)

    assert open_start(value, KEY, now=NOW + 599) == START


def test_the_value_fits_a_cookie_without_quoting() -> None:
    value = seal_start(START, KEY)

    assert set(value) <= set(string.ascii_letters + string.digits + "-_.")
    assert len(value) < 4096
    assert open_start(value, KEY) == START


def test_an_old_start_is_refused() -> None:
    value = seal_start(START, KEY, now=NOW)

    assert open_start(value, KEY, now=NOW + 601) is None
    assert open_start(value, KEY, max_age_seconds=60, now=NOW + 61) is None
    assert open_start(value, KEY, now=NOW - 3600) is None  # sealed in the future


def test_another_key_or_a_changed_value_is_refused() -> None:
    value = seal_start(START, KEY, now=NOW)
    payload, signature = value.split(".")
    other = seal_start(
        OidcStart(url=START.url, state="other", nonce=START.nonce, code_verifier="w" * 86),
        KEY,
        now=NOW,
    )

    assert open_start(value, b"another key", now=NOW) is None
    assert open_start(f"{other.split('.')[0]}.{signature}", KEY, now=NOW) is None
    assert open_start(f"{payload}.{signature[:-2]}", KEY, now=NOW) is None


@pytest.mark.parametrize(
    "value",
    [None, "", ".", "a.b.c", "nodot", "!!!.???", "é.é", "x" * 5000 + ".y"],
)
def test_malformed_values_are_refused(value: str | None) -> None:
    assert open_start(value, KEY) is None


def test_a_signed_value_that_is_not_a_start_is_refused() -> None:
    from app.oidc.sealing import _b64encode, _signature

    for body in (b"[1, 2]", b"not json", b'{"state": 1, "sealed_at": 1}'):
        payload = _b64encode(body)
        assert open_start(f"{payload}.{_signature(KEY, payload)}", KEY) is None
