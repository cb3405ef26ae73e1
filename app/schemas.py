"""The base models every request and response schema builds on.

Also the generator of response schemas from the engines' result dataclasses.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model


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


def read_model(
    result: type,
    name: str,
    *,
    module: str,
    nested: Mapping[type, type[ReadModel]] | None = None,
    descriptions: Mapping[str, str] | None = None,
    shapes: Mapping[str, Any] | None = None,
    doc: str | None = None,
) -> type[ReadModel]:
    """The response schema of one of the engines' result dataclasses, generated from it.

    The fields, their types, their defaults and their order are the result's own (tuples
    become lists, nested results the response schemas in ``nested``), so the API's
    description of a result can never drift from what the engine returns; only the
    documentation is added: ``descriptions`` by field and ``doc`` for the schema.
    ``shapes`` names the few fields whose JSON shape is not the dataclass's own (the
    result's ``to_dict()`` converts them), with the type they take in a response.
    """
    hints = typing.get_type_hints(result)
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(result):
        if shapes and field.name in shapes:
            annotation = shapes[field.name]
        else:
            annotation = _response_type(hints[field.name], nested or {})
        fields[field.name] = (annotation, _field_info(field, (descriptions or {}).get(field.name)))
    model: type[ReadModel] = create_model(
        name, __base__=ReadModel, __module__=module, __doc__=doc, **fields
    )
    return model


def _field_info(field: dataclasses.Field[Any], description: str | None) -> Any:
    options: dict[str, Any] = {}
    if field.default is not dataclasses.MISSING:
        if field.default == ():
            options["default_factory"] = list  # an empty tuple is an empty list in JSON
        elif isinstance(field.default, tuple):
            raise TypeError(f"{field.name}: only an empty tuple default becomes a list")
        else:
            options["default"] = field.default
    elif field.default_factory is not dataclasses.MISSING:
        options["default_factory"] = field.default_factory
    if description:
        options["description"] = description
    return Field(**options) if options else ...


def _response_type(hint: Any, nested: Mapping[type, type[ReadModel]]) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return list[_response_type(args[0], nested)]  # type: ignore[misc]
    if origin is types.UnionType:
        return functools.reduce(operator.or_, (_response_type(a, nested) for a in args))
    if origin in (list, dict):
        return origin[tuple(_response_type(a, nested) for a in args)]
    return nested.get(hint, hint)
