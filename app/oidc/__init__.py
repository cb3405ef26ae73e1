"""OpenID Connect sign-in for organizations that have an identity provider (SMM_OIDC_*)."""

from app.oidc.client import OidcClient
from app.oidc.sealing import open_start, seal_start
from app.oidc.values import OidcClaims, OidcRefused, OidcStart, RefusalReason

__all__ = [
    "OidcClaims",
    "OidcClient",
    "OidcRefused",
    "OidcStart",
    "RefusalReason",
    "open_start",
    "seal_start",
]
