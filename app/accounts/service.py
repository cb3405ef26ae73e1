"""Console users: creating and changing accounts, signing in, and sessions.

Passwords are hashed with argon2id (argon2-cffi's defaults, rehashed when they change).
After ``MAX_FAILURES`` wrong passwords in a row an account is locked for
``LOCKOUT``; a correct password during the lock is refused too, so guessing stays slow.
A session is a random token in an HttpOnly cookie; only its SHA-256 is stored, and a new
one is made at every sign-in (so a session id planted before sign-in is worth nothing).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import ConsoleSession, User
from app.auth.models import ApiKey, Role
from app.auth.service import USER, Principal, create_key, grants_of, set_grants
from app.db import transaction, utcnow
from app.errors import AppError, Conflict, InvalidRequest, NotFound

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)  # signed in at most this long
SESSION_IDLE = timedelta(hours=2)  # ...and signed out after this long unused
SEEN_PRECISION = timedelta(minutes=1)  # a session's last use is written at most this often
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

_hasher = PasswordHasher()
# Verified against when the account does not exist, so that its absence takes as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class SignInRefused(AppError):
    """A sign-in that did not work. The detail never says whether the account exists."""

    status_code: ClassVar[int] = 401
    code: ClassVar[str] = "sign_in_refused"


@dataclass(frozen=True, slots=True)
class Account:
    """A user with its role and granted organizations, for lists and pages."""

    user: User
    role: Role
    organization_ids: list[uuid.UUID]

    @property
    def locked(self) -> bool:
        return self.user.locked_until is not None and self.user.locked_until > utcnow()

    @property
    def state(self) -> str:
        """disabled, locked (for now, after wrong passwords) or active."""
        if self.user.disabled_at is not None:
            return "disabled"
        return "locked" if self.locked else "active"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A browser's valid session: who it is and what it may do."""

    user: User
    principal: Principal
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A new session; ``token`` goes in the cookie and is never stored."""

    session_id: uuid.UUID
    token: str


def normal_email(email: str) -> str:
    """An address as stored and compared: trimmed, lower case."""
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    """Why ``email`` is not a usable address, or None."""
    local, at, domain = normal_email(email).rpartition("@")
    if not at or not local or "." not in domain or len(email) > 254 or " " in email.strip():
        return "is not an email address"
    return None


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be used, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters long"
    return None


def _checked_password(password: str, field: str = "password") -> str:
    problem = password_problem(password)
    if problem:
        raise InvalidRequest(
            f"The {field} {problem}.", errors=[{"field": field, "message": f"{field}: {problem}"}]
        )
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: Role,
    organization_ids: list[uuid.UUID] | None = None,
    password: str | None = None,
) -> User:
    """A new console user with ``role`` (admin or consultant) and its organizations.

    Without a password the user can sign in only through the identity provider, or once
    a password is set (``reset_password``).
    """
    if role not in (Role.ADMIN, Role.CONSULTANT):
        raise InvalidRequest(
            "A console user is an admin or a consultant.",
            errors=[{"field": "role", "message": "role: must be admin or consultant"}],
        )
    problem = email_problem(email)
    if problem:
        raise InvalidRequest(
            f"The email {problem}.", errors=[{"field": "email", "message": f"email: {problem}"}]
        )
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidRequest(
            "Give the user's name (at most 200 characters).",
            errors=[{"field": "name", "message": "name: is required (1-200 characters)"}],
        )
    address = normal_email(email)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(f"There is already a user {address}.")
    password_hash = _checked_password(password) if password is not None else None
    try:
        principal = create_key(session, role, organization_ids or [], name, kind=USER).key
    except ValueError as exc:
        raise InvalidRequest(
            f"{exc}.", errors=[{"field": "organizations", "message": f"organizations: {exc}"}]
        ) from exc
    user = User(email=address, name=name, principal_id=principal.id, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, reference: str) -> User:
    """A user by email or id; NotFound otherwise."""
    user = session.scalar(select(User).where(User.email == normal_email(reference)))
    if user is None:
        try:
            user = session.get(User, uuid.UUID(reference))
        except ValueError:
            user = None
    if user is None:
        raise NotFound(f"There is no user {reference!r}.")
    return user


def account(session: Session, user: User) -> Account:
    """The user with its role and organizations."""
    principal = session.get_one(ApiKey, user.principal_id)
    return Account(user, Role(principal.role), grants_of(session, principal.id))


def list_accounts(session: Session) -> list[Account]:
    """Every user, by email."""
    return [account(session, user) for user in session.scalars(select(User).order_by(User.email))]


def principal_of(session: Session, user: User) -> Principal:
    """What the user may see and do: its principal's role and grants."""
    key = session.get_one(ApiKey, user.principal_id)
    return Principal(key_id=key.id, role=Role(key.role), user_id=user.id)


