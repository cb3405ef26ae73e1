"""Read questionnaire YAML files strictly, and report every problem with its place.

A problem reads ``questionnaires/x/v1.yaml:42: questions[3].options[1].score: ...``:
the file, the line, the path inside the file and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from app.errors import field_path
from app.questionnaire.catalogue import Catalogue, check_catalogue
from app.questionnaire.rules import check_definition
from app.questionnaire.schemas import QuestionnaireDefinition, canonical_document

ModelT = TypeVar("ModelT", bound=BaseModel)

VERSION_FILE = re.compile(r"^v(?P<version>[1-9][0-9]*)\.ya?ml$")

# Discriminated-union errors put the question type in the location; it is not a key.
_UNION_TAGS = {"single_choice", "multiple_choice", "yes_no", "scale", "number", "text"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a definition file."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class DefinitionError(Exception):
    """A questionnaire file (or several) cannot be used; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class LoadedDefinition:
    """A validated definition, where it came from, its content hash, and its catalogue.

    The catalogue (services, prices, actions) is not part of the published definition:
    prices may change without a new questionnaire version. Its own hash goes into every
    cache key that depends on it.
    """

    definition: QuestionnaireDefinition
    source: Path
    content_hash: str
    catalogue: Catalogue | None = None
    catalogue_hash: str | None = None


def content_hash(definition: BaseModel) -> str:
    """SHA-256 of the document's canonical JSON: edits to comments or layout do not count."""
    canonical = json.dumps(
        canonical_document(definition),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def format_path(path: tuple[str | int, ...]) -> str:
    """('questions', 3, 'id') -> 'questions[3].id'."""
    return field_path(path, escape=False)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys instead of keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _line_index(node: yaml.Node, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], int]:
    """Map every path in a YAML document to its 1-based line.

    Path parts are kept as text (``("questions", "3", "labels", "7")``): a node is either a
    sequence or a mapping, so an index and a key never compete for the same place.
    """
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*path, str(key_node.value))
            lines.update(_line_index(value_node, key))
            lines[key] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(_line_index(item, (*path, str(index))))
    return lines


def _line_for(lines: dict[tuple[str, ...], int], path: tuple[str | int, ...]) -> int | None:
    # YAML keys are text; the schema sees integer keys (thresholds, labels) as text too.
    candidate = tuple(str(p) for p in path)
    while candidate:
        if candidate in lines:
            return lines[candidate]
        candidate = candidate[:-1]
    return lines.get(())


def _node_problems(
    node: yaml.Node,
    file: str,
    path: tuple[str | int, ...] = (),
    active: frozenset[int] = frozenset(),
) -> list[Problem]:
    """Mapping keys given twice, and aliases that contain themselves, with line and path."""
    if id(node) in active:
        return [
            Problem(
                file,
                node.start_mark.line + 1,
                format_path(path),
                "an alias refers to a node that contains it",
            )
        ]
    active = active | {id(node)}
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[tuple[str, str]] = set()
        for key_node, value_node in node.value:
            key = (key_node.tag, str(key_node.value))
            if isinstance(key_node, yaml.ScalarNode) and key in seen:
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        format_path((*path, key_node.value)),
                        f"duplicate key {key_node.value!r}",
                    )
                )
            seen.add(key)
            problems += _node_problems(value_node, file, (*path, str(key_node.value)), active)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _node_problems(item, file, (*path, index), active)
    return problems


def _counts_only_failed_items(error: Mapping[str, Any]) -> bool:
    """A "too short" error that only says some items failed (they are reported themselves).

    pydantic counts a list's length after validating its items, so one broken question in
    a list of one also gives "should have at least 1 item after validation, not 0".
    """
    if error["type"] != "too_short":
        return False
    given = error.get("input")
    minimum = error.get("ctx", {}).get("min_length")
    return isinstance(given, list | tuple) and isinstance(minimum, int) and len(given) >= minimum


