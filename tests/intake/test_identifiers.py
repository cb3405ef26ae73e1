"""What the identifier check catches in comments and free text, and what it knowingly misses."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from app.intake.identifiers import (
    PHONE_MIN_DIGITS,
    IdentifierKind,
    _every_kind,
    find_identifiers,
    identifier_warnings,
)
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


_FEW_DIGITS = st.text(
    alphabet=st.characters(blacklist_categories=("Nd", "Cs")) | st.sampled_from("+-()./ x#"),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_FEW_DIGITS, min_size=1, max_size=PHONE_MIN_DIGITS).flatmap(
        lambda parts: st.lists(
            st.sampled_from("0123456789\uff10\u0665"),  # ASCII, fullwidth, Arabic-Indic
            min_size=len(parts) - 1,
            max_size=len(parts) - 1,
        ).map(lambda digits: "".join(p + d for p, d in zip(parts, [*digits, ""], strict=True)))
    )
    | st.sampled_from(
        [
            "Call 1-800-FLOWERS",
            "Call ONE-EIGHT-HUNDRED FLOWERS today",
            "+ CALL-NOW (ext.) x# -- / ~",
            "Email dana@example.org, DOB April, MRN ABCDE, SSN on file",
            "+43 1 23",  # five digits: too few for any country's valid number
            "Phone: +() -.- \uff0f \uff3b\uff3d \uff5e \uff0b",
        ]
    )
)
def test_text_with_too_few_digits_is_judged_as_the_full_check_judges_it(text: str):
    # The shortcuts for text with no digit, or too few for a phone number, never change
    # an answer: the full check (libphonenumber included) finds the same.
    assert sum(c.isdecimal() for c in text) < PHONE_MIN_DIGITS
    assert find_identifiers(text) == _every_kind(text)


def test_no_valid_phone_number_has_fewer_digits_than_the_shortcut_assumes():
    # Derived from libphonenumber's metadata: the country code's digits plus the shortest
    # possible national number of any region (and the US's own national form).
    shortest = PhoneMetadata.metadata_for_region("US").general_desc.possible_length
    fewest = min(shortest)
    for code, regions in COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            metadata = (
                PhoneMetadata.metadata_for_nongeo_region(code)
                if region == "001"
                else PhoneMetadata.metadata_for_region(region)
            )
            lengths = metadata.general_desc.possible_length if metadata else ()
            assert lengths, (code, region)
            fewest = min(fewest, len(str(code)) + min(lengths))
    assert fewest >= PHONE_MIN_DIGITS
