"""Verifying an ID token (OIDC Core 3.1.3.7) with joserfc: signature, then the claims."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeyFlexible

from app.oidc.values import OidcRefused

# Asymmetric signatures only: "none" is never acceptable, and an HMAC keyed with the client
# secret would let anyone who knows the secret mint tokens.
_SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
CLOCK_SKEW_SECONDS = 60


def verify_id_token(
    id_token: str,
    key: KeyFlexible,
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    offered_algorithms: Iterable[str] = ("RS256",),
) -> dict[str, Any]:
    """The claims of ``id_token`` once it is proved to be for this client and this sign-in.

    ``key`` is the provider's key set, or a joserfc callback that finds the token's key;
    ``offered_algorithms`` are those the provider's discovery document lists.
    """
    algorithms = [alg for alg in offered_algorithms if alg in _SIGNING_ALGORITHMS] or ["RS256"]
    try:
        token = jwt.decode(id_token, key, algorithms=algorithms)
    except BadSignatureError:
        raise OidcRefused("bad_signature") from None
    except InvalidKeyIdError:
        raise OidcRefused(
            "bad_signature", "the ID token was signed with a key the provider does not publish"
        ) from None
    except (JoseError, ValueError, KeyError):
        raise OidcRefused("bad_token") from None
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_SKEW_SECONDS,
        iss={"essential": True, "value": issuer},
        sub={"essential": True},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise OidcRefused("expired") from None
    except MissingClaimError as failure:
        raise OidcRefused("bad_token", f"the ID token lacks {failure.claim!r}") from None
    except InvalidClaimError as failure:
        raise _claim_refusal(failure.claim) from None
    except JoseError:
        raise OidcRefused("bad_token") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    # OIDC Core 3.1.3.7: with several audiences, the authorized party must be this client.
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcRefused("wrong_audience")
    received = claims.get("nonce")
    if (
        not nonce
        or not isinstance(received, str)
        or not secrets.compare_digest(received.encode(), nonce.encode())
    ):
        raise OidcRefused("nonce_mismatch")
    return claims


def _claim_refusal(claim: str) -> OidcRefused:
    if claim == "iss":
        return OidcRefused("wrong_issuer")
    if claim == "aud":
        return OidcRefused("wrong_audience")
    if claim in ("exp", "iat", "nbf"):
        return OidcRefused("expired")
    return OidcRefused("bad_token", f"the ID token's {claim!r} claim is invalid")
