"""Sign-in through the fake provider: the whole flow, PKCE, caching, and every refusal."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest
from pydantic import SecretStr

from app.config import Settings
from app.oidc import OidcClient, OidcRefused
from tests.oidc.flow import REDIRECT_URI, finish, round_trip, sign_in
from tests.support.oidc import FakeOidcProvider, FakeUser
from tests.support.servers import free_port


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def refusal(client: OidcClient, provider: FakeOidcProvider, **overrides: str | None) -> str:
    """The reason the sign-in is refused for."""
    callback = round_trip(client, provider)
    with pytest.raises(OidcRefused) as refused:
        finish(client, callback, **overrides)
    return refused.value.reason


def test_sign_in_gives_the_claims_of_the_user_the_provider_signed_in(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    oidc_provider.user = FakeUser(sub="okta|00u1", email="ben@clinic.example", name="Ben Ode")

    claims = sign_in(oidc_client, oidc_provider)

    assert claims.issuer == oidc_provider.issuer
    assert claims.subject == "okta|00u1"
    assert claims.email == "ben@clinic.example"
    assert claims.email_verified is True
    assert claims.name == "Ben Ode"


def test_an_unverified_email_and_a_missing_name_come_through_as_such(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    oidc_provider.user = FakeUser(sub="u-2", email="x@y.example", name=None, email_verified=False)

    claims = sign_in(oidc_client, oidc_provider)

    assert (claims.email_verified, claims.name) == (False, None)


def test_the_authorization_url_asks_for_a_code_with_pkce_s256_state_and_nonce(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    start = oidc_client.begin(REDIRECT_URI)

    url = httpx.URL(start.url)
    assert str(url.copy_with(query=None)) == f"{oidc_provider.issuer}/authorize"
    assert dict(url.params) == {
        "response_type": "code",
        "client_id": oidc_provider.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": start.state,
        "nonce": start.nonce,
        "code_challenge": s256(start.code_verifier),
        "code_challenge_method": "S256",
    }
    assert 43 <= len(start.code_verifier) <= 128


def test_every_sign_in_has_its_own_state_nonce_and_verifier(oidc_client: OidcClient) -> None:
    first, second = oidc_client.begin(REDIRECT_URI), oidc_client.begin(REDIRECT_URI)

    assert first.state != second.state
    assert first.nonce != second.nonce
    assert first.code_verifier != second.code_verifier
    assert len({first.state, first.nonce, first.code_verifier}) == 3


def test_the_code_is_exchanged_with_the_verifier_and_a_wrong_one_is_refused(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    callback = round_trip(oidc_client, oidc_provider)
    with pytest.raises(OidcRefused) as refused:
        finish(
            oidc_client,
            callback,
            code_verifier=round_trip(oidc_client, oidc_provider).start.code_verifier,
        )
    assert refused.value.reason == "token_refused"
    assert "invalid_grant" in refused.value.detail

    sign_in(oidc_client, oidc_provider)
    assert oidc_provider.token_requests[-1]["grant_type"] == "authorization_code"
    assert "code_verifier" in oidc_provider.token_requests[-1]


def test_a_code_works_once(oidc_provider: FakeOidcProvider, oidc_client: OidcClient) -> None:
    callback = round_trip(oidc_client, oidc_provider)
    finish(oidc_client, callback)

    with pytest.raises(OidcRefused) as refused:
        finish(oidc_client, callback)
    assert refused.value.reason == "token_refused"


def test_an_answer_with_another_state_is_refused_before_the_code_is_used(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    assert refusal(oidc_client, oidc_provider, state_received="someone-elses") == "state_mismatch"
    assert refusal(oidc_client, oidc_provider, state_received=None) == "state_mismatch"
    assert refusal(oidc_client, oidc_provider, state_expected="", state_received="") == (
        "state_mismatch"
    )
    assert oidc_provider.hits["token"] == 0


def test_an_error_from_the_provider_is_refused_naming_it(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    oidc_provider.faults.authorize_error = "access_denied"
    callback = round_trip(oidc_client, oidc_provider)
    assert "code" not in callback.params

    with pytest.raises(OidcRefused) as refused:
        finish(oidc_client, callback)
    assert refused.value.reason == "provider_error"
    assert "access_denied" in str(refused.value)


def test_a_provider_error_that_is_not_a_code_is_not_repeated(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    oidc_provider.faults.authorize_error = "<script>alert(1)</script>"
    callback = round_trip(oidc_client, oidc_provider)

    with pytest.raises(OidcRefused) as refused:
        finish(oidc_client, callback)
    assert "script" not in str(refused.value)


@pytest.mark.parametrize(
    ("fault", "value", "reason"),
    [
        ("audience", "another-client", "wrong_audience"),
        ("issuer", "https://impostor.example", "wrong_issuer"),
        ("lifetime_seconds", -600, "expired"),
        ("issued_at_offset", 3600, "expired"),
        ("nonce", "a-nonce-from-another-sign-in", "nonce_mismatch"),
        ("forge_signature", True, "bad_signature"),
        ("unpublished_key", True, "bad_signature"),
        ("token_error", "invalid_grant", "token_refused"),
    ],
)
def test_an_id_token_that_does_not_verify_is_refused(
    oidc_provider: FakeOidcProvider,
    oidc_client: OidcClient,
    fault: str,
    value: object,
    reason: str,
) -> None:
    setattr(oidc_provider.faults, fault, value)

    assert refusal(oidc_client, oidc_provider) == reason


def test_a_token_for_several_audiences_must_name_this_client_as_authorized_party(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    audiences = [oidc_provider.client_id, "another-client"]
    oidc_provider.faults.extra_claims = {"aud": audiences}
    assert refusal(oidc_client, oidc_provider) == "wrong_audience"

    oidc_provider.faults.extra_claims = {"aud": audiences, "azp": oidc_provider.client_id}
    assert sign_in(oidc_client, oidc_provider).subject == oidc_provider.user.sub


@pytest.mark.parametrize("claim", ["sub", "exp", "iat"])
def test_a_token_without_a_required_claim_is_refused(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient, claim: str
) -> None:
    oidc_provider.faults.extra_claims = {claim: None}

    assert refusal(oidc_client, oidc_provider) == "bad_token"


def test_a_sign_in_without_a_nonce_is_refused(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    assert refusal(oidc_client, oidc_provider, nonce="") == "nonce_mismatch"


def test_a_token_expired_within_the_clock_skew_allowance_is_accepted(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    oidc_provider.faults.lifetime_seconds = -20

    assert sign_in(oidc_client, oidc_provider).subject == oidc_provider.user.sub


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_the_client_authenticates_as_the_provider_offers(
    oidc_provider: FakeOidcProvider, method: str
) -> None:
    oidc_provider.faults.auth_methods = (method,)
    with OidcClient(oidc_provider.settings()) as client:
        sign_in(client, oidc_provider)

    sent_in_form = "client_id" in oidc_provider.token_requests[-1]
    assert sent_in_form == (method == "client_secret_post")


def test_a_wrong_client_secret_is_refused(oidc_provider: FakeOidcProvider) -> None:
    settings = oidc_provider.settings(oidc_client_secret=SecretStr("not-the-secret"))
    with OidcClient(settings) as client:
        assert refusal(client, oidc_provider) == "token_refused"


def test_an_unreachable_provider_is_refused(oidc_provider: FakeOidcProvider) -> None:
    settings = oidc_provider.settings(oidc_issuer=f"http://127.0.0.1:{free_port()}")
    with OidcClient(settings) as client, pytest.raises(OidcRefused) as refused:
        client.begin(REDIRECT_URI)
    assert refused.value.reason == "unreachable"


def test_a_provider_that_goes_down_mid_sign_in_is_unreachable(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    callback = round_trip(oidc_client, oidc_provider)
    oidc_provider.faults.down = True

    with pytest.raises(OidcRefused) as refused:
        finish(oidc_client, callback)
    assert refused.value.reason == "unreachable"


def test_a_discovery_document_for_another_issuer_is_refused(
    oidc_provider: FakeOidcProvider,
) -> None:
    # The same server under another name: its document names 127.0.0.1, not localhost.
    localhost = oidc_provider.issuer.replace("127.0.0.1", "localhost")
    settings = oidc_provider.settings(oidc_issuer=localhost)
    with OidcClient(settings) as client, pytest.raises(OidcRefused) as refused:
        client.begin(REDIRECT_URI)
    assert refused.value.reason == "bad_discovery"


def test_discovery_and_keys_are_fetched_once_for_many_sign_ins(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    for _ in range(3):
        sign_in(oidc_client, oidc_provider)

    assert oidc_provider.hits["discovery"] == 1
    assert oidc_provider.hits["jwks"] == 1
    assert oidc_provider.hits["token"] == 3


def test_a_rotated_key_is_fetched_once_when_a_token_names_it(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    sign_in(oidc_client, oidc_provider)
    oidc_provider.rotate_key()

    sign_in(oidc_client, oidc_provider)
    sign_in(oidc_client, oidc_provider)

    assert oidc_provider.hits["jwks"] == 2


def test_a_key_the_provider_does_not_publish_costs_one_refetch(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    sign_in(oidc_client, oidc_provider)
    oidc_provider.faults.unpublished_key = True

    assert refusal(oidc_client, oidc_provider) == "bad_signature"
    assert oidc_provider.hits["jwks"] == 2


def test_claims_kept_out_of_the_id_token_are_read_from_user_info(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    oidc_provider.faults.omit_claims = True
    oidc_provider.user = FakeUser(sub="u-9", email="cy@ward.example", name="Cy")

    claims = sign_in(oidc_client, oidc_provider)

    assert (claims.subject, claims.email, claims.name) == ("u-9", "cy@ward.example", "Cy")
    assert oidc_provider.hits["userinfo"] == 1


def test_user_info_about_someone_else_is_refused(
    oidc_provider: FakeOidcProvider, oidc_client: OidcClient
) -> None:
    oidc_provider.faults.omit_claims = True
    oidc_provider.faults.userinfo_sub = "another-user"

    assert refusal(oidc_client, oidc_provider) == "bad_userinfo"


def test_a_client_needs_oidc_settings() -> None:
    with pytest.raises(ValueError, match="SMM_OIDC_ISSUER"):
        OidcClient(Settings(oidc_issuer=None))


def test_a_redirect_uri_must_be_an_absolute_url(oidc_client: OidcClient) -> None:
    with pytest.raises(ValueError, match="redirect_uri"):
        oidc_client.begin("/console/callback")


def test_a_given_http_client_is_used_and_left_open(oidc_provider: FakeOidcProvider) -> None:
    seen: list[str] = []
    with httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url.path)]}) as http:
        with OidcClient(oidc_provider.settings(), http=http) as client:
            sign_in(client, oidc_provider)
        assert not http.is_closed
    assert seen == ["/.well-known/openid-configuration", "/token", "/jwks"]
