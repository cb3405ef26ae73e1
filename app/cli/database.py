"""The database as a command uses it: one context manager for the engine, its migrations,
the published questionnaires, one transaction, and the errors that become a message."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING

from app.cli.console import detail, fail

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from app.config import Settings
    from app.errors import AppError
    from app.organizations.models import Organization
    from app.questionnaire.registry import QuestionnaireRegistry


class Migrations(Enum):
    """What a command does about migrations before it uses the database."""

    APPLY = "apply"  # bring the database to the latest migration
    REQUIRE = "require"  # refuse a database behind the code's migrations, naming the fix
    TRUST = "trust"  # use it as it is (`smm migrate` or `smm serve` migrates it)


class Database:
    """What a command works with: the engine, sessions, and, as the command asked, the
    published questionnaires and the session of its one transaction."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        registry: QuestionnaireRegistry | None,
        session: Session | None,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self._registry = registry
        self._session = session

    @property
    def registry(self) -> QuestionnaireRegistry:
        """The questionnaires, verified against and published to the database."""
        if self._registry is None:
            raise RuntimeError("the database was opened without its questionnaires")
        return self._registry

    @property
    def session(self) -> Session:
        """The session of the command's one transaction (committed when the block ends)."""
        if self._session is None:
            raise RuntimeError("the database was opened without a transaction")
        return self._session

    def audit(
        self,
        action: str,
        object_type: str,
        object_id: uuid.UUID,
        organization_id: uuid.UUID | None = None,
        **details: str,
    ) -> None:
        """Record a CLI write in the audit trail, in the write's own transaction (actor `cli`)."""
        from app.audit.service import CLI, Entry, Outcome, record

        record(
            self.session,
            Entry(
                CLI,
                action,
                Outcome.SUCCESS,
                object_type=object_type,
                object_id=str(object_id),
                organization_id=organization_id,
                detail=details,
            ),
        )


@contextmanager
def database(
    settings: Settings,
    *,
    migrations: Migrations = Migrations.APPLY,
    questionnaires: bool = False,
    transaction: bool = True,
    describe: Callable[[AppError], str] = detail,
    refusals: tuple[type[Exception], ...] = (),
) -> Iterator[Database]:
    """The configured database for one command, released when the block ends.

    With ``questionnaires`` the files are verified against what was published and new
    versions published; with ``transaction`` the block runs in one transaction, committed
    when it succeeds. A domain error (described by ``describe``), a questionnaire that
    cannot be served, or one of ``refusals`` (by its message) ends the command with
    ``error: ...`` on stderr and exit code 1.
    """
    from app.db import make_engine, session_factory
    from app.db import transaction as unit_of_work
    from app.errors import AppError
    from app.migrate import upgrade
    from app.questionnaire.loader import DefinitionError
    from app.questionnaire.registry import PublishedVersionChanged, load_published

    engine = make_engine(settings.database_url)
    try:
        if migrations is Migrations.APPLY:
            upgrade(engine)
        elif migrations is Migrations.REQUIRE:
            require_migrated(engine)
        registry = load_published(engine, settings.questionnaires_dir) if questionnaires else None
        sessions = session_factory(engine)
        if not transaction:
            yield Database(engine, sessions, registry, None)
        else:
            with unit_of_work(sessions) as session:
                yield Database(engine, sessions, registry, session)
    except (DefinitionError, PublishedVersionChanged) as exc:
        raise fail(f"questionnaires cannot be served:\n{exc}") from exc
    except AppError as exc:
        raise fail(describe(exc)) from exc
    except refusals as exc:
        raise fail(str(exc)) from exc
    finally:
        engine.dispose()


def require_migrated(engine: Engine) -> None:
    """Fail, naming the fix, when the database is behind the code's migrations."""
    from app.migrate import pending_migrations

    pending = pending_migrations(engine)
    if pending:
        raise fail(
            f"the database is not migrated ({len(pending)} pending: {', '.join(pending)}); "
            "run `smm migrate` first, or unset SMM_MIGRATE_ON_START=false"
        )


def organization_of(db: Database, organization_id: uuid.UUID) -> Organization:
    """The organization with this id; a command about one that does not exist fails."""
    from app.auth.service import Principal
    from app.errors import NotFound
    from app.organizations.service import get_organization

    try:
        return get_organization(db.session, Principal.system(), organization_id)
    except NotFound as exc:
        raise fail(f"there is no organization {organization_id}") from exc
