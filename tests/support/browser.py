"""Debian's chromium, driven by Playwright: found, launched, or skipped saying why.

The browser is never downloaded. Where it or Playwright is missing the browser tests skip;
with SMM_REQUIRE_BROWSER=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REQUIRED = os.environ.get("SMM_REQUIRE_BROWSER") == "1"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright and axe-playwright-python are not installed (pip install -e .[dev])"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def skip_without_browser() -> None:
    """Skip the test when the browser is missing, or fail it when the browser is required."""
    reason = missing_browser()
    if reason:
        if REQUIRED:
            pytest.fail(f"SMM_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """A headless chromium until the block ends (skips or fails first where it is missing)."""
    skip_without_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
