"""``meta.versionId`` and ``meta.lastUpdated``, and the HTTP validators made from them.

An assessment changes only when a draft is saved or submitted, and each change sets its
``updated_at``: the microseconds since the epoch of that moment are its version id. A
questionnaire version never changes: its version number is its version id, and the time
it was published is when it was last updated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a resource: its id and when it was made."""

    version_id: str
    last_updated: datetime

    @classmethod
    def of_change(cls, updated_at: datetime) -> Version:
        """The version a change at ``updated_at`` made."""
        return cls(str((updated_at - _EPOCH) // timedelta(microseconds=1)), updated_at)

    def meta(self) -> dict[str, Any]:
        """The resource's ``meta`` element."""
        return {
            "versionId": self.version_id,
            "lastUpdated": self.last_updated.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }

    def headers(self) -> dict[str, str]:
        """ETag (weak, as FHIR asks) and Last-Modified."""
        return {
            "ETag": f'W/"{self.version_id}"',
            "Last-Modified": format_datetime(self.last_updated.astimezone(UTC), usegmt=True),
        }

    def matches(self, if_none_match: str | None) -> bool:
        """Whether an ``If-None-Match`` header names this version (or ``*``).

        Weak or strong, quoted or bare: some clients send the bare versionId.
        """
        for tag in (if_none_match or "").split(","):
            tag = tag.strip().removeprefix("W/").strip('"')
            if tag in (self.version_id, "*"):
                return True
        return False


def with_meta(resource: dict[str, Any], version: Version) -> dict[str, Any]:
    """The resource with its ``meta`` (after ``id``, where FHIR JSON puts it)."""
    result: dict[str, Any] = {}
    for key, value in resource.items():
        if key != "meta":
            result[key] = value
        if key == "id":
            result["meta"] = {**resource.get("meta", {}), **version.meta()}
    return result
