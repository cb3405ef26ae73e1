"""What the console's browser tests share: a live server, axe, screenshots, keyboard-only
moves, signing in."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, session_factory, transaction
from app.main import create_app
from app.migrate import upgrade
from app.questionnaire.registry import QuestionnaireRegistry, load_published
from tests.support.servers import served_in_thread

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
DOCS = PROJECT_ROOT / "docs"

T = TypeVar("T")


def scan(page: Any, name: str) -> None:
    """No serious or critical accessibility violations on the page (axe-core)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} - {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: " + "; ".join(bad)


def shot(page: Any, name: str, docs_name: str | None = None) -> None:
    """A full-page screenshot under test-artifacts/; with SMM_UPDATE_DOCS=1 the first
    screenful also goes to docs/ for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)
    if docs_name and os.environ.get("SMM_UPDATE_DOCS") == "1":
        page.screenshot(path=str(DOCS / docs_name))


def shot_and_scan(page: Any, name: str) -> None:
    """A screenshot of the page (named after ``name``, dashes for spaces), then axe on it."""
    shot(page, name.replace(" ", "-"))
    scan(page, name)


def tab_to(page: Any, selector: str, limit: int = 300) -> None:
    """Press Tab until the element matching ``selector`` has the focus (no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "(s) => document.activeElement !== null && document.activeElement.matches(s)",
            selector,
        ):
            return
    raise AssertionError(f"Tab never reached {selector}")


def sign_in(
    page: Any, base: str, email: str, password: str, *, next_path: str | None = None
) -> None:
    """Sign in through the form and land on the portfolio; with ``next_path``, open that
    page first, sign in on the form it sends to, and land back on it."""
    page.goto(f"{base}{next_path or '/console/sign-in'}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_url(f"{base}{next_path or '/console'}")


@dataclass(frozen=True)
class Served(Generic[T]):
    """A console served from a thread: its base URL, its engine, and what the seed returned."""

    url: str
    engine: Engine
    seeded: T

    def session(self) -> AbstractContextManager[Session]:
        """A transaction on the served database (committed when the block ends)."""
        return transaction(session_factory(self.engine))


@contextmanager
def served_console(
    where: Path,
    *,
    run_report_jobs: bool = False,
    seed: Callable[[Session, Settings, QuestionnaireRegistry], T],
) -> Iterator[Served[T]]:
    """A uvicorn serving the app from a thread, on a migrated SQLite database under ``where``
    with the published questionnaires; ``seed`` fills the database before the server starts
    (in one transaction), and its result comes back as ``seeded``."""
    url = f"sqlite:///{where / 'smm.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        registry = load_published(engine, PROJECT_ROOT / "questionnaires")
        settings = Settings(
            database_url=url,
            run_report_jobs=run_report_jobs,
            secret_key_file=where / "secret",
            questionnaires_dir=PROJECT_ROOT / "questionnaires",
            sign_in_rate_limit=10_000,
            sign_in_rate_burst=10_000,
        )
        with transaction(session_factory(engine)) as session:
            seeded = seed(session, settings, registry)
        with served_in_thread(create_app(settings, engine=engine, registry=registry)) as base:
            yield Served(base, engine, seeded)
    finally:
        engine.dispose()
