"""FHIR search: which parameters each resource takes, what their values mean, and the
``searchset`` Bundle with its paging links.

Pure: query-string pairs in, filters and Bundles out; ``service.py`` runs the filters.
Per the FHIR rules (hl7.org/fhir/R4/search.html): several values in one parameter,
comma-separated, are alternatives (OR); a parameter repeated must hold every time (AND);
a parameter this server does not know is ignored and left out of the ``self`` link, unless
the client sends ``Prefer: handling=strict``, which makes it a 400.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import urlencode

from app.errors import AppError
from app.fhir import terms
from app.fhir.outcome import issue
from app.text import printable, text_problem

Resource = dict[str, Any]
Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class SearchParameter:
    """One search parameter as the CapabilityStatement states it."""

    name: str
    type: str
    documentation: str


QUESTIONNAIRE_PARAMETERS = (
    SearchParameter(
        "url",
        "uri",
        "The canonical URL, exactly (without |version). Without `version`, only the latest "
        "version of each questionnaire matches.",
    ),
    SearchParameter(
        "version",
        "token",
        "The business version (1, 2, ...): that published version matches, the latest or not.",
    ),
    SearchParameter("_id", "token", "The questionnaire id, e.g. hospital-social-media."),
)
RESPONSE_PARAMETERS = (
    SearchParameter(
        "subject",
        "reference",
        "Organization/<id> (or the bare id). Only organizations the API key may see ever "
        "match: any other gives an empty Bundle.",
    ),
    SearchParameter(
        "questionnaire",
        "reference",
        "The Questionnaire's canonical URL, with |version to match one version only.",
    ),
    SearchParameter(
        "authored",
        "date",
        "When it was submitted (a draft: last saved). Prefixes eq (default), ne, gt, lt, "
        "ge, le, sa, eb; a date, or a dateTime with a time zone (none given: UTC). A value "
        "stands for its whole precision (authored=2026-03 is all of March).",
    ),
    SearchParameter("_id", "token", "The assessment id."),
)

# Result parameters every search takes: page size and position.
DEFAULT_COUNT = 50
MAX_COUNT = 100
MAX_OFFSET = 1_000_000
PAGING = frozenset({"_count", "_offset"})
_PARSED_ELSEWHERE = PAGING | {"_format", "weights"}
# Taken on every FHIR interaction; _format is checked before the operation runs.
COMMON = frozenset({"_format"})


class InvalidSearch(AppError):
    """A search parameter this server knows, with a value it cannot use (or strict refusal)."""

    status_code = 400
    code = "invalid_search"


@dataclass(frozen=True, slots=True)
class Page:
    """Where a page starts and how many entries it holds (0: only the total)."""

    offset: int
    count: int


def strict_handling(prefer: str | None) -> bool:
    """Whether the ``Prefer`` header asks for ``handling=strict``."""
    parts = (part.strip().lower() for part in (prefer or "").replace(";", ",").split(","))
    return "handling=strict" in {part.replace(" ", "") for part in parts}


def known_pairs(pairs: Pairs, known: Iterable[str], *, strict: bool) -> list[tuple[str, str]]:
    """The pairs this operation takes; the others ignored, or InvalidSearch when strict.

    A value this operation takes that is not text (NUL, a control character, a lone
    surrogate) is refused: it can match nothing and cannot be stored or echoed.
    """
    names = frozenset(known) | COMMON
    unknown = list(dict.fromkeys(printable(name) for name, _ in pairs if name not in names))
    if unknown and strict:
        detail = (
            f"Unknown search parameter(s) {', '.join(unknown)} refused (Prefer: handling=strict); "
            f"this operation takes {', '.join(sorted(names))}."
        )
        raise InvalidSearch(
            detail,
            issues=[
                issue("not-supported", f"{name} is not a parameter of this operation.", [name])
                for name in unknown
            ],
        )
    taken = [(name, value) for name, value in pairs if name in names]
    for name, value in taken:
        if name in _PARSED_ELSEWHERE:
            continue  # a flag, a number or a format: its own parser names what is wrong
        problem = text_problem(value)
        if problem is not None:
            raise _invalid(name, f"the value {problem}")
    return taken


def _invalid(name: str, message: str) -> InvalidSearch:
    return InvalidSearch(f"{name}: {message}", issues=[issue("invalid", message, [name])])


def page_of(pairs: Pairs) -> Page:
    """The page asked for by ``_count`` and ``_offset`` (the last of each counts)."""
    values = dict(pairs)
    count = _whole_number(values, "_count", DEFAULT_COUNT, 10**6)
    offset = _whole_number(values, "_offset", 0, MAX_OFFSET)
    return Page(offset=offset, count=min(count, MAX_COUNT))


def _whole_number(values: dict[str, str], name: str, default: int, maximum: int) -> int:
    text = values.get(name)
    if text is None:
        return default
    if re.fullmatch(r"[0-9]{1,7}", text.strip()) is None or int(text) > maximum:
        raise _invalid(name, f"must be a whole number from 0 to {maximum}, not {text[:20]!r}.")
    return int(text)


def weights_asked(pairs: Pairs) -> bool:
    """Whether ``weights=true`` asks for option scores (the last value counts)."""
    value = dict(pairs).get("weights", "false")
    if value not in ("true", "false"):
        raise _invalid("weights", f"must be true or false, not {value[:20]!r}.")
    return value == "true"


def alternatives(pairs: Pairs, name: str) -> list[list[str]]:
    """Each occurrence of ``name`` (all must hold) as its comma-separated alternatives."""
    return [[v.strip() for v in value.split(",")] for key, value in pairs if key == name]


# -- Questionnaire ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuestionnaireFilter:
    """What a Questionnaire search asks for; each list is ANDed, each inner list ORed."""

    urls: list[list[str]]
    versions: list[list[str]]
    ids: list[list[str]]

    @classmethod
    def of(cls, pairs: Pairs) -> QuestionnaireFilter:
        """The filter of a query's (known) pairs."""
        return cls(
            alternatives(pairs, "url"), alternatives(pairs, "version"), alternatives(pairs, "_id")
        )

    def matches(self, questionnaire_id: str, version: int, latest: bool) -> bool:
        """Whether one published version is a result (without ``version``: the latest only)."""
        if not self.versions and not latest:
            return False
        return (
            all(str(version) in values for values in self.versions)
            and all(questionnaire_id in values for values in self.ids)
            and all(terms.questionnaire_url(questionnaire_id) in values for values in self.urls)
        )


