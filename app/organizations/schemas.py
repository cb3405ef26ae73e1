"""Organization request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, field_validator

from app.schemas import ReadModel, RequestModel, SafeText

US_STATES = frozenset(
    {
        *("AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL"),
        *("IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE"),
        *("NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD"),
        *("TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI"),
    }
)


def _state_code(value: object) -> object:
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    if code not in US_STATES:
        raise ValueError(f"{value!r} is not a two-letter US state or territory code")
    return code


StateCode = Annotated[
    str,
    BeforeValidator(_state_code),
    Field(description="Two-letter USPS code of the state or territory.", examples=["MN"]),
]
Name = Annotated[SafeText, StringConstraints(min_length=1, max_length=200)]
Beds = Annotated[int, Field(ge=0, le=20_000, description="Licensed beds.")]


class OrganizationType(StrEnum):
    COMMUNITY_HOSPITAL = "community_hospital"
    CRITICAL_ACCESS_HOSPITAL = "critical_access_hospital"
    ACADEMIC_MEDICAL_CENTER = "academic_medical_center"
    CHILDRENS_HOSPITAL = "childrens_hospital"
    SPECIALTY_HOSPITAL = "specialty_hospital"
    HEALTH_SYSTEM = "health_system"
    CLINIC = "clinic"
    OTHER = "other"


class OrganizationCreate(RequestModel):
    name: Name
    type: OrganizationType
    licensed_beds: Beds
    state: StateCode


class OrganizationUpdate(RequestModel):
    """Only the fields given change; none of them may be null."""

    name: Name | None = None
    type: OrganizationType | None = None
    licensed_beds: Beds | None = None
    state: StateCode | None = None

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
