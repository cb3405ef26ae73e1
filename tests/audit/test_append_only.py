"""Audit events are never changed or removed: not by the code, not by the database."""

from __future__ import annotations

import ast
import secrets

import pytest
from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.audit.service import ANONYMOUS, Entry, Outcome, record
from app.config import PROJECT_ROOT, get_settings
from app.db import make_engine
from app.migrate import upgrade
from tests.conftest import create_postgres_database


def _event(db: Session) -> AuditEvent:
    record(db, Entry(ANONYMOUS, "organization.create", Outcome.DENIED, status_code=401))
    db.commit()
    return db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()


@pytest.mark.parametrize(
    "statement",
    [
        lambda e: update(AuditEvent).where(AuditEvent.id == e.id).values(outcome="success"),
        lambda e: delete(AuditEvent).where(AuditEvent.id == e.id),
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_remove_an_event(db, statement):
    event = _event(db)

    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(statement(event))

    db.expire_all()
    assert db.get(AuditEvent, event.id).outcome == "denied"


def test_the_orm_cannot_change_an_event_either(db):
    event = _event(db)
    event.outcome = "success"

    with pytest.raises(DBAPIError, match="append-only"):
        db.flush()
    db.rollback()


class _AuditWrites(ast.NodeVisitor):
    """Finds update(AuditEvent), delete(AuditEvent) and attribute writes on audit events."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_Call(self, node: ast.Call) -> None:
        name = ast.unparse(node.func)
        arguments = " ".join(ast.unparse(a) for a in node.args)
        if name.split(".")[-1] in ("update", "delete") and "AuditEvent" in arguments:
            self.found.append(ast.unparse(node))
        if name.endswith(".delete") and any("event" in ast.unparse(a).lower() for a in node.args):
            self.found.append(ast.unparse(node))
        if "audit_events" in ast.unparse(node) and any(
            verb in ast.unparse(node).upper() for verb in ("UPDATE AUDIT", "DELETE FROM AUDIT")
        ):
            self.found.append(ast.unparse(node))
        self.generic_visit(node)


def test_no_code_in_the_application_updates_or_deletes_audit_events():
    found: dict[str, list[str]] = {}
    for path in sorted((PROJECT_ROOT / "app").rglob("*.py")):
        visitor = _AuditWrites()
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        if visitor.found:
            found[str(path.relative_to(PROJECT_ROOT))] = visitor.found

    assert found == {}


def test_the_scan_would_find_an_update_of_an_event():
    visitor = _AuditWrites()
    visitor.visit(ast.parse("session.execute(update(AuditEvent).values(outcome='x'))"))

    assert visitor.found


def test_the_application_role_may_insert_and_read_but_not_change_events(
    postgres_server, monkeypatch
):
    """With SMM_DATABASE_APP_ROLE set, the migration takes UPDATE, DELETE, TRUNCATE away."""
    role = f"smm_app_{secrets.token_hex(4)}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}"'))
    url, drop = create_postgres_database(postgres_server)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            # Whatever the migrations create, the application role may use, as it would
            # when it owns nothing and is granted everything by default.
            connection.execute(text(f'ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO "{role}"'))
            connection.execute(text(f'ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO "{role}"'))
        monkeypatch.setenv("SMM_DATABASE_APP_ROLE", role)
        get_settings.cache_clear()
        upgrade(engine)

        with engine.connect() as connection:
            connection.execute(text(f'SET ROLE "{role}"'))
            connection.execute(
                text(
                    "INSERT INTO audit_events (occurred_at, actor_type, action, outcome) "
                    "VALUES (now(), 'cli', 'api_key.create', 'success')"
                )
            )
            assert connection.scalar(text("SELECT count(*) FROM audit_events")) == 1
            for statement in (
                "UPDATE audit_events SET outcome = 'failed'",
                "DELETE FROM audit_events",
                "TRUNCATE audit_events",
            ):
                with (
                    pytest.raises(DBAPIError, match="permission denied"),
                    connection.begin_nested(),
                ):
                    connection.execute(text(statement))
            connection.rollback()
    finally:
        get_settings.cache_clear()
        engine.dispose()
        drop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()
