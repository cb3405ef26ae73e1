"""Every organization's roadmap report into a directory, for `smm report --all`.

Each report goes through the same steps as the API's ``report.pdf`` without options:
gather the inputs, look the cache up, render in an isolated process, store, so a file
written here is byte for byte what the API serves, and a report rendered by either is
never rendered again. Renders run on a small thread pool; each render is its own process.
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import transaction
from app.delivery.service import (
    PlanRequest,
    cache_key,
    cached_report,
    gather_inputs,
    render_report,
    store_report,
)
from app.errors import AppError
from app.exports.service import LatestAssessment
from app.intake.models import Assessment
from app.jobs.isolation import RenderFailed
from app.questionnaire.registry import QuestionnaireRegistry

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


def write_report(
    factory: sessionmaker[Session],
    registry: QuestionnaireRegistry,
    settings: Settings,
    assessment_id: uuid.UUID,
    path: Path,
) -> Result:
    """Write one assessment's report to ``path``; RENDERED or CACHED. Raises AppError,
    RenderFailed or OSError, each with a reason fit for the summary."""
    request = PlanRequest()
    with transaction(factory) as session:
        assessment = session.get_one(Assessment, assessment_id)
        inputs = gather_inputs(session, registry, assessment)
        key = cache_key(inputs, request)
        pdf = cached_report(session, key)
    result = Result.CACHED
    if pdf is None:
        pdf, render_ms = render_report(inputs, request, settings)
        with transaction(factory) as session:
            store_report(session, key, pdf, render_ms)
        result = Result.RENDERED
    # A half-written file never takes the place of a good one from an earlier run.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(pdf)
    os.replace(partial, path)
    return result


def render_all(
    factory: sessionmaker[Session],
    registry: QuestionnaireRegistry,
    settings: Settings,
    selection: list[LatestAssessment],
    directory: Path,
    workers: int,
) -> Iterator[FileOutcome]:
    """Each organization's outcome: skipped ones first, then renders as they finish."""
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

    def write(item: LatestAssessment, assessment_id: uuid.UUID) -> FileOutcome:
        path = directory / report_file_name(item.organization_name, item.organization_id)
        try:
            result = write_report(factory, registry, settings, assessment_id, path)
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

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smm-report") as pool:
        futures = [pool.submit(write, item, assessment_id) for item, assessment_id in work]
        for future in as_completed(futures):
            yield future.result()