def parse_document(
    text: str,
    file: str,
    model: type[ModelT],
    cross_check: Callable[[ModelT], Iterable[tuple[tuple[str | int, ...], str]]],
) -> ModelT:
    """Parse a strict YAML document into ``model`` and run ``cross_check`` on it.

    Raises DefinitionError listing every problem, each with its file, line and path.
    """
    try:
        node = yaml.compose(text, Loader=_StrictLoader)
        structural = _node_problems(node, file) if node is not None else []
        if structural:
            raise DefinitionError(structural)
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([Problem(file, line, "", f"not valid YAML: {problem}")]) from exc
    if not isinstance(data, dict) or node is None:
        raise DefinitionError([Problem(file, 1, "", "expected a mapping at the top of the file")])
    lines = _line_index(node)
    try:
        document = model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            if _counts_only_failed_items(error):
                continue
            path = tuple(p for p in error["loc"] if p not in _UNION_TAGS)
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = f"unknown key {path[-1]!r}"
            problems.append(Problem(file, _line_for(lines, path), format_path(path), message))
        raise DefinitionError(problems) from exc
    problems = [
        Problem(file, _line_for(lines, path), format_path(path), message)
        for path, message in cross_check(document)
    ]
    if problems:
        raise DefinitionError(problems)
    return document


def parse_definition(text: str, file: str) -> QuestionnaireDefinition:
    """Parse and validate one questionnaire definition (DefinitionError lists every problem)."""
    return parse_document(text, file, QuestionnaireDefinition, check_definition)


def load_file(path: Path, root: Path | None = None) -> LoadedDefinition:
    """Load one ``<id>/v<N>.yaml`` file; its folder and name must match its id and version."""
    shown = str(path.relative_to(root.parent)) if root is not None else str(path)
    definition = parse_definition(path.read_text(encoding="utf-8"), shown)
    match = VERSION_FILE.match(path.name)
    expected_version = int(match["version"]) if match else None
    problems = []
    if definition.id != path.parent.name:
        problems.append(
            Problem(
                shown,
                None,
                "id",
                f"id {definition.id!r} must match its folder {path.parent.name!r}",
            )
        )
    if expected_version is not None and definition.version != expected_version:
        problems.append(
            Problem(
                shown,
                None,
                "version",
                f"version {definition.version} must match the file name v{expected_version}",
            )
        )
    if problems:
        raise DefinitionError(problems)
    return LoadedDefinition(definition, path, content_hash(definition))


def definition_files(root: Path) -> list[Path]:
    """Every questionnaire version file under ``root`` (``<id>/v<N>.yaml``), in a stable order."""
    files = [p for p in root.glob("*/v*.y*ml") if VERSION_FILE.match(p.name)]
    return sorted(files, key=lambda p: (p.parent.name, int(VERSION_FILE.match(p.name)["version"])))  # type: ignore[index]


def load_catalogue(
    path: Path, definition: QuestionnaireDefinition, root: Path | None = None
) -> Catalogue:
    """Load the catalogue beside a definition, checked against that definition."""
    shown = str(path.relative_to(root.parent)) if root is not None else str(path)
    return parse_document(
        path.read_text(encoding="utf-8"),
        shown,
        Catalogue,
        lambda catalogue: check_catalogue(catalogue, definition),
    )


def load_directory(root: Path) -> list[LoadedDefinition]:
    """Load every definition under ``root``; raise one DefinitionError with all problems."""
    loaded: list[LoadedDefinition] = []
    problems: list[Problem] = []
    sources: dict[tuple[str, int], Path] = {}
    for path in definition_files(root):
        try:
            item = load_file(path, root)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        key = (item.definition.id, item.definition.version)
        if key in sources:  # e.g. v1.yaml and v1.yml side by side
            problems.append(
                Problem(
                    str(path.relative_to(root.parent)),
                    None,
                    "version",
                    f"version {key[1]} of {key[0]!r} is also defined in "
                    f"{sources[key].relative_to(root.parent)}",
                )
            )
            continue
        sources[key] = path
        catalogue_path = path.with_name(f"catalogue-{path.name}")
        if catalogue_path.exists():
            try:
                catalogue = load_catalogue(catalogue_path, item.definition, root)
            except DefinitionError as exc:
                problems.extend(exc.problems)
                continue
            item = replace(item, catalogue=catalogue, catalogue_hash=content_hash(catalogue))
        loaded.append(item)
    if not loaded and not problems:
        problems.append(
            Problem(str(root), None, "", "no questionnaire files (<id>/v<N>.yaml) found")
        )
    if problems:
        raise DefinitionError(problems)
    return loaded
