"""OpenID Connect sign-in against an organization's identity provider (authorization code + PKCE).

The relying-party side only: build the authorization URL (`OidcClient.begin`), then turn
the code the provider sends back into verified claims (`OidcClient.finish`). Authlib's
OAuth 2 client builds the requests (PKCE S256, client authentication, the token request)
over this service's own httpx client; `app.oidc.id_token` verifies the ID token with
joserfc: signature against the provider's published keys, issuer, audience, expiry, issue
time and nonce.

Everything that can go wrong ends in one `OidcRefused` naming the reason, so the console
answers every failure the same way. Codes, tokens, verifiers and the client secret are
never logged nor put in an error message: only reason codes and the provider's address.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Generator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.client import OAuth2Client
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import GuestProtocol, Key, KeySet

from app.config import Settings, is_secure_provider_url
from app.oidc.id_token import verify_id_token
from app.oidc.values import REASON_TEXT, OidcClaims, OidcRefused, OidcStart, RefusalReason

logger = logging.getLogger(__name__)

_DISCOVERY_SECONDS = 3600.0
_SAFE_ERROR_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class _ClientSecretAuth(httpx.Auth):
    """Authlib's client authentication (basic or post) applied to an httpx request."""

    requires_request_body = True

    def __init__(self, client_auth: Any) -> None:
        self._client_auth = client_auth

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = httpx.Headers(request.headers)  # case-insensitive, as Authlib expects
        url, headers, body = self._client_auth.prepare(
            request.method, str(request.url), headers, request.content.decode()
        )
        content = body.encode() if isinstance(body, str) else body
        headers["Content-Length"] = str(len(content))
        yield httpx.Request(
            request.method, url, headers=headers, content=content, extensions=request.extensions
        )


