"""Safe retries: the first response to (API key, Idempotency-Key) is kept and replayed.

A POST under /v1 or /fhir made with an API key may carry ``Idempotency-Key``. The first
request with a key runs normally; its response (status < 500) is stored in the same
transaction as the request's own writes, so either both exist or neither does. A retry
with the same key and the same request gets that response again, marked
``Idempotent-Replayed: true``; the same key on a different request is a 409.

Concurrent retries serialise on a transaction-scoped advisory lock on PostgreSQL (and on
SQLite's single writer), taken before the lookup: the second waits for the first to
commit, then finds its record.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from app.errors import Conflict, FieldError, InvalidRequest
from app.idempotency.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Response headers worth replaying; the rest (dates, security headers) are set afresh.
KEPT_HEADERS = ("content-type", "location", "link")
_VISIBLE_ASCII = re.compile(r"^[\x21-\x7e]{1,255}$")
# A fixed advisory-lock key: only one transaction at a time purges expired records.
_PURGE_LOCK = 0x736D6D5F70757267


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """A request that carries a valid Idempotency-Key: what identifies it, and its fingerprint."""

    api_key_id: uuid.UUID
    key: str
    method: str
    path: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class IdempotencyCandidate:
    """A POST that came with the header, before the key behind it is known."""

    header: str
    method: str
    path: str
    fingerprint: str

    def for_key(self, api_key_id: uuid.UUID) -> IdempotentRequest:
        """The request as identified for ``api_key_id``; 422 if the header is malformed."""
        # The path is kept as stored (512 characters); the fingerprint covers all of it.
        return IdempotentRequest(
            api_key_id, checked_key(self.header), self.method, self.path[:512], self.fingerprint
        )


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response kept for replay."""

    status_code: int
    headers: dict[str, str]
    body: bytes


class Replay(Exception):  # a signal, not an error: answer with the stored response
    """Raised once the request is known to be a retry: answer with ``response``."""

    def __init__(self, response: StoredResponse) -> None:
        super().__init__("idempotent replay")
        self.response = response


def applies_to(method: str, path: str) -> bool:
    """Whether a request may use an Idempotency-Key: a POST to the API (/v1 or /fhir)."""
    return method == "POST" and (path.startswith("/v1/") or path.startswith("/fhir/"))


def checked_key(value: str) -> str:
    """The header's value if it is 1-255 visible ASCII characters; 422 naming it otherwise."""
    if not _VISIBLE_ASCII.fullmatch(value):
        message = f"{HEADER}: must be 1 to 255 visible ASCII characters (no spaces)."
        raise InvalidRequest(
            f"The {HEADER} header is not valid.",
            errors=[FieldError(field=HEADER, message=message).model_dump()],
        )
    return value


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """A hash of what the request asks for: method, path, query and canonical body.

    A JSON body is canonicalised (sorted keys, no whitespace), so a retry that re-serialises
    the same document differently is still the same request.
    """
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode()):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(canonical)
    return digest.hexdigest()


def begin(session: Session, request: IdempotentRequest, now: datetime) -> None:
    """Lock the key, then raise Replay or Conflict if it was used before; else return.

    Must run in the transaction that will do the request's writes and store its response.
    """
    _lock(session, request.api_key_id, request.key)
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == request.api_key_id,
            IdempotencyRecord.key == request.key,
        )
    )
    if record is None:
        return
    if record.expires_at <= now:
        # Expired: the key is free again. Deleting it here lets the new record take its place.
        session.delete(record)
        session.flush()
        return
    if (
        record.request_hash != request.fingerprint
        or record.method != request.method
        or record.path != request.path
    ):
        raise Conflict(
            f"This {HEADER} was already used for a different request; "
            "use a new key for a new request.",
            header=HEADER,
        )
    raise Replay(
        StoredResponse(record.status_code, dict(record.response_headers), record.response_body)
    )


def store(
    session: Session,
    request: IdempotentRequest,
    response: StoredResponse,
    now: datetime,
    ttl: timedelta,
) -> None:
    """Keep ``response`` for retries of ``request`` until ``now + ttl``.

    Idempotent itself: if a record for the key exists already (a concurrent failure stored
    it first), the first one stands.
    """
    _lock(session, request.api_key_id, request.key)
    exists = session.scalar(
        select(func.count())
        .select_from(IdempotencyRecord)
        .where(
            IdempotencyRecord.api_key_id == request.api_key_id,
            IdempotencyRecord.key == request.key,
            IdempotencyRecord.expires_at > now,
        )
    )
    if exists:
        return
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == request.api_key_id,
            IdempotencyRecord.key == request.key,
        )
    )
    session.add(
        IdempotencyRecord(
            api_key_id=request.api_key_id,
            key=request.key,
            method=request.method,
            path=request.path,
            request_hash=request.fingerprint,
            status_code=response.status_code,
            response_headers={
                k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS
            },
            response_body=response.body,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    purge_expired(session, now)
    session.flush()


def purge_expired(session: Session, now: datetime) -> int:
    """Delete records past their expiry; on PostgreSQL only if no one else is purging."""
    if session.get_bind().dialect.name == "postgresql":
        free = session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _PURGE_LOCK})
        if not free:
            return 0
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


def _lock(session: Session, api_key_id: uuid.UUID, key: str) -> None:
    """Serialise requests with the same (API key, Idempotency-Key) until this transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: every write transaction begins IMMEDIATE, so writers are serial already
    digest = hashlib.sha256(api_key_id.bytes + key.encode()).digest()
    session.execute(
        text("SELECT pg_advisory_xact_lock(:k)"),
        {"k": int.from_bytes(digest[:8], "big", signed=True)},
    )


def response_headers(stored: StoredResponse) -> dict[str, Any]:
    """The headers of a replayed response."""
    return {**stored.headers, REPLAYED_HEADER: "true"}
