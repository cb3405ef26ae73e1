"""Every organization's roadmap report into a directory, for `smm report --all`.

Each report goes through the same use case as the API's ``report.pdf`` without options
(``app.reports.service.get_or_render``, sandboxed, each step its own transaction), so a
file written here is byte for byte what the API serves, and a report rendered by either
is never rendered again. ``workers`` reports are rendered at once (the CPUs by default,
``SMM_RENDER_WORKERS``): each thread of a pool renders in a render process of its own,
long-lived and limited in time and memory (``app.reports.sandbox.RenderPool``). Stopping
the run (Ctrl-C) kills the render processes at once and writes nothing more; a file is
written under a temporary name and renamed, so none is ever half-written.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
import uuid
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.errors import AppError
from app.exports.service import LatestAssessment
from app.intake.models import Assessment
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.inputs import PlanRequest
from app.reports.render import render_pdf
from app.reports.sandbox import RenderCancelled, RenderFailed, RenderPool
from app.reports.service import OwnTransactions, PooledRenderer, Renderer, get_or_render

NAME_LENGTH = 60


class Result(StrEnum):
    RENDERED = "rendered"
    CACHED = "from cache"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one organization's report."""

    organization_id: uuid.UUID
    organization_name: str
    result: Result
    file: Path | None = None
    reason: str | None = None


def report_file_name(organization_name: str, organization_id: uuid.UUID) -> str:
    """A file name that is safe on every file system and stable across runs: a slug of
    the name (ASCII letters, digits, hyphens) and the id, which keeps names unique."""
    ascii_name = unicodedata.normalize("NFKD", organization_name).encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.decode().lower()).strip("-")
    slug = slug[:NAME_LENGTH].rstrip("-") or "organization"
    return f"{slug}-{organization_id}.pdf"


class Stopped(Exception):
    """The run was stopped before this report was written."""


def write_report(
    factory: sessionmaker[Session],
    registry: QuestionnaireRegistry,
    renderer: Renderer,
    assessment_id: uuid.UUID,
    path: Path,
) -> Result:
    """Write one assessment's report to ``path``; RENDERED or CACHED. Raises AppError,
    RenderFailed or OSError, each with a reason fit for the summary."""
    report = get_or_render(
        OwnTransactions(factory),
        registry,
        renderer,
        lambda session: (session.get_one(Assessment, assessment_id), PlanRequest()),
    )
    # A half-written file never takes the place of a good one from an earlier run.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(report.pdf)
    os.replace(partial, path)
    return Result.RENDERED if report.rendered else Result.CACHED


def render_all(
    factory: sessionmaker[Session],
    registry: QuestionnaireRegistry,
    settings: Settings,
    selection: list[LatestAssessment],
    directory: Path,
    workers: int,
    *,
    started: Callable[[LatestAssessment], None] | None = None,
) -> Generator[FileOutcome, None, None]:
    """Each organization's outcome: skipped ones first, then renders as they finish.

    ``started`` is called (from a pool thread) as each report's turn comes. When the
    caller stops iterating (KeyboardInterrupt, or closing the generator), queued reports
    are dropped, renders in progress are killed, and this returns once every thread is
    done: nothing is written after that.
    """
    work: list[tuple[LatestAssessment, uuid.UUID]] = []
    for item in selection:
        if item.assessment_id is None:
            yield FileOutcome(
                item.organization_id,
                item.organization_name,
                Result.SKIPPED,
                reason="no submitted assessment",
            )
        else:
            work.append((item, item.assessment_id))

    pool = RenderPool.from_settings(workers, settings)
    # render_pdf is looked up here, not bound at import, so a test can stand in for it.
    renderer = PooledRenderer(pool, settings.render_timeout_seconds, render_pdf)
    stopping = threading.Event()

    def write(item: LatestAssessment, assessment_id: uuid.UUID) -> FileOutcome:
        if stopping.is_set():
            raise Stopped
        if started is not None:
            started(item)
        path = directory / report_file_name(item.organization_name, item.organization_id)
        try:
            result = write_report(factory, registry, renderer, assessment_id, path)
        except RenderCancelled as exc:
            raise Stopped from exc
        except AppError as exc:
            reason = exc.detail
        except RenderFailed as exc:
            reason = str(exc)
        except OSError as exc:
            reason = f"cannot write the file: {exc.strerror or exc}"
        except Exception as exc:  # one organization's trouble must not stop the others
            reason = f"unexpected error: {type(exc).__name__}: {exc}"[:300]
        else:
            return FileOutcome(item.organization_id, item.organization_name, result, path)
        return FileOutcome(
            item.organization_id, item.organization_name, Result.FAILED, reason=reason
        )

    threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smm-report")
    try:
        futures = [threads.submit(write, item, assessment_id) for item, assessment_id in work]
        for future in as_completed(futures):
            yield future.result()
    finally:
        stopping.set()
        pool.stop()  # a no-op once every render is done; kills the ones still running
        threads.shutdown(wait=True, cancel_futures=True)
        pool.close()
