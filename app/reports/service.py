"""The report use case: a stored assessment's report, from the cache or rendered once.

Every door asks for a report here: the API's ``report.pdf`` and the web door
(``report_pdf``), the embedded runner and the procrastinate workers (``get_or_render``
with transactions of their own), `smm report --all` (the same), and the offline
`smm report` (``render_report``, with no database). They differ only in two strategies:

- the **renderer** turns HTML into a PDF: ``InProcessRenderer`` (the offline CLI, which
  renders one document the user gave it), ``SandboxedRenderer`` (a child process per
  render with time and memory limits: the API, the embedded runner, `smm report --all`),
  ``PooledRenderer`` (a worker's long-lived render processes);
- the **transactions** say where the reading and the writing happen and who commits:
  ``OwnTransactions`` for a runner (each step commits on its own, the runner owns the
  unit of work), ``RequestTransaction`` for a request (nothing here commits; the
  request's session dependency does, once it has finished).

Rendering is slow and must not hold a database transaction: the inputs are read and the
cache looked up first, the PDF is rendered outside any transaction, and the result is
then stored. A concurrent render of the same report keeps the first row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import transaction
from app.errors import RenderError
from app.intake.models import Assessment
from app.observability.metrics import RENDER_SECONDS
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.cache import cached_report, store_report
from app.reports.inputs import PlanRequest, ReportInputs, cache_key, gather_inputs, report_html
from app.reports.sandbox import RenderFailed, RenderPool, run_isolated


class Renderer(Protocol):
    """Turns a report's HTML into its PDF; RenderFailed when it cannot."""

    def pdf(self, html: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class InProcessRenderer:
    """Renders in this process, without limits: for the offline CLI's own documents."""

    def pdf(self, html: str) -> bytes:
        from app.reports.render import render_pdf

        return render_pdf(html)


@dataclass(frozen=True, slots=True)
class SandboxedRenderer:
    """Renders each document in a child process of its own, with a time and memory limit."""

    timeout: float
    memory_bytes: int
    niceness: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxedRenderer:
        return cls(
            settings.render_timeout_seconds,
            settings.render_memory_mb * 2**20,
            settings.render_niceness,
        )

    def pdf(self, html: str) -> bytes:
        from app.reports.render import render_pdf

        return run_isolated(
            render_pdf,
            html,
            timeout=self.timeout,
            memory_bytes=self.memory_bytes,
            niceness=self.niceness,
        )


@dataclass(frozen=True, slots=True)
class PooledRenderer:
    """Renders in one of a worker's long-lived render processes, with the same limits.

    ``function`` is what the child runs on the HTML (WeasyPrint's ``render_pdf``; a
    test's stand-in must be importable by name, so the child can unpickle it).
    """

    pool: RenderPool
    timeout: float
    function: Callable[[str], bytes]

    def pdf(self, html: str) -> bytes:
        with self.pool.borrow() as process:
            return process.run(self.function, html, timeout=self.timeout)


@dataclass(frozen=True, slots=True)
class ReportOrder:
    """A report asked for: its inputs, the options, and the cache key they come to."""

    assessment: Assessment
    inputs: ReportInputs
    request: PlanRequest
    key: str


@dataclass(frozen=True, slots=True)
class Report:
    """A report's PDF, and whether it was rendered now (and in how many ms) or cached."""

    pdf: bytes
    rendered: bool
    render_ms: int = 0


def order_report(
    session: Session, registry: QuestionnaireRegistry, assessment: Assessment, request: PlanRequest
) -> ReportOrder:
    """The inputs and cache key of an assessment's report (Conflict for a draft, NotFound
    without a catalogue)."""
    inputs = gather_inputs(session, registry, assessment)
    return ReportOrder(assessment, inputs, request, cache_key(inputs, request))


def render_report(inputs: ReportInputs, request: PlanRequest, renderer: Renderer) -> Report:
    """Score, plan, view model, HTML, then the PDF from ``renderer``; timed for the cache
    row and the render histogram. InvalidRequest for bad options, RenderFailed."""
    started = time.perf_counter()
    pdf = renderer.pdf(report_html(inputs, request))
    elapsed = time.perf_counter() - started
    RENDER_SECONDS.observe(elapsed)
    return Report(pdf, rendered=True, render_ms=round(elapsed * 1000))


class ReportTransactions(Protocol):
    """Where ``get_or_render`` reads and writes, and who commits."""

    def read(self) -> AbstractContextManager[Session]:
        """The session the inputs are read and the cache looked up in."""
        ...

    def before_render(self) -> None:
        """Runs once the reading is over and a render follows, outside ``read``."""
        ...

    def write(self) -> AbstractContextManager[Session]:
        """The session the rendered PDF is stored in."""
        ...


@dataclass(frozen=True, slots=True)
class OwnTransactions:
    """A runner's: the reading and the writing are each a transaction of their own,
    committed when the step succeeds (rolled back when it raises). A worker job, the
    embedded runner and `smm report --all` are their own unit of work."""

    factory: sessionmaker[Session]

    def read(self) -> AbstractContextManager[Session]:
        return transaction(self.factory)

    def before_render(self) -> None:
        return None  # the read transaction has been committed already

    def write(self) -> AbstractContextManager[Session]:
        return transaction(self.factory)


@dataclass(frozen=True, slots=True)
class RequestTransaction:
    """A request's: everything goes through the request's session, and this commits
    nothing but the end of the read before a render (below). The cache row is written
    in the request's transaction, which the request's session dependency commits once
    the operation has returned.

    Before a render (seconds; up to the render time limit), the read transaction is
    ended with a commit of what the request has read so far. A render must not hold a
    transaction open: on SQLite the request's transaction holds the service's one pooled
    connection and, begun IMMEDIATE, the database's write lock, which the embedded
    runner's threads need meanwhile to claim and store jobs; on PostgreSQL it would hold
    a pooled connection and an old snapshot. The request has written nothing by then (a
    GET; the key's use and the audit event are written by the request's unit of work when
    the response starts), so the commit only ends the read; the request's own commit then
    covers the cache row, the key's use and the audit event together.
    """

    session: Session

    @contextmanager
    def _same(self) -> Iterator[Session]:
        yield self.session

    def read(self) -> AbstractContextManager[Session]:
        return self._same()

    def before_render(self) -> None:
        self.session.commit()

    def write(self) -> AbstractContextManager[Session]:
        return self._same()


def get_or_render(
    transactions: ReportTransactions,
    registry: QuestionnaireRegistry,
    renderer: Renderer,
    load: Callable[[Session], tuple[Assessment, PlanRequest]],
    *,
    before_render: Callable[[], None] | None = None,
    on_read: Callable[[Session, ReportOrder, bool], None] | None = None,
    on_stored: Callable[[Session, ReportOrder], None] | None = None,
) -> Report:
    """The report ``load`` names, from the cache or rendered once and then cached.

    In ``transactions.read()``: ``load`` gives the assessment and the options, their
    inputs and cache key are worked out and the cache looked up; ``on_read`` then runs
    there with whether the report is cached (a job records its key, or finishes). On a
    miss, ``before_render`` runs (a rate limit may refuse it), then the renderer renders
    outside any transaction, and in ``transactions.write()`` the PDF is stored and
    ``on_stored`` runs. Raises what reading raises (AppError), InvalidRequest for options
    the planner refuses, and RenderFailed when the render does not produce a document.
    """
    with transactions.read() as session:
        assessment, request = load(session)
        order = order_report(session, registry, assessment, request)
        pdf = cached_report(session, order.key)
        if on_read is not None:
            on_read(session, order, pdf is not None)
        if pdf is not None:
            return Report(pdf, rendered=False)
        if before_render is not None:
            before_render()
    transactions.before_render()
    report = render_report(order.inputs, order.request, renderer)
    with transactions.write() as session:
        store_report(session, order.key, report.pdf, report.render_ms)
        if on_stored is not None:
            on_stored(session, order)
    return report


def report_pdf(
    session: Session,
    registry: QuestionnaireRegistry,
    assessment: Assessment,
    request: PlanRequest,
    settings: Settings,
    before_render: Callable[[], None] | None = None,
) -> bytes:
    """A request's report: from the cache, or rendered once in the sandbox and then cached.

    ``before_render`` runs on a cache miss, before rendering (a rate limit may refuse it).
    See ``RequestTransaction`` for what is committed when; a render that fails is a
    RenderError (500, ``render_failed``).
    """
    try:
        report = get_or_render(
            RequestTransaction(session),
            registry,
            SandboxedRenderer.from_settings(settings),
            lambda _: (assessment, request),
            before_render=before_render,
        )
    except RenderFailed as exc:
        raise RenderError(f"The report could not be rendered: {exc}") from exc
    return report.pdf
