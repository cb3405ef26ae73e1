"""Spot text that looks like it holds a patient identifier, so the person typing is warned.

Comments and free-text answers are meant for how the program works, never for who a
patient is. This module cannot prove text is free of PHI; it catches the identifier
shapes that are easy to recognise and cheap to check, and warns (it never refuses):

- phone numbers: Google's libphonenumber rules (the ``phonenumbers`` package), for
  numbers valid in the US or written in international form;
- email addresses;
- SSN-like numbers: ``123-45-6789`` (or with spaces), and nine digits after "SSN";
- dates of birth: a date (``04/12/1957``, ``1957-04-12``, ``April 12, 1957``) within a
  few words of "DOB", "born" or "birth";
- MRN-like numbers: digits (or letters and digits) after "MRN", "medical record",
  "record number", "chart", "patient ID" or "account number", and any bare run of
  seven to twelve digits that is not a phone number.

What it misses (see the table tests): names, addresses, a bare date with no word about
birth, short numbers, identifiers spelled out in words, and anything in a photo or file.
Libraries that find names (Presidio, scrubadub's name detectors) need language models
downloaded at run time, which this service does not do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import phonenumbers

from app.questionnaire.schemas import QuestionnaireDefinition, TextQuestion


class IdentifierKind(StrEnum):
    PHONE = "phone number"
    EMAIL = "email address"
    SSN = "Social Security number"
    DATE_OF_BIRTH = "date of birth"
    RECORD_NUMBER = "medical record or account number"


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SSN = re.compile(
    r"(?<![\d-])(?!000|666|9\d\d)\d{3}[- ](?!00)\d{2}[- ](?!0000)\d{4}(?![\d-])"
    r"|\b(?:SSN|social security(?: number| no\.?)?)\W{0,3}\d{9}\b",
    re.IGNORECASE,
)
_MONTH = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"  # names and abbreviations
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}})"
)
_BIRTH_WORD = r"(?:d\.?o\.?b\.?|date of birth|birth ?date|birthday|born)"
_DATE_OF_BIRTH = re.compile(
    rf"\b{_BIRTH_WORD}\W{{0,3}}(?:\w+\W+){{0,3}}?{_DATE}|{_DATE}\W{{0,3}}\(?{_BIRTH_WORD}\b",
    re.IGNORECASE,
)
_RECORD_NUMBER = re.compile(
    r"\b(?:mrn|medical record(?: number| no\.?| #)?|record (?:number|no\.?|#)|chart"
    r"(?: number| no\.?| #)?|patient (?:id|number|no\.?|#)|account (?:number|no\.?|#)|acct\.?)"
    r"\W{0,4}(?=[A-Z0-9-]*\d)[A-Z0-9-]{5,}\b",
    re.IGNORECASE,
)
_LONG_NUMBER = re.compile(r"(?<![\d,.])\d{7,12}(?![\d,.])")
# Every shape but an email address needs a digit, so text without one is checked for an
# email address alone. A valid phone number needs at least PHONE_MIN_DIGITS: ten in the
# US's national form; in international form, the country code's digits and the shortest
# national number of that country (Austria's 43 and four digits; a test derives the bound
# from libphonenumber's metadata). Below that, libphonenumber, the costly check, is skipped.
_DIGIT = re.compile(r"\d")
PHONE_MIN_DIGITS = 6


def find_identifiers(text: str) -> tuple[IdentifierKind, ...]:
    """The kinds of identifier ``text`` seems to hold, in a fixed order; () for none."""
    digits = len(_DIGIT.findall(text))
    if not digits:
        return (IdentifierKind.EMAIL,) if _EMAIL.search(text) else ()
    return _every_kind(text, phones=digits >= PHONE_MIN_DIGITS)


def _every_kind(text: str, *, phones: bool = True) -> tuple[IdentifierKind, ...]:
    found: list[IdentifierKind] = []
    phone_spans = _phone_spans(text) if phones else []
    if phone_spans:
        found.append(IdentifierKind.PHONE)
    if _EMAIL.search(text):
        found.append(IdentifierKind.EMAIL)
    ssn_spans = [m.span() for m in _SSN.finditer(text)]
    if ssn_spans:
        found.append(IdentifierKind.SSN)
    if _DATE_OF_BIRTH.search(text):
        found.append(IdentifierKind.DATE_OF_BIRTH)
    taken = phone_spans + ssn_spans
    if _RECORD_NUMBER.search(text) or any(
        not _overlaps(m.span(), taken) for m in _LONG_NUMBER.finditer(text)
    ):
        found.append(IdentifierKind.RECORD_NUMBER)
    return tuple(found)


def _phone_spans(text: str) -> list[tuple[int, int]]:
    matcher = phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.VALID)
    return [(match.start, match.end) for match in matcher]


def _overlaps(span: tuple[int, int], others: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


@dataclass(frozen=True, slots=True)
class IdentifierWarning:
    """A comment or free-text answer that looks like it holds a patient identifier."""

    field: str  # where in the request, e.g. answers[3].comment
    question_id: str
    kinds: tuple[IdentifierKind, ...]

    @property
    def message(self) -> str:
        """The warning in words, naming the question and what was seen."""
        what = "the comment" if self.field.endswith(".comment") else "the answer"
        kinds = [str(kind) for kind in self.kinds]
        seen = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
        return (
            f"{self.question_id}: {what} looks like it holds a {seen}. Do not enter patient "
            "names or identifiers; describe what happened without them."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as the API returns it."""
        return {
            "field": self.field,
            "question_id": self.question_id,
            "kinds": [str(kind) for kind in self.kinds],
            "message": self.message,
        }


def identifier_warnings(
    definition: QuestionnaireDefinition, answers: Iterable[Any]
) -> list[IdentifierWarning]:
    """Warnings for the comments and free-text answers among ``answers``.

    ``answers`` are items with ``question_id``, ``value`` and ``comment`` attributes, in
    request order (their index names the field).
    """
    warnings = []
    questions = definition.question_index()
    for index, item in enumerate(answers):
        entry = questions.get(item.question_id)
        question = entry[1] if entry is not None else None
        texts = []
        if isinstance(question, TextQuestion) and isinstance(item.value, str):
            texts.append(("value", item.value))
        if item.comment:
            texts.append(("comment", item.comment))
        for part, text in texts:
            kinds = find_identifiers(text)
            if kinds:
                warnings.append(
                    IdentifierWarning(f"answers[{index}].{part}", item.question_id, kinds)
                )
    return warnings
