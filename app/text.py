"""What counts as text: one rule for every string a request may carry, at every door.

Refused everywhere (JSON bodies, FHIR resources, query and path parameters, form fields):

- a lone UTF-16 surrogate (``"\\ud800"`` in JSON): it encodes to no UTF-8 at all, so
  neither database, nor a JSON response, nor a PDF can hold it;
- NUL, which PostgreSQL cannot store in text (SQLite would, and then the two disagree);
- the other C0 control characters except tab, line feed and carriage return: nobody
  types them, they are invisible on every page, and XML (the XLSX export) forbids them.

Everything else is text, including non-characters and private-use code points: they
encode, store and render (as a replacement glyph at worst), so refusing them would only
refuse people's data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

# The same set as a JSON Schema pattern (surrogates cannot be written in one: JSON Schema
# regexes see code points, and no valid JSON text decodes to a lone surrogate there).
TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text, or None when it is."""
    found = _INVALID.search(value)
    if found is None:
        return None
    character = found.group()
    at = f"at position {found.start()}"
    if character == "\x00":
        return f"contains a NUL character {at}"
    if "\ud800" <= character <= "\udfff":
        return f"contains a lone surrogate (U+{ord(character):04X}) {at}, which is not text"
    return f"contains the control character U+{ord(character):04X} {at}"


def _checked(value: object) -> object:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise ValueError(problem)
    return value


class CheckedText:
    """Annotated metadata: refuse invalid text before any other check of the field.

    Put it last, after the field's ``StringConstraints``, so that it runs first::

        QuestionId = Annotated[str, StringConstraints(max_length=64), CHECKED_TEXT]

    The description gets TEXT_PATTERN unless the field has a pattern of its own (which
    must then refuse the same characters).
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(_checked, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        target = handler.resolve_ref_schema(json_schema)
        target.setdefault("pattern", TEXT_PATTERN)
        return json_schema


CHECKED_TEXT = CheckedText()


def _checked_values(value: object) -> object:
    for item in value if isinstance(value, list) else [value]:
        _checked(item)
    return value


# For a value that may be a string or a list of them, among other types (an answer).
CHECKED_TEXT_VALUES = BeforeValidator(_checked_values)

# Every string a request may carry (body, query, form) is Text or ends in CHECKED_TEXT.
Text = Annotated[str, CHECKED_TEXT]


def text_problems(data: Any, location: tuple[str | int, ...] = ()) -> Iterator[tuple[Any, str]]:
    """Every string in parsed JSON (keys included) that is not acceptable text, with its place.

    In document order; iterative, so a deeply nested document cannot exhaust the stack.
    """
    pending: list[tuple[tuple[str | int, ...], Any]] = [(location, data)]
    while pending:
        where, node = pending.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem is not None:
                yield where, problem
        elif isinstance(node, Mapping):
            children: list[tuple[tuple[str | int, ...], Any]] = []
            for key, child in node.items():
                if isinstance(key, str) and (problem := text_problem(key)) is not None:
                    yield (*where, "<key>"), f"has a key that {problem}"
                    continue
                children.append(((*where, key), child))
            pending.extend(reversed(children))
        elif isinstance(node, list):
            pending.extend(((*where, i), node[i]) for i in reversed(range(len(node))))


def marked(value: str) -> str:
    """``value`` with each invalid character shown as U+FFFD, to put back in front of a person."""
    return _INVALID.sub("\ufffd", value)


def printable(value: str) -> str:
    """``value`` safe to echo in a JSON answer: invalid characters escaped, as repr does."""
    return _INVALID.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