# -- QuestionnaireResponse --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instant:
    """``authored`` compared with one date: authored lies in [start, end) for ``eq``."""

    prefix: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ResponseFilter:
    """What a QuestionnaireResponse search asks for. None in a set: a value that names
    nothing this server could hold (a malformed id), so that alternative matches nothing."""

    ids: list[set[uuid.UUID]]
    subjects: list[set[uuid.UUID]]
    questionnaires: list[set[tuple[str, int | None]]]
    authored: list[Instant]

    @classmethod
    def of(cls, pairs: Pairs) -> ResponseFilter:
        """The filter of a query's (known) pairs; InvalidSearch for a malformed date."""
        return cls(
            ids=[_uuids(values) for values in alternatives(pairs, "_id")],
            subjects=[
                _uuids(_organization_id(v) for v in values)
                for values in alternatives(pairs, "subject")
            ],
            questionnaires=[
                {ref for ref in (_questionnaire(v) for v in values) if ref is not None}
                for values in alternatives(pairs, "questionnaire")
            ],
            authored=[_instant(value) for key, value in pairs if key == "authored"],
        )

    def matches_nothing(self) -> bool:
        """Whether some condition has no alternative that could match."""
        return any(not s for s in (*self.ids, *self.subjects, *self.questionnaires))


def _uuids(values: Iterable[str | None]) -> set[uuid.UUID]:
    result = set()
    for value in values:
        try:
            result.add(uuid.UUID(value or ""))
        except ValueError:
            continue  # no object has such an id: this alternative matches nothing
    return result


def _organization_id(reference: str) -> str | None:
    kind, _, identifier = reference.rstrip("/").rpartition("/")
    if kind and kind.rpartition("/")[2] != "Organization":
        return None
    return identifier


