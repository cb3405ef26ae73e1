"""The base models every request and response schema builds on."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

# Text a person typed: trimmed, no NUL bytes (PostgreSQL cannot store them).
SafeText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^\x00]*$")]


class RequestModel(BaseModel):
    """A request body: unknown fields are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class ReadModel(BaseModel):
    """A response body, readable from ORM objects and engine results."""

    model_config = ConfigDict(from_attributes=True)
