"""The progress of `smm report --all`: the terminal bar's fields and the plain lines."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

from rich.console import Console

from app.cli.progress import BarProgress, LineProgress, report_progress
from app.exports.bulk import FileOutcome, Result


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def outcome(name: str, result: Result = Result.RENDERED, reason: str | None = None) -> FileOutcome:
    file = Path(f"{name}.pdf") if reason is None else None
    return FileOutcome(uuid.uuid4(), name, result, file=file, reason=reason)


def terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=160, record=True)


def bar_text(bar: BarProgress, console: Console) -> str:
    console.print(bar.progress.make_tasks_table(bar.progress.tasks))
    return console.export_text()


def test_the_bar_shows_done_of_total_elapsed_eta_and_the_organization_started_last():
    clock, console = Clock(), terminal()
    bar = BarProgress(console, 4, get_time=clock)
    bar.started("Lakeside Community Hospital")
    bar.started("St. Zoë's [b]University[/b] Center")  # started last: the one shown
    clock.now += 60
    bar.finished(outcome("Lakeside Community Hospital"))

    text = bar_text(bar, console)

    assert "Rendering roadmaps" in text
    assert "1/4" in text
    assert "elapsed 0:01:00" in text
    assert "ETA 0:03:00" in text  # a minute a report so far, three to go
    assert "St. Zoë's [b]University[/b] Center" in text  # as typed, not markup
    assert "Lakeside" not in text


def test_the_bar_has_no_estimate_before_the_first_report_is_done():
    clock, console = Clock(), terminal()
    bar = BarProgress(console, 40, get_time=clock)
    bar.started("Lakeside Community Hospital")
    clock.now += 5

    text = bar_text(bar, console)

    assert "0/40" in text
    assert "elapsed 0:00:05" in text
    assert "ETA -:--:--" in text


def test_the_bar_counts_failures_as_done_and_ends_at_the_total():
    clock, console = Clock(), terminal()
    bar = BarProgress(console, 2, get_time=clock)
    for name in ("A", "B"):
        bar.started(name)
        clock.now += 30
        bar.finished(outcome(name, Result.FAILED, reason="rendering failed"))

    text = bar_text(bar, console)

    assert "2/2" in text
    assert "elapsed 0:01:00" in text
    assert "ETA 0:00:00" in text


def test_lines_name_each_report_as_it_ends_with_its_result_elapsed_and_eta():
    clock = Clock()
    file = io.StringIO()
    console = Console(file=file, force_terminal=False, width=80)
    lines = LineProgress(console, 3, get_time=clock)
    lines.started("Lakeside Community Hospital")  # nothing printed for a start
    clock.now += 20
    lines.finished(outcome("Lakeside Community Hospital"))
    clock.now += 10
    lines.finished(outcome("Pinewood [i]Clinic[/i]", Result.FAILED, reason="no catalogue"))
    clock.now += 30
    lines.finished(outcome("Cedar Hospital", Result.CACHED))

    assert file.getvalue().splitlines() == [
        "1/3 rendered: Lakeside Community Hospital; elapsed 0:00:20, ETA 0:00:40",
        "2/3 failed: Pinewood [i]Clinic[/i] (no catalogue); elapsed 0:00:30, ETA 0:00:15",
        "3/3 from cache: Cedar Hospital; elapsed 0:01:00, ETA 0:00:00",
    ]
    assert "\x1b" not in file.getvalue()  # no terminal control codes


def test_a_terminal_gets_the_bar_and_anything_else_the_lines():
    assert isinstance(report_progress(terminal(), 3), BarProgress)
    plain = Console(file=io.StringIO(), force_terminal=False)
    assert isinstance(report_progress(plain, 3), LineProgress)
