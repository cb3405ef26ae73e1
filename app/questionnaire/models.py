"""Published questionnaire versions as the database remembers them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class QuestionnaireVersion(Base):
    """One published version: its content hash and a snapshot of the definition."""

    __tablename__ = "questionnaire_versions"

    questionnaire_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(400))
    definition: Mapped[dict[str, Any]]
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
