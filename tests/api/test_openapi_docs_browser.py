"""/docs and /redoc in a real browser, on a network that reaches nothing but the service.

Debian's chromium through Playwright (never downloaded); skipped, saying why, where it is
missing, and required with SMM_REQUIRE_BROWSER=1. Every request that leaves 127.0.0.1 is
refused and recorded, and the pages' own Content-Security-Policy applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest


@pytest.fixture
def page(browser: Any, live_server: tuple[str, str]) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A page whose requests off 127.0.0.1 fail; with those requests and console errors."""
    context = browser.new_context()
    elsewhere: list[str] = []
    errors: list[str] = []

    def only_here(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_here)
    tab = context.new_page()
    tab.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab, elsewhere, errors
    context.close()


def test_swagger_ui_shows_every_operation_from_the_services_own_files(
    page: tuple[Any, list[str], list[str]], live_server: tuple[str, str]
) -> None:
    tab, elsewhere, errors = page
    url, _ = live_server

    tab.goto(f"{url}/docs")
    tab.wait_for_selector(".opblock-summary", timeout=30_000)

    assert "smm-assess" in tab.inner_text(".info")
    shown = tab.locator(".opblock").count()
    assert shown >= 30
    assert tab.locator("#operations-assessments-createAssessment").count() == 1
    assert elsewhere == []
    assert [e for e in errors if "favicon" not in e] == []


def test_redoc_shows_the_reference_from_the_services_own_files(
    page: tuple[Any, list[str], list[str]], live_server: tuple[str, str]
) -> None:
    tab, elsewhere, errors = page
    url, _ = live_server

    tab.goto(f"{url}/redoc")
    tab.wait_for_selector("[data-section-id='operation/createAssessment']", timeout=30_000)

    assert "smm-assess" in tab.inner_text("h1")
    # ReDoc's footer logo is an image on its makers' site: the policy refuses it, and
    # nothing else is refused or fails.
    assert [e for e in errors if "favicon" not in e and "cdn.redoc.ly" not in e] == []
    assert all(urlsplit(u).hostname == "cdn.redoc.ly" for u in elsewhere), elsewhere
