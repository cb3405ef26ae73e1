"""The SMTP settings: e-mail is off without a host, and a host needs a From address."""

from __future__ import annotations

import pytest

from app.addresses import email_address_problem
from app.config import Settings


def test_without_a_host_no_email_is_sent():
    assert Settings(smtp_host=None).sends_email is False
    assert Settings(smtp_host="  ").sends_email is False


def test_a_host_needs_a_from_address():
    with pytest.raises(ValueError, match="smtp_from is required"):
        Settings(smtp_host="smtp.example.org")


def test_the_from_address_must_be_one_address():
    with pytest.raises(ValueError, match="smtp_from"):
        Settings(smtp_host="smtp.example.org", smtp_from="Assessments <a@example.org>")


def test_the_defaults_are_starttls_on_587():
    settings = Settings(smtp_host="smtp.example.org", smtp_from="a@example.org")
    assert (settings.smtp_port, settings.smtp_security, settings.email_max_attempts) == (
        587,
        "starttls",
        5,
    )
    assert settings.sends_email is True


@pytest.mark.parametrize(
    "address",
    ["staff@lakeside.example.org", "first.last+tag@xn--bcher-kva.example", "a@b.co"],
)
def test_plain_addresses_are_accepted(address):
    assert email_address_problem(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "",
        "staff",
        "@example.org",
        "staff@",
        "staff@localhost",
        "two@example.org,three@example.org",
        "a b@example.org",
        "a..b@example.org",
        "staff@-bad-.example.org",
        "staff@example.123",
        "stäff@example.org",
        "staff@example.org\nBcc: x@example.org",
        "x" * 65 + "@example.org",
    ],
)
def test_anything_else_is_refused(address):
    assert email_address_problem(address) is not None
