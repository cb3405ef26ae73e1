"""The roles an API key can have (apart from the models, so the CLI loads no ORM for them)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything
    CONSULTANT = "consultant"  # organizations it created or was granted
    PARTNER = "partner"  # submit and read, for granted organizations only
