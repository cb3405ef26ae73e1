"""What counts as one e-mail address: the rule the settings, the API and the CLI share.

Deliberately narrower than RFC 5322: one plain ASCII ``local@domain`` address, no display
name, no comments, no quoted local part, no list. That is what a consultant types into a
form, and it keeps header injection (a second address, a line break) out by construction.
"""

from __future__ import annotations

import re

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def email_address_problem(value: str) -> str | None:
    """Why ``value`` is not one plain e-mail address, or None when it is."""
    if not value or len(value) > 254:
        return "must be one e-mail address of at most 254 characters"
    if not value.isascii():
        return "must be written in ASCII (an internationalized domain in its xn-- form)"
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return "must look like name@example.org"
    if len(local) > 64 or not _LOCAL.match(local):
        return f"{local!r} is not a valid name before the @ (one address, no spaces or lists)"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return f"{domain!r} is not a valid domain name"
    if labels[-1].isdigit():
        return f"{domain!r} is not a valid domain name"
    return None


def email_address(value: str) -> str:
    """``value`` stripped of surrounding spaces, if it is one plain address; ValueError if not."""
    stripped = value.strip()
    problem = email_address_problem(stripped)
    if problem is not None:
        raise ValueError(problem)
    return stripped
