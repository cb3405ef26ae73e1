"""Creating, checking and revoking API keys, and what each key may see.

A key reads ``smm_<prefix>_<secret>``. The prefix finds the row; only the SHA-256 of the
secret is stored, and it is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, exists, false, or_, select, true, update
from sqlalchemy.orm import Session

from app.auth.models import ApiKey, ApiKeyGrant, Role
from app.db import utcnow
from app.errors import Forbidden, InvalidRequest, NotFound, Unauthenticated
from app.organizations.models import Organization

KEY_PATTERN = re.compile(r"^smm_(?P<prefix>[a-z0-9]{12})_(?P<secret>[A-Za-z0-9_-]{43})$")
_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# Recording every use would turn each read into a write; a minute's precision is plenty.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_NAME_LENGTH = 200  # ApiKey.name's column


KEY = "key"  # ApiKey.kind of a bearer key
USER = "user"  # ApiKey.kind of a console user's principal (no secret, never a bearer token)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a request: which key, which role; or the operator (``system()``).

    A console user acts through a principal of its own (``user_id`` set): its role and
    grants are kept like a key's, so every scope rule below holds for both doors.
    """

    key_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None

    @classmethod
    def system(cls) -> Principal:
        """The operator at the command line: sees and may do everything, with no key."""
        return SYSTEM

    @property
    def is_system(self) -> bool:
        """Whether this is the operator rather than an API key."""
        return self.key_id == _NO_KEY

    @property
    def api_key_id(self) -> uuid.UUID | None:
        """The key to name as the author of what this principal creates (None: the operator)."""
        return None if self.is_system else self.key_id


