"""Organization request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from app.schemas import WHOLE_NUMBER, ReadModel, RequestModel
from app.text import CHECKED_TEXT

US_STATES = frozenset(
    {
        *("AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL"),
        *("IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE"),
        *("NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD"),
        *("TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI"),
    }
)


# The characters str.strip() removes, spelled out so that every regex engine reading the
# OpenAPI description (Python's, Rust's, ECMAScript's) agrees on what "blank" means.
_BLANK = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680"
    "\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
_STATE_PATTERN = (
    f"^[{_BLANK}]*(?:"
    + "|".join(f"[{c[0]}{c[0].lower()}][{c[1]}{c[1].lower()}]" for c in sorted(US_STATES))
    + f")[{_BLANK}]*$"
)


def _state_code(value: object) -> object:
    if not isinstance(value, str):
        return value
    code = value.strip()
    if not (code.isascii() and code.upper() in US_STATES):
        raise ValueError(f"{value!r} is not a two-letter US state or territory code")
    return code.upper()


StateCode = Annotated[
    str,
    BeforeValidator(_state_code),
    CHECKED_TEXT,
    Field(
        description="Two-letter USPS code of the state or territory, in either case.",
        examples=["MN"],
        json_schema_extra={"pattern": _STATE_PATTERN},
    ),
]
# What no text may hold (app.text), as a character class to build patterns from.
_INVALID = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f"
# Trimmed after the length check, so the documented limits are the ones applied.
Name = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=200, pattern=f"^[^{_INVALID}]*[^{_INVALID}{_BLANK}][^{_INVALID}]*$"
    ),
    CHECKED_TEXT,
    AfterValidator(str.strip),
    Field(description="Trimmed; at least one visible character, no control characters."),
]
Beds = Annotated[
    int, Field(strict=True, ge=0, le=20_000, description="Licensed beds."), WHOLE_NUMBER
]


class OrganizationType(StrEnum):
    COMMUNITY_HOSPITAL = "community_hospital"
    CRITICAL_ACCESS_HOSPITAL = "critical_access_hospital"
    ACADEMIC_MEDICAL_CENTER = "academic_medical_center"
    CHILDRENS_HOSPITAL = "childrens_hospital"
    SPECIALTY_HOSPITAL = "specialty_hospital"
    HEALTH_SYSTEM = "health_system"
    CLINIC = "clinic"
    OTHER = "other"


# What the pages (the form's and the console's) call each type, in the order they offer them.
ORGANIZATION_TYPE_LABELS: dict[OrganizationType, str] = {
    OrganizationType.COMMUNITY_HOSPITAL: "Community hospital",
    OrganizationType.CRITICAL_ACCESS_HOSPITAL: "Critical access hospital",
    OrganizationType.ACADEMIC_MEDICAL_CENTER: "Academic medical center",
    OrganizationType.CHILDRENS_HOSPITAL: "Children's hospital",
    OrganizationType.SPECIALTY_HOSPITAL: "Specialty hospital",
    OrganizationType.HEALTH_SYSTEM: "Health system",
    OrganizationType.CLINIC: "Clinic",
    OrganizationType.OTHER: "Other",
}


class OrganizationCreate(RequestModel):
    name: Name
    type: OrganizationType
    licensed_beds: Beds
    state: StateCode


def _no_null_defaults(schema: dict[str, Any]) -> None:
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class OrganizationUpdate(RequestModel):
    """Only the fields given change; none of them may be null."""

    # Leaving a field out keeps it; the None defaults only mark "not given".
    model_config = ConfigDict(json_schema_extra=_no_null_defaults)

    name: Name | SkipJsonSchema[None] = None
    type: OrganizationType | SkipJsonSchema[None] = None
    licensed_beds: Beds | SkipJsonSchema[None] = None
    state: StateCode | SkipJsonSchema[None] = None

    @field_validator("name", "type", "licensed_beds", "state", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class OrganizationRead(ReadModel):
    id: uuid.UUID
    name: str
    type: OrganizationType
    licensed_beds: int
    state: str
    created_at: datetime
    updated_at: datetime


class OrganizationPage(BaseModel):
    items: list[OrganizationRead]
    total: int
    limit: int
    offset: int