def _questionnaire(canonical: str) -> tuple[str, int | None] | None:
    reference = terms.parse_questionnaire_reference(canonical)
    if reference is None:
        return None
    questionnaire_id, version = reference
    if version is None:
        return questionnaire_id, None
    if re.fullmatch(r"[1-9][0-9]{0,6}", version) is None:
        return None
    return questionnaire_id, int(version)


_PREFIXES = frozenset({"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"})
_DATE = re.compile(
    r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?P<fraction>\.[0-9]{1,6})?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?"
)


def _instant(value: str) -> Instant:
    # An unescaped "+" of a time zone arrives as a space.
    text = value.strip().replace(" ", "+")
    prefix = text[:2] if text[:2] in _PREFIXES else "eq"
    if text[:2] in _PREFIXES:
        text = text[2:]
    match = _DATE.fullmatch(text)
    if match is None:
        raise _invalid(
            "authored",
            f"{value[:40]!r} is not a FHIR date: [eq|ne|gt|lt|ge|le|sa|eb]YYYY[-MM[-DD"
            "[Thh:mm[:ss[.ffffff]][Z|+hh:mm]]]].",
        )
    try:
        start, end = _range(match)
    except (ValueError, OverflowError):
        raise _invalid("authored", f"{value[:40]!r} is not a date that exists.") from None
    return Instant(prefix, start, end)


def _range(match: re.Match[str]) -> tuple[datetime, datetime]:
    part = match.groupdict()
    year = int(part["year"])
    if part["month"] is None:
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    month = int(part["month"])
    if part["day"] is None:
        start = datetime(year, month, 1, tzinfo=UTC)
        following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return start, following
    day = datetime(year, month, int(part["day"]), tzinfo=UTC)
    if part["hour"] is None:
        return day, day + timedelta(days=1)
    zone: tzinfo = UTC
    if part["zone"] not in (None, "Z"):
        sign = 1 if part["zone"][0] == "+" else -1
        hours, minutes = part["zone"][1:].split(":")
        zone = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
    moment = datetime(
        year, month, int(part["day"]), int(part["hour"]), int(part["minute"]), tzinfo=zone
    )
    if part["second"] is None:
        return moment, moment + timedelta(minutes=1)
    moment = moment.replace(second=int(part["second"]))
    if part["fraction"] is None:
        return moment, moment + timedelta(seconds=1)
    digits = part["fraction"][1:]
    moment = moment.replace(microsecond=int(digits.ljust(6, "0")))
    return moment, moment + timedelta(microseconds=10 ** (6 - len(digits)))


# -- the Bundle -------------------------------------------------------------------------------


def search_url(endpoint: str, pairs: Pairs, page: Page, offset: int | None = None) -> str:
    """The URL of a page of this search: the parameters used, then the paging ones."""
    used = [(name, value) for name, value in pairs if name not in PAGING and name not in COMMON]
    used += [("_count", str(page.count))]
    where = page.offset if offset is None else offset
    if where:
        used.append(("_offset", str(where)))
    return f"{endpoint}?{urlencode(used)}"


def searchset(
    entries: list[tuple[str, Resource]], total: int, endpoint: str, pairs: Pairs, page: Page
) -> Resource:
    """A searchset Bundle of (fullUrl, resource) entries, with self, first, previous, next
    and last links when there are such pages."""
    links = [{"relation": "self", "url": search_url(endpoint, pairs, page)}]
    if page.count:
        last = max(total - 1, 0) // page.count * page.count
        links.append({"relation": "first", "url": search_url(endpoint, pairs, page, 0)})
        if page.offset > 0:
            previous = max(page.offset - page.count, 0)
            links.append(
                {"relation": "previous", "url": search_url(endpoint, pairs, page, previous)}
            )
        if page.offset + page.count < total:
            following = page.offset + page.count
            links.append({"relation": "next", "url": search_url(endpoint, pairs, page, following)})
        links.append({"relation": "last", "url": search_url(endpoint, pairs, page, last)})
    bundle: Resource = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if entries:
        bundle["entry"] = [
            {"fullUrl": full_url, "resource": resource, "search": {"mode": "match"}}
            for full_url, resource in entries
        ]
    return bundle