class OidcClient:
    """Sign-in through the provider named by ``settings.oidc_issuer``.

    One instance serves the whole process (it is thread-safe): it fetches the provider's
    discovery document and keys once and keeps them (the document for an hour; the keys
    until a token names a key they lack, which fetches them once more, as after a
    provider's key rotation). ``http`` is the client to reach the provider with (by
    default one of its own, closed by `close`).
    """

    def __init__(self, settings: Settings, *, http: httpx.Client | None = None) -> None:
        if settings.oidc_issuer is None or settings.oidc_client_id is None:
            raise ValueError("OpenID Connect sign-in is not configured (SMM_OIDC_ISSUER)")
        if settings.oidc_client_secret is None:
            raise ValueError("SMM_OIDC_CLIENT_SECRET is not set")
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self._client_secret = settings.oidc_client_secret
        self.scopes = settings.oidc_scopes
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=10.0, follow_redirects=False)
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    def close(self) -> None:
        """Close the HTTP client, if this instance made it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> OidcClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def begin(self, redirect_uri: str) -> OidcStart:
        """A new sign-in: the provider's authorization URL with fresh state, nonce and PKCE."""
        _check_redirect_uri(redirect_uri)
        try:
            metadata = self.metadata()
        except OidcRefused as refused:
            logger.warning(
                "OpenID Connect sign-in cannot start: %s",
                refused.reason,
                extra={"oidc_issuer": self.issuer, "oidc_reason": refused.reason},
            )
            raise
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        code_verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 wants 43 to 128
        url, _ = self._oauth().create_authorization_url(
            metadata["authorization_endpoint"],
            state=state,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            nonce=nonce,
        )
        return OidcStart(url=url, state=state, nonce=nonce, code_verifier=code_verifier)

    def finish(
        self,
        redirect_uri: str,
        *,
        code: str | None,
        state_expected: str,
        state_received: str | None,
        nonce: str,
        code_verifier: str,
        error: str | None = None,
    ) -> OidcClaims:
        """The verified claims of the user the provider sent back, or `OidcRefused`.

        ``code``, ``state_received`` and ``error`` are the callback's query parameters
        (``error`` when the provider refused, e.g. ``access_denied``); the rest is what
        `begin` returned for this browser.
        """
        try:
            claims = self._finish(
                redirect_uri,
                code=code,
                state_expected=state_expected,
                state_received=state_received,
                nonce=nonce,
                code_verifier=code_verifier,
                error=error,
            )
        except OidcRefused as refused:
            logger.warning(
                "OpenID Connect sign-in refused: %s",
                refused.reason,
                extra={"oidc_issuer": self.issuer, "oidc_reason": refused.reason},
            )
            raise
        logger.info("OpenID Connect sign-in verified", extra={"oidc_issuer": self.issuer})
        return claims

    def _finish(
        self,
        redirect_uri: str,
        *,
        code: str | None,
        state_expected: str,
        state_received: str | None,
        nonce: str,
        code_verifier: str,
        error: str | None,
    ) -> OidcClaims:
        # The state is checked first: an answer that is not this browser's sign-in is not
        # acted upon at all, not even its error.
        if (
            not state_expected
            or state_received is None
            or not secrets.compare_digest(state_received.encode(), state_expected.encode())
        ):
            raise OidcRefused("state_mismatch")
        if error is not None:
            shown = error if _SAFE_ERROR_CODE.fullmatch(error) else "unknown"
            raise OidcRefused(
                "provider_error", f"the identity provider refused the sign-in ({shown})"
            )
        if not code:
            raise OidcRefused("token_refused", "the identity provider sent no code")
        metadata = self.metadata()
        token = self._exchange(metadata, redirect_uri, code, code_verifier)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcRefused("bad_token", "the identity provider sent no ID token")
        claims = verify_id_token(
            id_token,
            self._key_finder(metadata),
            issuer=metadata["issuer"],
            client_id=self.client_id,
            nonce=nonce,
            offered_algorithms=metadata.get("id_token_signing_alg_values_supported", ["RS256"]),
        )
        access_token = token.get("access_token")
        if claims.get("email") is None and isinstance(access_token, str):
            claims = {**self._userinfo(metadata, access_token, claims["sub"]), **claims}
        return OidcClaims(
            issuer=claims["iss"],
            subject=claims["sub"],
            email=_text(claims.get("email")),
            email_verified=_truthy(claims.get("email_verified")),
            name=_text(claims.get("name")),
        )

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, fetched once an hour at most."""
        with self._lock:
            fresh = time.monotonic() - self._metadata_at < _DISCOVERY_SECONDS
            if self._metadata is not None and fresh:
                return self._metadata
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get_json(url, "bad_discovery")
        _check_discovery(document, self.issuer)
        logger.info("OpenID Connect discovery fetched", extra={"oidc_issuer": self.issuer})
        with self._lock:
            self._metadata, self._metadata_at = document, time.monotonic()
        return document

    def _oauth(self, token_endpoint_auth_method: str | None = None) -> Any:
        return OAuth2Client(
            session=self._http,
            client_id=self.client_id,
            client_secret=self._client_secret.get_secret_value(),
            token_endpoint_auth_method=token_endpoint_auth_method,
            scope=self.scopes,
            code_challenge_method="S256",
        )

    def _exchange(
        self, metadata: Mapping[str, Any], redirect_uri: str, code: str, code_verifier: str
    ) -> Mapping[str, Any]:
        method = _auth_method(metadata)
        oauth = self._oauth(method)
        auth = _ClientSecretAuth(ClientAuth(self.client_id, oauth.client_secret, method))
        try:
            token = oauth.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=code_verifier,
                auth=auth,
            )
        except httpx.RequestError as failure:  # refused, timed out, reset, garbled
            raise OidcRefused("unreachable") from failure
        except OAuth2Error as failure:
            shown = failure.error if _SAFE_ERROR_CODE.fullmatch(failure.error or "") else "unknown"
            raise OidcRefused(
                "token_refused",
                f"the identity provider refused to exchange the code ({shown})",
            ) from None
        except httpx.HTTPStatusError as failure:
            down = failure.response.status_code >= 500
            raise OidcRefused("unreachable" if down else "token_refused") from None
        except ValueError:
            raise OidcRefused("token_refused") from None
        if not isinstance(token, Mapping):
            raise OidcRefused("token_refused")
        return token

    def _key_finder(self, metadata: Mapping[str, Any]) -> Any:
        """A joserfc key callback: the token's key from the provider's set, refetched once."""

        def find(token: GuestProtocol) -> Key:
            header = token.headers()
            parameters: Any = {"alg": header["alg"], "use": "sig"}
            kid = header.get("kid")
            keys = self._keys
            if keys is not None:
                try:
                    return keys.get_by_kid(kid, parameters)
                except InvalidKeyIdError:
                    pass  # a rotated key: fetch the set once more
            keys = self._fetch_keys(metadata)
            return keys.get_by_kid(kid, parameters)

        return find

    def _fetch_keys(self, metadata: Mapping[str, Any]) -> KeySet:
        document = self._get_json(metadata["jwks_uri"], "bad_discovery")
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise OidcRefused(
                "bad_discovery", "the identity provider's keys are unusable"
            ) from None
        with self._lock:
            self._keys = keys
        return keys

    def _userinfo(
        self, metadata: Mapping[str, Any], access_token: str, subject: str
    ) -> dict[str, Any]:
        """Claims the provider keeps out of the ID token (OIDC Core 5.4), for the same user."""
        endpoint = metadata.get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        info = self._get_json(
            endpoint, "bad_userinfo", headers={"Authorization": f"Bearer {access_token}"}
        )
        if info.get("sub") != subject:  # OIDC Core 5.3.2: else it may be someone else's
            raise OidcRefused("bad_userinfo")
        return {key: info[key] for key in ("email", "email_verified", "name") if key in info}

    def _get_json(
        self, url: str, reason: RefusalReason, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers=headers)
        except httpx.RequestError as failure:  # refused, timed out, reset, garbled
            raise OidcRefused("unreachable") from failure
        if response.status_code != 200:
            status = response.status_code
            reason = "unreachable" if status >= 500 else reason
            raise OidcRefused(reason, f"{REASON_TEXT[reason]} (HTTP {status})")
        try:
            document = response.json()
        except ValueError:
            raise OidcRefused(reason) from None
        if not isinstance(document, dict):
            raise OidcRefused(reason)
        return document


def _check_discovery(document: Mapping[str, Any], issuer: str) -> None:
    """Refuse a discovery document that names another issuer or unsafe endpoints."""
    if document.get("issuer") != issuer:  # OIDC Discovery 4.3: must be identical
        raise OidcRefused("bad_discovery", "the discovery document names another issuer")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not is_secure_provider_url(value):
            raise OidcRefused("bad_discovery", f"the discovery document's {name} is unusable")
    userinfo = document.get("userinfo_endpoint")
    if userinfo is not None and (
        not isinstance(userinfo, str) or not is_secure_provider_url(userinfo)
    ):
        raise OidcRefused("bad_discovery", "the discovery document's userinfo_endpoint is unusable")
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise OidcRefused("bad_discovery", "the identity provider does not support PKCE S256")


def _auth_method(metadata: Mapping[str, Any]) -> str:
    """client_secret_basic unless the provider offers only client_secret_post."""
    offered = metadata.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    if "client_secret_basic" not in offered and "client_secret_post" in offered:
        return "client_secret_post"
    return "client_secret_basic"


def _check_redirect_uri(redirect_uri: str) -> None:
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ValueError("redirect_uri must be an absolute http(s) URL without a fragment")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _truthy(value: object) -> bool:
    # Some providers send email_verified as the string "true".
    return value is True or (isinstance(value, str) and value.lower() == "true")
