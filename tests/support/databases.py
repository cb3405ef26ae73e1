"""Test databases: fresh PostgreSQL databases with random names, and migrated engines.

Each database is created on the server SMM_TEST_DATABASE_URL names and dropped when its
test (or test run, or xdist worker) is done, so parallel workers never share one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.db import make_engine, normalize_url
from app.migrate import upgrade

POSTGRES_ENV = "SMM_TEST_DATABASE_URL"


def postgres_admin_url() -> str | None:
    """The PostgreSQL server tests may use, from SMM_TEST_DATABASE_URL."""
    url = os.environ.get(POSTGRES_ENV)
    return normalize_url(url) if url else None


def create_postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh, empty database on the test server, and a function that drops it."""
    name = f"smm_test_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database's URL until the block ends; then it is dropped."""
    url, drop = create_postgres_database(admin_url)
    try:
        yield url
    finally:
        drop()


@contextmanager
def migrated_engine(url: str, **options: int) -> Iterator[Engine]:
    """An engine on ``url``, migrated to head, disposed of when the block ends."""
    engine = make_engine(url, **options)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
