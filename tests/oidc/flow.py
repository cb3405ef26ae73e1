"""The browser's round trip through the fake provider, as the console will drive it."""

from __future__ import annotations

from dataclasses import dataclass

from app.oidc import OidcClaims, OidcClient, OidcStart
from tests.support.oidc import FakeOidcProvider, callback_params

REDIRECT_URI = "http://127.0.0.1:8000/console/sign-in/callback"


@dataclass(frozen=True)
class Callback:
    """What came back to the redirect URI, and the start it answers."""

    start: OidcStart
    params: dict[str, str]


def round_trip(client: OidcClient, provider: FakeOidcProvider) -> Callback:
    """Begin a sign-in and follow the browser to the provider and back."""
    start = client.begin(REDIRECT_URI)
    return Callback(start, callback_params(provider.authorize(start.url)))


def finish(client: OidcClient, callback: Callback, **overrides: str | None) -> OidcClaims:
    """Finish the sign-in as the console's callback route would."""
    arguments: dict[str, str | None] = {
        "code": callback.params.get("code"),
        "state_expected": callback.start.state,
        "state_received": callback.params.get("state"),
        "nonce": callback.start.nonce,
        "code_verifier": callback.start.code_verifier,
        "error": callback.params.get("error"),
        **overrides,
    }
    return client.finish(REDIRECT_URI, **arguments)


def sign_in(client: OidcClient, provider: FakeOidcProvider) -> OidcClaims:
    return finish(client, round_trip(client, provider))
