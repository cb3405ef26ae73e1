"""The catalogue format: size bands, the Center's services and improvement actions.

A catalogue is data beside the questionnaire version it serves
(``questionnaires/<id>/catalogue-v<N>.yaml``) and is checked as strictly: unknown keys,
unknown ids, prices missing for a band, answers the question does not offer, and
prerequisite cycles are all errors naming the file, line and path.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from app.questionnaire.answers import check_value
from app.questionnaire.rules import Problem, is_scored
from app.questionnaire.schemas import (
    DefinitionModel,
    Identifier,
    OptionValue,
    Prose,
    QuestionnaireDefinition,
)

Money = Annotated[int, Field(ge=0, le=10_000_000, description="Whole US dollars.")]
AnswerValue = bool | int | float | OptionValue | tuple[OptionValue, ...]


class ServiceKind(StrEnum):
    IN_PERSON_TRAINING = "in_person_training"
    ONLINE_TRAINING = "online_training"
    CONSULTING = "consulting"
    CONFERENCE = "conference"
    RESOURCE = "resource"


class SizeBand(DefinitionModel):
    """Organizations with at least ``min_beds`` licensed beds (up to the next band)."""

    id: Identifier
    label: Prose
    min_beds: Annotated[int, Field(ge=0)]


class Service(DefinitionModel):
    """One of the Center's services, with a list price for every size band."""

    id: Identifier
    kind: ServiceKind
    title: Prose
    description: Prose
    duration: Prose
    prices: dict[Identifier, Money]


class Change(DefinitionModel):
    """After the action, ``question`` is answered ``to`` (if that is better than today)."""

    question: Identifier
    to: AnswerValue


class Action(DefinitionModel):
    """An improvement a hospital can make, what it changes, and who can deliver it."""

    id: Identifier
    dimension: Identifier
    title: Prose
    rationale: Prose
    changes: tuple[Change, ...] = Field(min_length=1)
    requires: tuple[Identifier, ...] = ()
    effort_weeks: Annotated[int, Field(ge=1, le=52)]
    services: tuple[Identifier, ...] = Field(min_length=1)


class Catalogue(DefinitionModel):
    """Services and actions for one questionnaire version."""

    questionnaire: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]
    version: Annotated[int, Field(ge=1)]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    parallel_tracks: Annotated[int, Field(ge=1, le=10)] = 2
    size_bands: tuple[SizeBand, ...] = Field(min_length=1)
    services: tuple[Service, ...] = Field(min_length=1)
    actions: tuple[Action, ...] = Field(min_length=1)

    def band_for(self, licensed_beds: int) -> SizeBand:
        """The size band an organization of this many licensed beds falls in."""
        band = self.size_bands[0]
        for candidate in self.size_bands:
            if licensed_beds >= candidate.min_beds:
                band = candidate
        return band


def check_catalogue(catalogue: Catalogue, definition: QuestionnaireDefinition) -> list[Problem]:
    """Every cross-reference problem between a catalogue and its questionnaire version."""
    problems: list[Problem] = []
    if (catalogue.questionnaire, catalogue.version) != (definition.id, definition.version):
        problems.append(
            (
                ("questionnaire",),
                f"this catalogue is for {catalogue.questionnaire!r} v{catalogue.version}, "
                f"but sits beside {definition.id!r} v{definition.version}",
            )
        )
    problems += _check_bands(catalogue)
    problems += _check_services(catalogue)
    problems += _check_actions(catalogue, definition)
    return problems


def _duplicates(items: tuple[Any, ...], section: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            yield (section, index, "id"), f"duplicate id {item.id!r}"
        seen.add(item.id)


def _check_bands(catalogue: Catalogue) -> Iterator[Problem]:
    yield from _duplicates(catalogue.size_bands, "size_bands")
    if catalogue.size_bands[0].min_beds != 0:
        yield ("size_bands", 0, "min_beds"), "the first band must start at 0 beds"
    for index in range(1, len(catalogue.size_bands)):
        if catalogue.size_bands[index].min_beds <= catalogue.size_bands[index - 1].min_beds:
            yield ("size_bands", index, "min_beds"), "bands must be in increasing order of beds"


def _check_services(catalogue: Catalogue) -> Iterator[Problem]:
    yield from _duplicates(catalogue.services, "services")
    bands = [b.id for b in catalogue.size_bands]
    for index, service in enumerate(catalogue.services):
        missing = [b for b in bands if b not in service.prices]
        unknown = [b for b in service.prices if b not in bands]
        if missing:
            yield ("services", index, "prices"), f"no price for band(s) {', '.join(missing)}"
        for band in unknown:
            yield ("services", index, "prices", band), f"unknown size band {band!r}"


def _check_actions(catalogue: Catalogue, definition: QuestionnaireDefinition) -> Iterator[Problem]:
    yield from _duplicates(catalogue.actions, "actions")
    action_ids = {a.id for a in catalogue.actions}
    service_ids = {s.id for s in catalogue.services}
    dimensions = {d.id for d in definition.dimensions}
    for index, action in enumerate(catalogue.actions):
        at: tuple[str | int, ...] = ("actions", index)
        if action.dimension not in dimensions:
            yield (*at, "dimension"), f"unknown dimension {action.dimension!r}"
        for c, change in enumerate(action.changes):
            question = definition.question(change.question)
            if question is None:
                yield (*at, "changes", c, "question"), f"{change.question!r} is not a question"
                continue
            if question.dimension != action.dimension:
                yield (
                    (*at, "changes", c, "question"),
                    (
                        f"{change.question!r} belongs to {question.dimension!r}, not to the "
                        f"action's dimension {action.dimension!r}"
                    ),
                )
            if not is_scored(question):
                yield (*at, "changes", c, "question"), f"{change.question!r} is not scored"
                continue
            target = list(change.to) if isinstance(change.to, tuple) else change.to
            _, problem = check_value(question, target)
            if problem is not None:
                yield (*at, "changes", c, "to"), f"{change.question}: {problem}"
        for r, required in enumerate(action.requires):
            if required not in action_ids:
                yield (*at, "requires", r), f"unknown action {required!r}"
            elif required == action.id:
                yield (*at, "requires", r), "an action cannot require itself"
        for s, service in enumerate(action.services):
            if service not in service_ids:
                yield (*at, "services", s), f"unknown service {service!r}"
    yield from _check_cycles(catalogue)


def _check_cycles(catalogue: Catalogue) -> Iterator[Problem]:
    requires = {a.id: [r for r in a.requires if r != a.id] for a in catalogue.actions}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(action_id: str, trail: list[str]) -> list[str] | None:
        if state.get(action_id) == 2:
            return None
        if state.get(action_id) == 1:
            return [*trail[trail.index(action_id) :], action_id]
        state[action_id] = 1
        for required in requires.get(action_id, []):
            cycle = visit(required, [*trail, action_id])
            if cycle:
                return cycle
        state[action_id] = 2
        return None

    for index, action in enumerate(catalogue.actions):
        cycle = visit(action.id, [])
        if cycle:
            yield (
                ("actions", index, "requires"),
                f"prerequisites form a cycle: {' -> '.join(cycle)}",
            )
            return
