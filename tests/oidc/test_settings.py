"""SMM_OIDC_* settings: off by default, complete when on, and never plain http off this machine."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from app.config import Settings, is_secure_provider_url

COMPLETE = {"oidc_client_id": "smm", "oidc_client_secret": SecretStr("s3cret-value")}


def test_oidc_is_off_unless_an_issuer_is_set() -> None:
    settings = Settings(oidc_issuer=None)

    assert not settings.oidc_enabled
    assert settings.oidc_scopes == "openid email profile"


def test_the_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMM_OIDC_ISSUER", "https://clinic.okta.example/oauth2/default")
    monkeypatch.setenv("SMM_OIDC_CLIENT_ID", "0oa1smm")
    monkeypatch.setenv("SMM_OIDC_CLIENT_SECRET", "very-secret-value")
    monkeypatch.setenv("SMM_OIDC_DISPLAY_NAME", "Sign in with Okta")

    settings = Settings()

    assert settings.oidc_enabled
    assert settings.oidc_client_id == "0oa1smm"
    assert settings.oidc_display_name == "Sign in with Okta"
    assert settings.oidc_client_secret is not None
    assert settings.oidc_client_secret.get_secret_value() == "very-secret-value"
    assert "very-secret-value" not in repr(settings)


def test_empty_variables_leave_oidc_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMM_OIDC_ISSUER", "SMM_OIDC_CLIENT_ID", "SMM_OIDC_CLIENT_SECRET"):
        monkeypatch.setenv(name, "")

    assert not Settings().oidc_enabled


@pytest.mark.parametrize("missing", ["oidc_client_id", "oidc_client_secret"])
def test_an_issuer_needs_a_client_id_and_secret(missing: str) -> None:
    values = {**COMPLETE, missing: None}

    with pytest.raises(ValidationError, match=missing):
        Settings(oidc_issuer="https://idp.example.org", **values)


def test_an_empty_client_secret_counts_as_none() -> None:
    with pytest.raises(ValidationError, match="oidc_client_secret"):
        Settings(
            oidc_issuer="https://idp.example.org",
            oidc_client_id="smm",
            oidc_client_secret=SecretStr(""),
        )


@pytest.mark.parametrize(
    "issuer",
    [
        "https://idp.example.org",
        "https://login.microsoftonline.com/tenant-id/v2.0",
        "http://127.0.0.1:9400",
        "http://localhost:9400/realms/smm",
        "http://[::1]:9400",
    ],
)
def test_https_issuers_and_loopback_http_ones_are_accepted(issuer: str) -> None:
    assert Settings(oidc_issuer=issuer, **COMPLETE).oidc_issuer == issuer


@pytest.mark.parametrize(
    "issuer",
    [
        "http://idp.example.org",
        "http://10.0.0.5:8080",
        "http://127.0.0.1.example.org",
        "http://localhost.example.org",
        "ftp://idp.example.org",
        "idp.example.org",
        "https://",
        "https://idp.example.org/?tenant=1",
        "https://idp.example.org/#x",
    ],
)
def test_plain_http_off_this_machine_and_malformed_issuers_are_refused(issuer: str) -> None:
    with pytest.raises(ValidationError, match="oidc_issuer must be an https URL"):
        Settings(oidc_issuer=issuer, **COMPLETE)


def test_the_scopes_must_include_openid() -> None:
    with pytest.raises(ValidationError, match="openid"):
        Settings(oidc_issuer="https://idp.example.org", oidc_scopes="email profile", **COMPLETE)


def test_the_provider_url_rule_matches_the_issuer_rule() -> None:
    assert is_secure_provider_url("https://idp.example.org/token")
    assert is_secure_provider_url("http://127.0.0.2:1/token")
    assert not is_secure_provider_url("http://idp.example.org/token")
    assert not is_secure_provider_url("http://[::1")
