"""What a sign-in produces: its start, the claims it ends with, or the reason it was refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RefusalReason = Literal[
    "unreachable",
    "bad_discovery",
    "provider_error",
    "state_mismatch",
    "token_refused",
    "bad_token",
    "bad_signature",
    "wrong_issuer",
    "wrong_audience",
    "expired",
    "nonce_mismatch",
    "bad_userinfo",
]

REASON_TEXT: dict[str, str] = {
    "unreachable": "the identity provider could not be reached",
    "bad_discovery": "the identity provider's configuration is unusable",
    "provider_error": "the identity provider refused the sign-in",
    "state_mismatch": "the sign-in answer does not belong to this sign-in (state mismatch)",
    "token_refused": "the identity provider refused to exchange the code",
    "bad_token": "the identity provider sent an unusable ID token",
    "bad_signature": "the ID token's signature does not verify",
    "wrong_issuer": "the ID token was issued by another provider",
    "wrong_audience": "the ID token was issued for another client",
    "expired": "the ID token has expired or was issued in the future",
    "nonce_mismatch": "the ID token does not belong to this sign-in (nonce mismatch)",
    "bad_userinfo": "the identity provider's user information does not match the ID token",
}


class OidcRefused(Exception):
    """Sign-in through the identity provider failed; ``reason`` says why (a stable code)."""

    def __init__(self, reason: RefusalReason, detail: str | None = None) -> None:
        self.reason: RefusalReason = reason
        self.detail = detail or REASON_TEXT[reason]
        super().__init__(self.detail)


@dataclass(frozen=True, slots=True)
class OidcStart:
    """A sign-in in progress: where to send the browser, and what to keep until it returns."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class OidcClaims:
    """Who the provider says signed in, from a verified ID token (and user info)."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