def change_access(
    session: Session, user: User, *, role: Role, organization_ids: list[uuid.UUID]
) -> Account:
    """Give the user ``role`` and exactly ``organization_ids``."""
    if role not in (Role.ADMIN, Role.CONSULTANT):
        raise InvalidRequest(
            "A console user is an admin or a consultant.",
            errors=[{"field": "role", "message": "role: must be admin or consultant"}],
        )
    key = session.get_one(ApiKey, user.principal_id)
    if role is not Role.ADMIN and key.role == Role.ADMIN and user.disabled_at is None:
        _keep_an_admin(session, user, "take the admin role from")
    key.role = role.value
    try:
        set_grants(session, key, [] if role is Role.ADMIN else organization_ids)
    except ValueError as exc:
        raise InvalidRequest(
            f"{exc}.", errors=[{"field": "organizations", "message": f"organizations: {exc}"}]
        ) from exc
    return account(session, user)


def disable_user(session: Session, user: User, now: datetime | None = None) -> User:
    """Stop the user signing in, and end every session it has, at once (never the last
    active admin's: see ``LastAdmin``)."""
    now = now or utcnow()
    if user.disabled_at is None:
        if session.get_one(ApiKey, user.principal_id).role == Role.ADMIN:
            _keep_an_admin(session, user, "disable")
        user.disabled_at = now
    end_all_sessions(session, user, now)
    session.flush()
    return user


class LastAdmin(Conflict):
    """The change would leave no active admin, and so no one to manage users in the console."""

    code: ClassVar[str] = "last_admin"


def active_admins(session: Session) -> list[uuid.UUID]:
    """The ids of the admins who can sign in, their rows locked until the transaction ends
    (so two admins demoting each other at once cannot both succeed)."""
    return list(
        session.scalars(
            select(User.id)
            .join(ApiKey, ApiKey.id == User.principal_id)
            .where(ApiKey.role == Role.ADMIN.value, User.disabled_at.is_(None))
            .order_by(User.id)
            .with_for_update()
        )
    )


def _keep_an_admin(session: Session, user: User, verb: str) -> None:
    """LastAdmin when ``user`` is the only active admin."""
    if not [other for other in active_admins(session) if other != user.id]:
        raise LastAdmin(
            f"You cannot {verb} {user.email}: they are the last active admin, and without "
            "one no one could manage console users. Make another user an admin first."
        )


def enable_user(session: Session, user: User) -> User:
    """Let a disabled user sign in again (with a lock-out cleared)."""
    user.disabled_at = None
    user.failed_sign_ins = 0
    user.locked_until = None
    session.flush()
    return user


