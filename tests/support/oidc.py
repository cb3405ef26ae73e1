"""A fake OpenID Connect provider on 127.0.0.1 for the sign-in tests; never a real one.

It is a real HTTP server (uvicorn in a thread, on an ephemeral port) with discovery, keys,
an authorization endpoint that redirects straight back with a code for the user a test
chose (no login form), a token endpoint that checks the client secret and the PKCE
verifier, and user info. ``faults`` makes it misbehave the ways a provider can: an
error answer, a token for another audience, an expired token, another nonce, a forged
signature, claims kept out of the ID token.

Use the ``oidc_provider`` fixture (imported into tests/conftest.py)::

    def test_sign_in(oidc_provider: FakeOidcProvider) -> None:
        oidc_provider.user = FakeUser(sub="u-1", email="ana@example.org", name="Ana")
        settings = oidc_provider.settings()            # SMM_OIDC_* for this provider
        ...
        callback = oidc_provider.authorize(start.url)  # the browser's round trip

The server lives for the test session (one per xdist worker); the fixture resets the
user, faults and counters before each test.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from app.config import Settings
from tests.support.servers import served_in_thread

CLIENT_ID = "smm-console-test"
CLIENT_SECRET = "fake-provider-client-secret-0123456789"


@dataclass
class FakeUser:
    """The user the fake provider signs in, as its claims."""

    sub: str = "user-0001"
    email: str | None = "ana.lopez@lakeside.example"
    name: str | None = "Ana Lopez"
    email_verified: bool = True


@dataclass
class Faults:
    """How the fake provider misbehaves; all off by default."""

    authorize_error: str | None = None  # redirect back with ?error=... instead of a code
    token_error: str | None = None  # the token endpoint answers 400 {"error": ...}
    audience: str | None = None  # the ID token's aud (default: the client id)
    issuer: str | None = None  # the ID token's iss (default: the provider's)
    lifetime_seconds: int = 300  # negative: the ID token expired that long ago
    issued_at_offset: int = 0  # seconds added to iat (positive: issued in the future)
    nonce: str | None = None  # the ID token's nonce (default: the one asked for)
    forge_signature: bool = False  # sign with a key that is not published, same kid
    unpublished_key: bool = False  # sign with a key that is not published, under a new kid
    omit_claims: bool = False  # keep email and name out of the ID token (user info only)
    userinfo_sub: str | None = None  # user info answers for another subject
    down: bool = False  # every endpoint answers 503
    extra_claims: dict[str, Any] = field(default_factory=dict)  # merged into the ID token
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post")  # offered


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str
    user: FakeUser


@dataclass
class FakeOidcProvider:
    """State of the fake provider; a test sets ``user`` and ``faults`` and reads ``hits``."""

    issuer: str = ""
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    user: FakeUser = field(default_factory=FakeUser)
    faults: Faults = field(default_factory=Faults)
    hits: Counter[str] = field(default_factory=Counter)  # requests per endpoint name
    token_requests: list[dict[str, str]] = field(default_factory=list)  # forms, no secrets
    issued: list[str] = field(default_factory=list)  # every code and token it handed out
    key: RSAKey = field(default_factory=lambda: _new_key("key-1"))
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _access: dict[str, FakeUser] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        """Back to the default user, no faults, no counts, the first key."""
        self.user, self.faults = FakeUser(), Faults()
        self.hits.clear()
        self.token_requests.clear()
        self.issued.clear()
        self._grants.clear()
        self._access.clear()
        if self.key.kid != "key-1":
            self.key = _new_key("key-1")

    def rotate_key(self) -> None:
        """Sign from now on with a new key (and a new kid), as a provider's rotation does."""
        self.key = _new_key(f"key-{secrets.token_hex(4)}")

    def settings(self, **overrides: Any) -> Settings:
        """Settings whose SMM_OIDC_* point at this provider (plus ``overrides``)."""
        values: dict[str, Any] = {
            "oidc_issuer": self.issuer,
            "oidc_client_id": self.client_id,
            "oidc_client_secret": SecretStr(self.client_secret),
            "oidc_display_name": "Sign in with Fake IdP",
            **overrides,
        }
        return Settings(**values)

    def environment(self) -> dict[str, str]:
        """The same settings as SMM_OIDC_* environment variables (for `smm serve`)."""
        return {
            "SMM_OIDC_ISSUER": self.issuer,
            "SMM_OIDC_CLIENT_ID": self.client_id,
            "SMM_OIDC_CLIENT_SECRET": self.client_secret,
            "SMM_OIDC_DISPLAY_NAME": "Sign in with Fake IdP",
        }

    def authorize(self, url: str) -> str:
        """What a browser does at the authorization URL: the callback URL it is sent to."""
        response = httpx.get(url, follow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["location"]

    # --- the endpoints -------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
                Route("/userinfo", self._userinfo),
            ]
        )

    def _unavailable(self, name: str) -> Response | None:
        self.hits[name] += 1
        return Response("down", status_code=503) if self.faults.down else None

    async def _discovery(self, request: Request) -> Response:
        if (down := self._unavailable("discovery")) is not None:
            return down
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": list(self.faults.auth_methods),
                "scopes_supported": ["openid", "email", "profile"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        if (down := self._unavailable("jwks")) is not None:
            return down
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def _authorize(self, request: Request) -> Response:
        if (down := self._unavailable("authorize")) is not None:
            return down
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        back: dict[str, str] = {}
        if (state := query.get("state")) is not None:
            back["state"] = state
        if self.faults.authorize_error is not None:
            back["error"] = self.faults.authorize_error
            return RedirectResponse(_with_query(redirect_uri, back), status_code=302)
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            back["error"] = "invalid_request"
            return RedirectResponse(_with_query(redirect_uri, back), status_code=302)
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            back["error"] = "invalid_request"  # this provider insists on PKCE, as it should
            return RedirectResponse(_with_query(redirect_uri, back), status_code=302)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                nonce=query.get("nonce"),
                code_challenge=query["code_challenge"],
                user=FakeUser(**vars(self.user)),
            )
        back["code"] = code
        self.issued.append(code)
        return RedirectResponse(_with_query(redirect_uri, back), status_code=302)

    async def _token(self, request: Request) -> Response:
        if (down := self._unavailable("token")) is not None:
            return down
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.token_requests.append({k: v for k, v in form.items() if k != "client_secret"})
        if not self._client_authenticated(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if self.faults.token_error is not None:
            return JSONResponse({"error": self.faults.token_error}, status_code=400)
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code works once
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = form.get("code_verifier", "")
        if not secrets.compare_digest(_s256(verifier), grant.code_challenge):
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "PKCE verification failed"},
                status_code=400,
            )
        access_token = secrets.token_urlsafe(24)
        id_token = self._id_token(grant)
        with self._lock:
            self._access[access_token] = grant.user
        self.issued += [access_token, id_token]
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def _userinfo(self, request: Request) -> Response:
        if (down := self._unavailable("userinfo")) is not None:
            return down
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user = self._access.get(token) if scheme.lower() == "bearer" else None
        if user is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(
            {
                "sub": self.faults.userinfo_sub or user.sub,
                "email": user.email,
                "email_verified": user.email_verified,
                "name": user.name,
            }
        )

    def _client_authenticated(self, request: Request, form: dict[str, str]) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic" and "client_secret_basic" in self.faults.auth_methods:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        elif "client_secret_post" in self.faults.auth_methods:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        else:
            return False
        return client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)

    def _id_token(self, grant: _Grant) -> str:
        faults, now = self.faults, int(time.time())
        claims: dict[str, Any] = {
            "iss": faults.issuer or self.issuer,
            "sub": grant.user.sub,
            "aud": faults.audience or grant.client_id,
            "iat": now + faults.issued_at_offset - max(0, -faults.lifetime_seconds) * 2,
            "exp": now + faults.lifetime_seconds,
            "auth_time": now,
        }
        nonce = faults.nonce or grant.nonce
        if nonce is not None:
            claims["nonce"] = nonce
        if not faults.omit_claims:
            claims |= {
                "email": grant.user.email,
                "email_verified": grant.user.email_verified,
                "name": grant.user.name,
            }
        claims |= faults.extra_claims
        key = self.key
        if faults.forge_signature:
            key = _new_key(self.key.kid or "")
        elif faults.unpublished_key:
            key = _new_key(f"unpublished-{secrets.token_hex(4)}")
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))


def callback_params(callback_url: str) -> dict[str, str]:
    """The query parameters of the callback URL the provider sent the browser to."""
    return dict(httpx.URL(callback_url).params)


@pytest.fixture(scope="session")
def _oidc_server() -> Iterator[FakeOidcProvider]:
    provider = FakeOidcProvider()
    with served_in_thread(provider.app()) as base:
        provider.issuer = base
        yield provider


@pytest.fixture
def oidc_provider(_oidc_server: FakeOidcProvider) -> FakeOidcProvider:
    """The fake provider on 127.0.0.1, reset for this test (default user, no faults)."""
    _oidc_server.reset()
    return _oidc_server
