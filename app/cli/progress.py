"""Progress of `smm report --all`: a live bar on a terminal, one line a report elsewhere.

Both show how many reports are done of how many, the time since the start and an
estimate of the time left (the average time per finished report so far, times those left:
steadier than a recent-speed estimate when several reports finish at once). The bar also
shows the organization whose report was started last; the lines name each as it ends, so
a CI log or a pipe gets a record without terminal control codes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

if TYPE_CHECKING:
    from app.exports.bulk import FileOutcome

DESCRIPTION = "Rendering roadmaps"


class ReportProgress(Protocol):
    """What `smm report --all` tells its progress display, from any thread."""

    def started(self, organization_name: str) -> None: ...

    def finished(self, outcome: FileOutcome) -> None: ...

    def __enter__(self) -> ReportProgress: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


def clock_text(seconds: float | None) -> str:
    """H:MM:SS, or -:--:-- while unknown."""
    if seconds is None:
        return "-:--:--"
    return str(timedelta(seconds=max(0, round(seconds))))


def remaining_seconds(elapsed: float, done: int, total: int) -> float | None:
    """Time left at the average pace so far; None before the first report is done."""
    if done <= 0:
        return None
    return elapsed / done * (total - done)


class _ElapsedColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"elapsed {clock_text(task.elapsed or 0)}", style="progress.elapsed")


class _RemainingColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        total = int(task.total or 0)
        left = remaining_seconds(task.elapsed or 0, int(task.completed), total)
        return Text(f"ETA {clock_text(left)}", style="progress.remaining")


class BarProgress:
    """A live bar: done/total, elapsed, ETA and the organization started last."""

    def __init__(
        self, console: Console, total: int, *, get_time: Callable[[], float] | None = None
    ) -> None:
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _ElapsedColumn(),
            _RemainingColumn(),
            # An organization's name is data: shown as typed, never read as markup.
            TextColumn("{task.fields[current]}", markup=False),
            console=console,
            get_time=get_time,
        )
        self._task = self._progress.add_task(DESCRIPTION, total=total, current="")

    def __enter__(self) -> BarProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.update(self._task, current="")
        self._progress.stop()

    def started(self, organization_name: str) -> None:
        self._progress.update(self._task, current=organization_name)

    def finished(self, outcome: FileOutcome) -> None:
        self._progress.advance(self._task)

    @property
    def progress(self) -> Progress:
        """The rich Progress (tests render its table)."""
        return self._progress


class LineProgress:
    """One plain line per finished report: where a terminal bar would be noise."""

    def __init__(
        self, console: Console, total: int, *, get_time: Callable[[], float] = time.monotonic
    ) -> None:
        self._console = console
        self._total = total
        self._done = 0
        self._get_time = get_time
        self._start = get_time()
        self._lock = threading.Lock()

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def started(self, organization_name: str) -> None:
        return None

    def finished(self, outcome: FileOutcome) -> None:
        with self._lock:
            self._done += 1
            elapsed = self._get_time() - self._start
            left = remaining_seconds(elapsed, self._done, self._total)
            reason = f" ({outcome.reason})" if outcome.reason else ""
            line = Text(
                f"{self._done}/{self._total} {outcome.result.value}: "
                f"{outcome.organization_name}{reason}; "
                f"elapsed {clock_text(elapsed)}, ETA {clock_text(left)}"
            )
            self._console.print(line, soft_wrap=True, highlight=False)


def report_progress(console: Console, total: int) -> ReportProgress:
    """A bar on a terminal, lines otherwise (CI, pipes, files)."""
    if console.is_terminal and not console.is_dumb_terminal:
        return BarProgress(console, total)
    return LineProgress(console, total)
