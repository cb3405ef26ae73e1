"""The base models every request and response schema builds on."""

from __future__ import annotations

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _whole_number(value: object) -> object:
    # JSON Schema counts 207.0 as an integer, so generated clients may send one.
    if type(value) is float and value.is_integer():
        return int(value)
    return value


# Annotated metadata for a strict integer field (put it last): 207.0 is taken as 207,
# while 207.5, "207" and true are still refused.
WHOLE_NUMBER = BeforeValidator(_whole_number)


class RequestModel(BaseModel):
    """A request body: unknown fields are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class ReadModel(BaseModel):
    """A response body, readable from ORM objects and engine results."""

    model_config = ConfigDict(from_attributes=True)
