"""No code, token, verifier or secret of a sign-in reaches a log line, whatever happens."""

from __future__ import annotations

import logging

import pytest

from app.oidc import OidcClient, OidcRefused
from tests.oidc.flow import REDIRECT_URI, Callback, finish, sign_in
from tests.support.oidc import FakeOidcProvider, Faults, callback_params


def everything_logged(records: list[logging.LogRecord]) -> str:
    """Each record's message and every attribute, unredacted (formatters redact; this doesn't)."""
    return "\n".join(f"{record.getMessage()} {vars(record)!r}" for record in records)


def test_no_secret_of_a_sign_in_is_logged(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ours: list[logging.LogRecord] = []
    secrets: list[str] = [oidc_provider.client_secret]
    refusals: list[str] = []

    # A sign-in that succeeds, one refused at the token endpoint, one refused on the nonce.
    for faults in ({}, {"token_error": "invalid_grant"}, {"nonce": "wrong"}):
        oidc_provider.faults = Faults(**faults)
        caplog.clear()
        start = oidc_client.begin(REDIRECT_URI)
        ours += caplog.records
        secrets += [start.state, start.nonce, start.code_verifier]
        # The browser's own trip to the provider is not this service's logging.
        callback = Callback(start, callback_params(oidc_provider.authorize(start.url)))
        caplog.clear()
        try:
            finish(oidc_client, callback)
        except OidcRefused as refused:
            refusals.append(str(refused))
        ours += caplog.records

    logged = everything_logged(ours) + "\n".join(refusals)
    assert "OpenID Connect sign-in verified" in logged
    assert "OpenID Connect sign-in refused: token_refused" in logged
    assert "OpenID Connect sign-in refused: nonce_mismatch" in logged
    assert len(refusals) == 2
    assert len(oidc_provider.issued) >= 5  # codes, access tokens and ID tokens
    for secret in secrets + oidc_provider.issued:
        assert secret not in logged


def test_the_client_secret_is_not_in_the_clients_repr(oidc_provider: FakeOidcProvider) -> None:
    client = OidcClient(oidc_provider.settings())
    try:
        sign_in(client, oidc_provider)
        assert oidc_provider.client_secret not in repr(vars(client))
    finally:
        client.close()
