"""A sign-in in progress kept in the browser: `OidcStart` as a short-lived signed cookie value.

The value is ``<payload>.<signature>``: the payload is the start (URL, state, nonce, PKCE
verifier) and the time it was sealed, as JSON in URL-safe base64; the signature is an
HMAC-SHA256 over it under the service's key, with a purpose label so that no other value
signed with the same key (sessions, invitation links) can pass for one. It is signed, not
encrypted: the browser that started the sign-in may see its own state and verifier, which
are worth nothing without the provider's answer to that same browser.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

from app.oidc.values import OidcStart

_PURPOSE = b"smm-oidc-start|"
_LONGEST = 4096  # a browser keeps a cookie of about this size at most
_FIELDS = ("url", "state", "nonce", "code_verifier")


def seal_start(start: OidcStart, key: bytes, *, now: float | None = None) -> str:
    """The signed cookie value that carries ``start`` until the provider sends the user back."""
    body = {name: getattr(start, name) for name in _FIELDS}
    body["sealed_at"] = int(time.time() if now is None else now)
    payload = _b64encode(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_signature(key, payload)}"


def open_start(
    value: str | None, key: bytes, max_age_seconds: int = 600, *, now: float | None = None
) -> OidcStart | None:
    """The start a cookie value carries, or None: missing, malformed, forged or too old."""
    if not value or len(value) > _LONGEST or value.count(".") != 1:
        return None
    payload, signature = value.split(".")
    if not hmac.compare_digest(signature.encode(), _signature(key, payload).encode()):
        return None
    try:
        body = json.loads(_b64decode(payload))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(body, dict):
        return None
    sealed_at = body.get("sealed_at")
    fields = {name: body.get(name) for name in _FIELDS}
    texts = {name: value for name, value in fields.items() if isinstance(value, str)}
    if not isinstance(sealed_at, int) or len(texts) != len(_FIELDS):
        return None
    age = (time.time() if now is None else now) - sealed_at
    if not -60 <= age <= max_age_seconds:  # a minute's clock skew between processes
        return None
    return OidcStart(**texts)


def _signature(key: bytes, payload: str) -> str:
    return _b64encode(hmac.new(key, _PURPOSE + payload.encode(), hashlib.sha256).digest())


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
