"""What the identifier check catches in comments and free text, and what it knowingly misses."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.intake.identifiers import IdentifierKind, find_identifiers, identifier_warnings
from tests.strategies import DEFINITION

PHONE = IdentifierKind.PHONE
EMAIL = IdentifierKind.EMAIL
SSN = IdentifierKind.SSN
DOB = IdentifierKind.DATE_OF_BIRTH
MRN = IdentifierKind.RECORD_NUMBER

CAUGHT = [
    ("Her daughter called from 612-555-0147 to complain.", PHONE),
    ("Call back on (612) 555-0199 ext. 4", PHONE),
    ("He left a UK number, +44 20 7946 0958.", PHONE),
    ("The mother wrote from jane.doe@example.org", EMAIL),
    ("Reply went to j_smith+ward4@mail.example.co.uk by mistake", EMAIL),
    ("His SSN 123-45-6789 was in the screenshot", SSN),
    ("ssn: 123456789", SSN),
    ("DOB 04/12/1957, admitted Tuesday", DOB),
    ("the patient, born on April 12, 1957, was shown", DOB),
    ("date of birth 1957-04-12", DOB),
    ("Photo showed the wristband with 12 Apr 1957 (DOB)", DOB),
    ("MRN 00451234 was visible on the whiteboard", MRN),
    ("MRN: A1234567", MRN),
    ("chart #88123 was open on screen", MRN),
    ("medical record number 5512345", MRN),
    ("patient ID 77812 in the caption", MRN),
    ("the wristband read 004512349", MRN),  # a bare run of 7-12 digits
]


@pytest.mark.parametrize(("text", "kind"), CAUGHT, ids=[c[0][:40] for c in CAUGHT])
def test_an_identifier_shape_is_caught(text, kind):
    assert kind in find_identifiers(text)


MISSED = [
    # Text a program description needs: counts, years, times, money with separators.
    ("We have 2,000 followers and post 3 times a week.", ()),
    ("On March 3, 2024 a nurse posted a photo from the unit.", ()),  # a bare date
    ("The page has 12000 likes since 2019.", ()),
    ("Budget is $45,000 for the year.", ()),
    ("Our Gantt chart 2024 covers the plan.", ()),
    # Known misses, documented in the README: the check is no substitute for not typing them.
    ("Mr. Smith in room 4 was filmed.", ()),  # names
    ("She lives at 12 Elm Street, Duluth.", ()),  # addresses
    ("Her number is six one two, five five five, oh one four seven.", ()),  # spelled out
    ("phone 555-0147", ()),  # seven digits with no area code is not a valid US number
]


@pytest.mark.parametrize(("text", "expected"), MISSED, ids=[m[0][:40] for m in MISSED])
def test_text_without_a_recognisable_identifier_passes(text, expected):
    assert find_identifiers(text) == expected


def test_a_known_false_alarm_is_a_long_bare_number():
    # A budget written without separators reads like a record number: a warning, not a refusal.
    assert find_identifiers("budget 1500000") == (MRN,)


def test_several_kinds_are_reported_in_a_fixed_order():
    text = "jane@example.org, 612-555-0147, DOB 1/2/1960"

    assert find_identifiers(text) == (PHONE, EMAIL, DOB)


def test_warnings_name_the_field_and_the_question_for_comments_and_free_text_only():
    items = [
        SimpleNamespace(question_id="pr_official_accounts", value="main_platforms", comment=None),
        SimpleNamespace(
            question_id="pr_account_ownership",
            value="individual_work",
            comment="Ask Dana on 612-555-0147",
        ),
        SimpleNamespace(
            question_id="se_incidents_description",
            value="A nurse posted the MRN 00451234 of a patient.",
            comment=None,
        ),
    ]

    warnings = identifier_warnings(DEFINITION, items)

    assert [(w.field, w.question_id, w.kinds) for w in warnings] == [
        ("answers[1].comment", "pr_account_ownership", (PHONE,)),
        ("answers[2].value", "se_incidents_description", (MRN,)),
    ]
    assert warnings[0].message.startswith(
        "pr_account_ownership: the comment looks like it holds a phone number."
    )
    assert "Do not enter patient names or identifiers" in warnings[1].message
    assert warnings[1].to_dict()["kinds"] == ["medical record or account number"]


def test_an_option_value_is_never_read_as_free_text():
    # Option values are ids chosen from a list, whatever digits they contain.
    items = [SimpleNamespace(question_id="pr_official_accounts", value="6125550147", comment=None)]

    assert identifier_warnings(DEFINITION, items) == []