def reset_password(
    session: Session, user: User, password: str, now: datetime | None = None
) -> User:
    """Set a new password, clear any lock-out and end every session the user had."""
    user.password_hash = _checked_password(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    end_all_sessions(session, user, now or utcnow())
    session.flush()
    return user


def new_password() -> str:
    """A random password for a reset that did not name one (shown once)."""
    return secrets.token_urlsafe(15)


# -- signing in ----------------------------------------------------------------------------

REFUSED = "That email and password do not match an account that can sign in."


def check_password(
    session: Session, email: str, password: str, now: datetime | None = None
) -> User:
    """The user whose password this is; SignInRefused otherwise.

    A failure is not written here (a refused request is rolled back): the caller records
    it with ``record_failure`` in a transaction of its own.
    """
    now = now or utcnow()
    user = session.scalar(select(User).where(User.email == normal_email(email)))
    if user is None or user.password_hash is None:
        _verify(_DUMMY_HASH, password)  # as slow as a real check
        raise SignInRefused(REFUSED)
    if user.disabled_at is not None:
        raise SignInRefused(REFUSED)
    if user.locked_until is not None and user.locked_until > now:
        raise SignInRefused(
            "This account is locked after too many wrong passwords; try again later, or ask "
            "an administrator to reset it."
        )
    if not _verify(user.password_hash, password):
        raise SignInRefused(REFUSED)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def record_failure(
    sessions: sessionmaker[Session], email: str, now: datetime | None = None
) -> bool:
    """Count a wrong password against the account (if there is one), in its own
    transaction; True when this failure locked it."""
    now = now or utcnow()
    with transaction(sessions) as session:
        user = session.scalar(
            select(User).where(User.email == normal_email(email)).with_for_update()
        )
        if user is None:
            return False
        if user.locked_until is not None and user.locked_until > now:
            return False
        user.failed_sign_ins += 1
        if user.failed_sign_ins >= MAX_FAILURES:
            user.failed_sign_ins = 0
            user.locked_until = now + LOCKOUT
            return True
        return False


def user_for_identity(
    session: Session, *, issuer: str, subject: str, email: str | None, email_verified: bool
) -> User:
    """The user an identity provider vouches for; SignInRefused when there is none.

    A user signed in through the provider before is found by (issuer, subject). The first
    time, an existing user is linked by its email, if the provider says it verified that
    address. Nobody gets an account just by having one at the provider.
    """
    user = session.scalar(
        select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)
    )
    if user is None and email and email_verified:
        user = session.scalar(
            select(User).where(User.email == normal_email(email), User.oidc_subject.is_(None))
        )
        if user is not None:
            user.oidc_issuer, user.oidc_subject = issuer, subject
    if user is None:
        raise SignInRefused(
            "Your identity provider signed you in, but no console account is set up for you; "
            "ask an administrator to create one for your email address."
        )
    if user.disabled_at is not None:
        raise SignInRefused(REFUSED)
    session.flush()
    return user


def start_session(session: Session, user: User, now: datetime | None = None) -> IssuedSession:
    """A new session for a user who has just proved who it is."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = ConsoleSession(
        token_hash=_token_hash(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = now
    session.flush()
    return IssuedSession(row.id, token)


def identify(session: Session, token: str | None, now: datetime | None = None) -> SignedIn | None:
    """The user behind a session cookie, or None when it is missing, ended or expired."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    row = session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_hash == _token_hash(token))
    )
    if (
        row is None
        or row.ended_at is not None
        or row.expires_at <= now
        or now - row.last_seen_at > SESSION_IDLE
    ):
        return None
    user = session.get_one(User, row.user_id)
    if user.disabled_at is not None:
        return None
    if now - row.last_seen_at >= SEEN_PRECISION:
        row.last_seen_at = now
    return SignedIn(user, principal_of(session, user), row.id)


def end_session(session: Session, session_id: uuid.UUID, now: datetime | None = None) -> None:
    """Sign one browser out."""
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


def end_all_sessions(session: Session, user: User, now: datetime | None = None) -> int:
    """Sign the user out everywhere; how many sessions were ended."""
    result = session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user.id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def open_sessions(session: Session, user: User, now: datetime | None = None) -> int:
    """How many browsers the user is signed in on."""
    now = now or utcnow()
    return int(
        session.scalar(
            select(func.count())
            .select_from(ConsoleSession)
            .where(
                ConsoleSession.user_id == user.id,
                ConsoleSession.ended_at.is_(None),
                ConsoleSession.expires_at > now,
                ConsoleSession.last_seen_at > now - SESSION_IDLE,
            )
        )
        or 0
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
