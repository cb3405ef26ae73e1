"""Format additions for version 2: per-dimension levels, evidence, sources; catalogue detail.

Version-1 files do not use them and must keep the content hashes they were published with;
version-2 files must use the catalogue's detail fields, each problem named with its line.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from app.config import PROJECT_ROOT
from app.questionnaire.catalogue import Catalogue, Recurrence, check_catalogue
from app.questionnaire.loader import (
    DefinitionError,
    Problem,
    content_hash,
    load_directory,
    parse_definition,
    parse_document,
)
from app.questionnaire.schemas import QuestionnaireDefinition, canonical_document
from tests.questionnaire.test_loader import FILE, dump, line_of, problems_of, valid_definition

# The hashes version 1 was published with, computed from the files before the format grew.
# A change here means every stored v1 assessment would be refused at start-up.
V1_CONTENT_HASH = "bd9239bb11eed3bf6b9fa9f79f4b38987514a410a7ffed639ca19d317a3f82af"
V1_CATALOGUE_HASH = "7a87494bc136e3883a4de25de045086c575de553dfffa5f3375d5eeec322b398"

CATALOGUE_FILE = "questionnaires/tiny/catalogue-v2.yaml"


def test_version_1_keeps_the_content_hash_it_was_published_with():
    v1 = next(
        item
        for item in load_directory(PROJECT_ROOT / "questionnaires")
        if (item.definition.id, item.definition.version) == ("hospital-social-media", 1)
    )

    assert v1.content_hash == V1_CONTENT_HASH
    assert v1.catalogue_hash == V1_CATALOGUE_HASH


def test_unused_additions_stay_out_of_the_canonical_document():
    definition = parse_definition(dump(valid_definition()), FILE)
    canonical = canonical_document(definition)
    stored = definition.model_dump(mode="json", by_alias=True)

    assert "levels" not in canonical["dimensions"][0]
    assert all("sources" not in q and "evidence" not in q for q in canonical["questions"])
    # A stored snapshot (with or without the empty fields) reads back to the same hash.
    assert content_hash(QuestionnaireDefinition.model_validate(stored)) == content_hash(definition)
    assert content_hash(QuestionnaireDefinition.model_validate(canonical)) == content_hash(
        definition
    )


def dimension_levels(names: list[str] | None = None) -> list[dict[str, Any]]:
    names = names or [f"Level {n}" for n in range(1, 6)]
    return [
        {"level": n, "name": name, "description": f"In alpha, level {n} means this."}
        for n, name in enumerate(names, start=1)
    ]


def with_additions() -> dict[str, Any]:
    data = valid_definition()
    data["dimensions"][0]["levels"] = dimension_levels()
    data["questions"][0]["evidence"] = "The settings page of each account."
    data["questions"][0]["sources"] = [
        {
            "title": "45 CFR 164.508",
            "publisher": "Electronic Code of Federal Regulations (eCFR)",
            "url": "https://www.ecfr.gov/current/title-45/section-164.508",
            "date": "2024-03-18",
        },
        {"title": "Guidance on online tracking", "publisher": "HHS OCR", "date": 2024},
    ]
    return data


def test_dimension_levels_evidence_and_sources_load_and_count_in_the_hash():
    plain = parse_definition(dump(valid_definition()), FILE)
    definition = parse_definition(dump(with_additions()), FILE)

    dimension = definition.dimensions[0]
    assert dimension.level_description(2, definition.levels) == "In alpha, level 2 means this."
    assert plain.dimensions[0].level_description(2, plain.levels) == "What level 2 means."
    question = definition.questions[0]
    assert question.evidence == "The settings page of each account."
    assert [s.date for s in question.sources] == ["2024-03-18", "2024"]
    assert question.sources[1].url is None
    assert content_hash(definition) != content_hash(plain)


def test_an_unquoted_yaml_date_in_a_source_reads_as_its_iso_text():
    text = dump(with_additions()).replace("date: '2024-03-18'", "date: 2024-03-18")

    definition = parse_definition(text, FILE)

    assert definition.questions[0].sources[0].date == "2024-03-18"


def _levels(data: dict[str, Any], levels: list[dict[str, Any]]) -> dict[str, Any]:
    data["dimensions"][0]["levels"] = levels
    return data


def _source(data: dict[str, Any], **fields: Any) -> dict[str, Any]:
    data["questions"][0]["sources"][0].update(fields)
    return data


BROKEN = [
    pytest.param(
        lambda d: _levels(d, dimension_levels()[:4]),
        "dimensions[0].levels",
        "give exactly 5 levels, 1 to 5; found 4",
        id="four-levels",
    ),
    pytest.param(
        lambda d: _levels(d, [dimension_levels()[i] for i in (0, 1, 2, 2, 4)]),
        "dimensions[0].levels[3].level",
        "levels must be listed 1 to 5 in order; expected 4, found 3",
        id="levels-out-of-order",
    ),
    pytest.param(
        lambda d: _levels(
            d, dimension_levels(["Level 1", "Emerging", "Level 3", "Level 4", "Level 5"])
        ),
        "dimensions[0].levels[1].name",
        "level 2 is called 'Level 2' in the questionnaire's levels, not 'Emerging'",
        id="level-renamed",
    ),
    pytest.param(
        lambda d: _source(d, url="http://www.ecfr.gov/current/title-45"),
        "questions[0].sources[0].url",
        "String should match pattern",
        id="plain-http-source",
    ),
    pytest.param(
        lambda d: _source(d, date="2024-02-30"),
        "questions[0].sources[0].date",
        "day is out of range for month",
        id="impossible-date",
    ),
    pytest.param(
        lambda d: _source(d, publisher=None),
        "questions[0].sources[0].publisher",
        "Input should be a valid string",
        id="source-without-publisher",
    ),
]


@pytest.mark.parametrize(("breaks", "path", "message"), BROKEN)
def test_a_broken_addition_is_reported_at_its_place(breaks, path, message):
    text = dump(breaks(with_additions()))

    problems = problems_of(text)

    assert [p.path for p in problems] == [path]
    assert message in problems[0].message
    assert problems[0].file == FILE
    assert problems[0].line is not None


# -- the catalogue --------------------------------------------------------------------------


def tiny_catalogue(version: int = 1) -> dict[str, Any]:
    """A catalogue for the tiny definition, with all three price forms and a membership."""
    detailed = version >= 2
    services: list[dict[str, Any]] = [
        {
            "id": "workshop",
            "kind": "in_person_training",
            "title": "Workshop",
            "description": "A day on site.",
            "duration": "1 day",
            "prices": {"small": 1000, "large": 3000},
        },
        {
            "id": "course",
            "kind": "online_training",
            "title": "Course",
            "description": "An online course.",
            "duration": "2 hours",
            "per_seat": 95,
            "seats": {"small": 3, "large": 12},
            "recurring": "yearly",
            "points": 10,
        },
        {
            "id": "licence",
            "kind": "resource",
            "title": "Licence",
            "description": "A tool licence per 100 staff.",
            "duration": "A year",
            "per_100_staff": 40,
            "recurring": "quarterly",
        },
        {
            "id": "membership",
            "kind": "membership",
            "title": "Membership",
            "description": "Points for services.",
            "duration": "A year",
            "prices": {"small": 500, "large": 900},
            "recurring": "yearly",
            "grants_points": {"small": 10, "large": 20},
        },
    ]
    if detailed:
        services[0]["delivers"] = ["policy", "training"]
        services[1]["delivers"] = ["training"]
        services[2]["delivers"] = ["account_security"]
        services[3]["delivers"] = []
    action: dict[str, Any] = {
        "id": "ac_train",
        "dimension": "alpha",
        "title": "Train everyone",
        "rationale": "Because.",
        "changes": [{"question": "q_choice", "to": "c_all"}],
        "effort_weeks": 2,
        "services": ["workshop", "course"],
    }
    if detailed:
        action["kind"] = "training"
        action["staff_hours"] = {"small": 6, "large": 20.5}
        action["diy"] = {
            "how": "Run the course yourselves.",
            "resources": ["licence"],
            "staff_hours": {"small": 12, "large": 40},
        }
    return {
        "questionnaire": "tiny",
        "version": version,
        "size_bands": [
            {"id": "small", "min_beds": 0, "label": "Small", "staff": 250},
            {"id": "large", "min_beds": 100, "label": "Large", "staff": 2001},
        ],
        "services": services,
        "actions": [action],
    }


def tiny_definition(version: int = 1) -> QuestionnaireDefinition:
    data = valid_definition()
    data["version"] = version
    return parse_definition(dump(data), FILE)


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    definition = tiny_definition(data["version"])
    return parse_document(
        dump(data), CATALOGUE_FILE, Catalogue, lambda c: check_catalogue(c, definition)
    )


def catalogue_problems(data: dict[str, Any]) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        parse_catalogue(data)
    return caught.value.problems


def test_each_price_form_prices_a_band():
    catalogue = parse_catalogue(tiny_catalogue(2))
    small, large = catalogue.size_bands

    assert catalogue.service("workshop").price_for(large) == 3000
    assert catalogue.service("course").price_for(small) == 3 * 95
    assert catalogue.service("course").seats_for(large) == 12
    # Per started hundred staff: 250 -> 3, 2001 -> 21.
    assert catalogue.service("licence").price_for(small) == 3 * 40
    assert catalogue.service("licence").price_for(large) == 21 * 40
    assert catalogue.service("licence").recurring is Recurrence.QUARTERLY
    assert catalogue.service("licence").yearly_cost(small) == 4 * 120
    assert catalogue.service("workshop").yearly_cost(small) == 0
    assert [s.id for s in catalogue.memberships()] == ["membership"]


def test_a_version_1_catalogue_needs_none_of_the_detail_fields():
    catalogue = parse_catalogue(tiny_catalogue(1))

    action = catalogue.actions[0]
    assert (action.kind, action.staff_hours, action.diy) == (None, None, None)
    assert catalogue.service("workshop").delivers is None


def _without(path: tuple[Any, ...]) -> Any:
    def apply(data: dict[str, Any]) -> dict[str, Any]:
        target = data
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]
        return data

    return apply


def _put(path: tuple[Any, ...], value: Any) -> Any:
    def apply(data: dict[str, Any]) -> dict[str, Any]:
        target = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        return data

    return apply


BROKEN_CATALOGUES = [
    pytest.param(
        _without(("services", 0, "delivers")),
        "services[0].delivers",
        "say which kinds of action this service really delivers",
        id="v2-service-without-delivers",
    ),
    pytest.param(
        _without(("actions", 0, "kind")),
        "actions[0].kind",
        "say what kind of work this action is",
        id="v2-action-without-kind",
    ),
    pytest.param(
        _without(("actions", 0, "staff_hours")),
        "actions[0].staff_hours",
        "give the internal staff hours for every size band",
        id="v2-action-without-staff-hours",
    ),
    pytest.param(
        _put(("actions", 0, "staff_hours"), {"small": 6}),
        "actions[0].staff_hours",
        "no staff hours for band(s) large",
        id="staff-hours-missing-a-band",
    ),
    pytest.param(
        _put(("actions", 0, "kind"), "vendor"),
        "actions[0].services",
        "none of the services delivers 'vendor' work",
        id="services-do-not-deliver-the-kind",
    ),
    pytest.param(
        _put(("services", 0, "per_100_staff"), 50),
        "services[0]",
        "give exactly one price form: prices, per_seat or per_100_staff "
        "(found prices, per_100_staff)",
        id="two-price-forms",
    ),
    pytest.param(
        _without(("services", 0, "prices")),
        "services[0]",
        "give exactly one price form: prices, per_seat or per_100_staff (found none)",
        id="no-price-form",
    ),
    pytest.param(
        _without(("services", 1, "seats")),
        "services[1].seats",
        "a per-seat price needs the seats for every size band",
        id="per-seat-without-seats",
    ),
    pytest.param(
        _without(("size_bands", 1, "staff")),
        "size_bands[1].staff",
        "service 'licence' is priced per 100 staff, so every size band needs",
        id="per-100-staff-without-band-staff",
    ),
    pytest.param(
        _without(("services", 3, "grants_points")),
        "services[3].grants_points",
        "a membership must say the points it grants per band",
        id="membership-without-points",
    ),
    pytest.param(
        _put(("services", 3, "points"), 5),
        "services[3].points",
        "a membership cannot be bought with points",
        id="membership-bought-with-points",
    ),
    pytest.param(
        _put(("services", 0, "grants_points"), {"small": 1, "large": 1}),
        "services[0].grants_points",
        "only a membership grants points",
        id="points-granted-by-a-workshop",
    ),
    pytest.param(
        _put(("actions", 0, "diy", "resources"), ["workshop"]),
        "actions[0].diy.resources[0]",
        "'workshop' is in_person_training, not a resource",
        id="diy-resource-not-a-resource",
    ),
    pytest.param(
        _put(("actions", 0, "diy", "resources"), ["handbook"]),
        "actions[0].diy.resources[0]",
        "unknown service 'handbook'",
        id="diy-resource-unknown",
    ),
    pytest.param(
        _put(("actions", 0, "services"), ["workshop", "membership"]),
        "actions[0].services[1]",
        "'membership' is a membership; list the services it pays for instead",
        id="action-lists-the-membership",
    ),
    pytest.param(
        _put(("services", 1, "recurring"), "monthly"),
        "services[1].recurring",
        "Input should be 'one_off', 'yearly' or 'quarterly'",
        id="unknown-recurrence",
    ),
]


@pytest.mark.parametrize(("breaks", "path", "message"), BROKEN_CATALOGUES)
def test_a_broken_version_2_catalogue_names_the_place(breaks, path, message):
    data = breaks(copy.deepcopy(tiny_catalogue(2)))
    text = dump(data)

    problems = catalogue_problems(data)

    assert [p.path for p in problems] == [path], problems
    assert message in problems[0].message
    assert problems[0].file == CATALOGUE_FILE
    # The line is that of the item the path names (or the nearest enclosing one given).
    section = path.split("[")[0]
    assert problems[0].line is not None
    assert problems[0].line > line_of(text, rf"^{section}:$")


def test_the_stored_catalogue_yaml_round_trips_a_membership():
    data = tiny_catalogue(2)
    catalogue = parse_catalogue(data)
    dumped = yaml.safe_load(dump(canonical_document(catalogue)))

    assert dumped["services"][3]["delivers"] == []
    assert dumped["services"][3]["grants_points"] == {"small": 10, "large": 20}
    assert "recurring" not in dumped["services"][0]  # one_off is the default