_NO_KEY = uuid.UUID(int=0)
SYSTEM = Principal(_NO_KEY, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly created key; ``token`` is shown once and never stored."""

    key: ApiKey
    token: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: Session,
    role: Role,
    organization_ids: list[uuid.UUID],
    name: str | None = None,
    *,
    kind: str = KEY,
) -> IssuedKey:
    """Create a key (or, ``kind=USER``, a console user's principal) for ``role`` with the
    given organization grants."""
    if role is Role.ADMIN and organization_ids:
        raise ValueError("an admin sees every organization and is granted none")
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise InvalidRequest(
            f"A key's name is at most {MAX_NAME_LENGTH} characters.",
            errors=[{"field": "name", "message": f"name: at most {MAX_NAME_LENGTH} characters"}],
        )
    for organization_id in organization_ids:
        if session.get(Organization, organization_id) is None:
            raise NotFound(f"There is no organization {organization_id}.")
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(12))
    secret = secrets.token_urlsafe(32)
    key = ApiKey(prefix=prefix, secret_hash=_hash(secret), role=role.value, name=name, kind=kind)
    session.add(key)
    session.flush()
    session.add_all(ApiKeyGrant(key_id=key.id, organization_id=o) for o in set(organization_ids))
    session.flush()
    return IssuedKey(key, f"smm_{prefix}_{secret}")


def find_key(session: Session, reference: str) -> ApiKey:
    """A key by id, prefix or full token."""
    match = KEY_PATTERN.match(reference)
    prefix = match["prefix"] if match else reference
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        try:
            key = session.get(ApiKey, uuid.UUID(reference))
        except ValueError:
            key = None
    if key is None or key.kind != KEY:
        raise NotFound(f"There is no API key {reference!r}.")
    return key


def revoke_key(session: Session, reference: str) -> ApiKey:
    """Revoke a key at once; it answers 401 from then on."""
    key = find_key(session, reference)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key


def grant(session: Session, reference: str, organization_ids: list[uuid.UUID]) -> ApiKey:
    """Give a consultant or partner key more organizations."""
    key = find_key(session, reference)
    if key.role == Role.ADMIN:
        raise ValueError("an admin key sees every organization already")
    existing = set(
        session.scalars(select(ApiKeyGrant.organization_id).where(ApiKeyGrant.key_id == key.id))
    )
    for organization_id in organization_ids:
        if session.get(Organization, organization_id) is None:
            raise NotFound(f"There is no organization {organization_id}.")
        if organization_id not in existing:
            session.add(ApiKeyGrant(key_id=key.id, organization_id=organization_id))
            existing.add(organization_id)
    session.flush()
    return key


def list_keys(session: Session) -> list[tuple[ApiKey, list[uuid.UUID]]]:
    """Every key, oldest first, with the organizations granted to it."""
    return [
        (
            key,
            grants_of(session, key.id),
        )
        for key in session.scalars(
            select(ApiKey).where(ApiKey.kind == KEY).order_by(ApiKey.created_at)
        )
    ]


@dataclass(frozen=True, slots=True)
class Authentication:
    """A caller that presented a valid key, and what this use of the key means.

    ``signed_in``: the key had not been used for ``KEY_SESSION_GAP`` (the trail records
    a sign-in). ``use_at``: when to record the use (``record_use``), or None when the
    recorded one is recent enough.
    """

    principal: Principal
    signed_in: bool
    use_at: datetime | None


# A key's use "signs in" (audit action auth.key) when it had not been used for this long.
KEY_SESSION_GAP = timedelta(minutes=30)


# What authenticating a request reads of its key: one row's columns, not an ORM object
# (every API request pays for this look-up).
_KEY_BY_PREFIX = select(
    ApiKey.id,
    ApiKey.kind,
    ApiKey.role,
    ApiKey.secret_hash,
    ApiKey.revoked_at,
    ApiKey.last_used_at,
).where(ApiKey.prefix == bindparam("prefix"))


def authenticate(session: Session, authorization: str | None) -> Authentication:
    """The caller behind an ``Authorization`` header, or Unauthenticated saying why.

    Nothing is written: the use is recorded by ``record_use``, in the transaction the
    request commits, whether the request then succeeds or fails.
    """
    if not authorization:
        raise Unauthenticated("Send an API key: `Authorization: Bearer smm_...`.")
    scheme, _, token = authorization.partition(" ")
    match = KEY_PATTERN.match(token.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise Unauthenticated("The Authorization header is not `Bearer <API key>`.")
    key = session.execute(_KEY_BY_PREFIX, {"prefix": match["prefix"]}).one_or_none()
    if (
        key is None
        or key.kind != KEY
        or not hmac.compare_digest(key.secret_hash, _hash(match["secret"]))
    ):
        raise Unauthenticated("This API key is not valid.")
    if key.revoked_at is not None:
        raise Unauthenticated("This API key has been revoked.")
    now = utcnow()
    previous = key.last_used_at
    return Authentication(
        Principal(key_id=key.id, role=Role(key.role)),
        signed_in=previous is None or now - previous > KEY_SESSION_GAP,
        use_at=now if previous is None or now - previous >= LAST_USED_PRECISION else None,
    )


def grants_of(session: Session, key_id: uuid.UUID) -> list[uuid.UUID]:
    """The organizations granted to a key or user principal."""
    return list(
        session.scalars(select(ApiKeyGrant.organization_id).where(ApiKeyGrant.key_id == key_id))
    )


def set_grants(session: Session, key: ApiKey, organization_ids: list[uuid.UUID]) -> None:
    """Make ``organization_ids`` exactly the organizations granted to ``key``."""
    if key.role == Role.ADMIN and organization_ids:
        raise ValueError("an admin sees every organization already")
    wanted = set(organization_ids)
    for organization_id in wanted:
        if session.get(Organization, organization_id) is None:
            raise NotFound(f"There is no organization {organization_id}.")
    existing = set(grants_of(session, key.id))
    for organization_id in existing - wanted:
        grant_row = session.get(ApiKeyGrant, (key.id, organization_id))
        if grant_row is not None:
            session.delete(grant_row)
    session.add_all(ApiKeyGrant(key_id=key.id, organization_id=o) for o in wanted - existing)
    session.flush()


def record_use(session: Session, authentication: Authentication) -> None:
    """Record that the key was used (at most once a ``LAST_USED_PRECISION``)."""
    if authentication.use_at is not None:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == authentication.principal.key_id)
            .values(last_used_at=authentication.use_at)
        )


def visible_organizations(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause on Organization for what ``principal`` may see."""
    if principal.role is Role.ADMIN:
        return true()
    granted = exists().where(
        ApiKeyGrant.key_id == principal.key_id, ApiKeyGrant.organization_id == Organization.id
    )
    if principal.role is Role.CONSULTANT:
        return or_(Organization.created_by_key_id == principal.key_id, granted)
    if principal.role is Role.PARTNER:
        return granted
    return false()


def require_role(principal: Principal, *roles: Role, action: str) -> None:
    """Forbidden unless the principal has one of ``roles``."""
    if principal.role not in roles:
        raise Forbidden(f"A {principal.role.value} key cannot {action}.")
