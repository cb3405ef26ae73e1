"""The report cache: rendered PDFs keyed by a hash of everything that determines their bytes.

Any door that renders a report stores it here and any later request for the same key is
served from here, so a report is rendered once whichever door (API, job, worker, CLI)
asked first. The table is ``report_files``; jobs refer to a row by its ``cache_key``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, utcnow


class ReportFile(Base):
    """A rendered PDF, keyed by a hash of everything that determines its bytes."""

    __tablename__ = "report_files"

    cache_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]
    render_ms: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def cached_report(session: Session, key: str) -> bytes | None:
    """The stored PDF for a cache key, if any."""
    return session.scalar(select(ReportFile.pdf).where(ReportFile.cache_key == key))


def is_cached(session: Session, key: str) -> bool:
    """Whether a PDF is stored for a cache key (without loading it)."""
    found = session.scalar(select(ReportFile.cache_key).where(ReportFile.cache_key == key))
    return found is not None


def store_report(session: Session, key: str, pdf: bytes, render_ms: int) -> None:
    """Keep a rendered PDF in the caller's transaction; a concurrent render of the same
    key keeps the first. The caller's unit of work commits it."""
    values = {"cache_key": key, "pdf": pdf, "size": len(pdf), "render_ms": render_ms}
    dialect = session.get_bind().dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(ReportFile).values(
        **values
    )
    session.execute(statement.on_conflict_do_nothing(index_elements=["cache_key"]))
