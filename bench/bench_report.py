"""Milliseconds to render the PDF report, against WeasyPrint's plain-text floor, and to fetch it.

    .venv/bin/python bench/bench_report.py [--rounds 5] [--requests 200] [--no-http]

1. The standard report, in-process: examples/community-hospital.json for a 60-bed community
   hospital with the default plan options. `report_html(inputs, PlanRequest())` (score, plan,
   view model, Jinja2) and `render_pdf(html)` (WeasyPrint, PDF/UA-1, tagged) are timed
   separately in each round after one untimed warm-up render; the inputs are built as
   `smm report` builds them (app/cli.py, _offline_inputs). Pages are counted with pypdf.
   `render_pdf` pauses the garbage collector, so the collection a long-lived render
   process makes after each document is timed on its own row.
2. WeasyPrint's plain-text floor: an HTML document with no CSS but the page size, only
   paragraphs of lorem-ipsum text, no images or SVG, with as many paragraphs as fit in the
   report's page count (the largest number for which pypdf counts the same pages), rendered
   with `weasyprint.HTML(string=...).write_pdf()`. Goal: report / floor at most 2.0.
3. A cached fetch over HTTP: `smm serve` (one worker, 127.0.0.1, a free port, SQLite in a
   temporary directory, an admin key from `smm keys create`), one organization (60 beds),
   the example submitted; the first GET /v1/assessments/{id}/report.pdf renders the report,
   then N sequential GETs on one keep-alive httpx.Client read it from the cache. Goal: p50
   under 10 ms. GET /healthz and GET /v1/assessments/{id} are timed the same way, for
   contrast. Every response must be a 200 with the same PDF.

Wall-clock figures are what a caller waits; the CPU figures (this thread's for the
in-process renders, the server's and the client's for HTTP) are steadier on a shared
machine. The server, the database and the temporary directory are removed on any exit,
Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import gc
import io
import itertools
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import httpx
import pypdf
import weasyprint
from bench_submit import (
    Server,
    create_admin_key,
    create_organization,
    running_server,
    server_env,
    smm_command,
)
from benchlib import (
    ROOT,
    BenchError,
    against_goal,
    code_note,
    machine_note,
    percentile,
    print_table,
    process_cpu_seconds,
    request_body,
    run_benchmark,
)

from app.intake.schemas import AnswersFile
from app.intake.validation import check_answers
from app.questionnaire.loader import load_directory
from app.questionnaire.registry import QuestionnaireRegistry
from app.reports.inputs import PlanRequest, ReportInputs, report_html
from app.reports.render import (
    PDF_VARIANT,
    TEMPLATES_DIR,
    TemplateAssetFetcher,
    collector_paused,
    render_pdf,
    report_stylesheet,
)
from app.reports.view import OrganizationInfo

EXAMPLE = "community-hospital"
LICENSED_BEDS = 60  # as bench_submit.create_organization files it
FLOOR_RATIO_GOAL = 2.0
CACHED_P50_GOAL_MS = 10.0
FLOOR_MAX_TRIALS = 24  # page-count probes while tuning the floor document
REQUEST_TIMEOUT_S = 120.0  # the first GET renders the report
SECOND_PLAN = {"target": "security=4"}  # another cache key, for a second uncached render

T = TypeVar("T")

_TEXT = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat"
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed step: wall-clock and this thread's CPU milliseconds."""

    wall_ms: float
    cpu_ms: float


def timed(call: Callable[[], T]) -> tuple[T, Sample]:
    """``call()``, and how long it took."""
    wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
    result = call()
    return result, Sample(
        (time.perf_counter_ns() - wall) / 1e6, (time.thread_time_ns() - cpu) / 1e6
    )


def page_count(pdf: bytes) -> int:
    """Pages in a PDF, as pypdf counts them."""
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def median_wall(samples: list[Sample]) -> float:
    return statistics.median(s.wall_ms for s in samples)


def median_cpu(samples: list[Sample]) -> float:
    return statistics.median(s.cpu_ms for s in samples)


def spread(samples: list[Sample]) -> str:
    walls = [s.wall_ms for s in samples]
    return f"{min(walls):.0f}-{max(walls):.0f}"


# -- 1. the standard report, in-process ---------------------------------------------------


def standard_inputs() -> ReportInputs:
    """The report's inputs for the example, built as `smm report` builds them."""
    registry = QuestionnaireRegistry.of(load_directory(ROOT / "questionnaires"))
    document = AnswersFile.model_validate_json((ROOT / "examples" / f"{EXAMPLE}.json").read_bytes())
    loaded = registry.get(document.questionnaire.id, document.questionnaire.version)
    if loaded.catalogue is None or loaded.catalogue_hash is None:
        raise BenchError(f"no action catalogue beside {loaded.source}")
    answers = check_answers(
        loaded.definition, document.answers, submitting=document.status == "submitted"
    )
    return ReportInputs(
        definition=loaded.definition,
        definition_hash=loaded.content_hash,
        catalogue=loaded.catalogue,
        catalogue_hash=loaded.catalogue_hash,
        answers={qid: a.value for qid, a in answers.items()},
        comments={qid: a.comment for qid, a in answers.items() if a.comment},
        organization=OrganizationInfo(
            name="Bench Hospital",
            type="community_hospital",
            licensed_beds=LICENSED_BEDS,
            state="MN",
        ),
        assessed_on=date.today(),  # what the service shows for an assessment submitted today
    )


@dataclass(frozen=True, slots=True)
class ReportRun:
    html: list[Sample]
    pdf: list[Sample]
    collection: list[Sample]
    total: list[Sample]
    pages: int
    pdf_bytes: int
    html_chars: int


def measure_report(inputs: ReportInputs, rounds: int) -> ReportRun:
    """One untimed warm-up render, then ``rounds`` timed ones (HTML and PDF apart).

    ``render_pdf`` pauses the garbage collector; each round then times the collection a
    long-lived render process makes after sending the PDF (``app.reports.sandbox``).
    """
    html = report_html(inputs, PlanRequest())
    pdf = render_pdf(html)
    gc.collect()
    html_samples, pdf_samples, collections, totals = [], [], [], []
    for _ in range(rounds):
        html, html_sample = timed(lambda: report_html(inputs, PlanRequest()))
        pdf, pdf_sample = timed(lambda: render_pdf(html))  # noqa: B023 - called at once
        collections.append(timed(gc.collect)[1])
        html_samples.append(html_sample)
        pdf_samples.append(pdf_sample)
        totals.append(
            Sample(html_sample.wall_ms + pdf_sample.wall_ms, html_sample.cpu_ms + pdf_sample.cpu_ms)
        )
    return ReportRun(
        html_samples, pdf_samples, collections, totals, page_count(pdf), len(pdf), len(html)
    )


# -- 2. the plain-text floor ------------------------------------------------------------


def floor_document(paragraphs: int) -> str:
    """Plain paragraphs of lorem-ipsum text; no CSS but the page size, no images."""
    vocabulary = _TEXT.split()
    words = [vocabulary[i % len(vocabulary)] for i in range(120)]
    paragraph = " ".join(words).capitalize() + "."
    body = "\n".join(f"<p>{paragraph}</p>" for _ in range(paragraphs))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Floor</title>'
        f"<style>@page {{ size: Letter; }}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def floor_pages(paragraphs: int) -> int:
    return page_count(weasyprint.HTML(string=floor_document(paragraphs)).write_pdf())


def tune_floor(pages: int) -> int:
    """The largest paragraph count whose document pypdf counts as ``pages`` pages.

    Page count never falls as paragraphs are added, so: estimate from one probe, bracket,
    then bisect. Bounded by FLOOR_MAX_TRIALS renders.
    """
    seen: dict[int, int] = {}

    def probe(paragraphs: int) -> int:
        if paragraphs not in seen:
            if len(seen) >= FLOOR_MAX_TRIALS:
                raise BenchError(f"could not fit the floor to {pages} pages in {len(seen)} renders")
            seen[paragraphs] = floor_pages(paragraphs)
        return seen[paragraphs]

    first = 16
    estimate = max(1, round(first * pages / probe(first)))
    low, high = estimate, estimate  # invariant sought: pages(low) <= pages < pages(high)
    while low > 1 and probe(low) > pages:
        low = max(1, low // 2)
    while probe(high) <= pages:
        low, high = high, high + max(1, high // 4)
    while high - low > 1:
        middle = (low + high) // 2
        if probe(middle) <= pages:
            low = middle
        else:
            high = middle
    if probe(low) != pages:
        raise BenchError(f"no paragraph count gives exactly {pages} pages")
    return low


@dataclass(frozen=True, slots=True)
class FloorRun:
    paragraphs: int
    pages: int
    text_chars: int
    samples: list[Sample]


def measure_floor(pages: int, rounds: int) -> FloorRun:
    paragraphs = tune_floor(pages)
    html = floor_document(paragraphs)
    pdf = weasyprint.HTML(string=html).write_pdf()  # warm-up, and the page count it gives
    samples = [timed(lambda: weasyprint.HTML(string=html).write_pdf())[1] for _ in range(rounds)]
    paragraph_chars = len(html.split("<p>", 2)[1].split("</p>", 1)[0])
    return FloorRun(paragraphs, page_count(pdf), paragraphs * paragraph_chars, samples)


def _render_row(label: str, samples: list[Sample], pages: int) -> list[str]:
    """A row of the render table: median, spread, CPU median and ms per page."""
    return [
        label,
        f"{median_wall(samples):.0f}",
        spread(samples),
        f"{median_cpu(samples):.0f}",
        f"{median_wall(samples) / pages:.1f}",
    ]


def print_render(report: ReportRun, floor: FloorRun, rounds: int) -> None:
    pages = report.pages
    rows = [
        _render_row("report: HTML (score, plan, view, Jinja2)", report.html, pages),
        _render_row("report: PDF (render_pdf, WeasyPrint)", report.pdf, pages),
        _render_row("report: garbage collection after it", report.collection, pages),
        _render_row("report: total (HTML + PDF)", report.total, pages),
        _render_row(f"floor: {floor.paragraphs} plain paragraphs", floor.samples, floor.pages),
    ]
    print(
        f"report: {pages} pages, {report.pdf_bytes // 1024} KiB PDF, "
        f"{report.html_chars:,} characters of HTML"
    )
    print(
        f"floor:  {floor.pages} pages, {floor.paragraphs} paragraphs, "
        f"{floor.text_chars:,} characters of text\n"
    )
    print_table(
        [f"render ({rounds} rounds)", "median ms", "min-max ms", "CPU median ms", "ms/page"], rows
    )
    share = median_wall(report.pdf) / median_wall(report.total)
    print(f"\nsplit: HTML {1 - share:.0%}, PDF {share:.0%} of the report's total (wall clock)")
    for label, mine in (("total", report.total), ("PDF only", report.pdf)):
        wall = median_wall(mine) / median_wall(floor.samples)
        cpu = median_cpu(mine) / median_cpu(floor.samples)
        print(
            f"report {label} / floor: {wall:.2f} (CPU {cpu:.2f}); goal <= {FLOOR_RATIO_GOAL}: "
            + against_goal(wall, FLOOR_RATIO_GOAL)
        )


# -- where the render's time goes, phase by phase ------------------------------------------

PHASES = ("HTML parse", "CSS cascade", "box building", "layout", "painting + PDF")


def render_phases(html: str, *, report: bool) -> tuple[list[float], int]:
    """This thread's CPU ms for each of WeasyPrint's steps (PHASES), and the page count.

    The steps ``HTML.write_pdf`` takes, called one by one (WeasyPrint 70's own functions,
    some private: a newer WeasyPrint may need this changed). ``report`` renders as
    ``render_pdf`` does (asset fetcher, tagged PDF/UA-1); otherwise as the floor is
    rendered (``HTML(string=...).write_pdf()``). The report's steps run with the garbage
    collector paused, as ``render_pdf`` runs them.
    """
    with collector_paused() if report else nullcontext():
        return _phases(html, report=report)


def _phases(html: str, *, report: bool) -> tuple[list[float], int]:
    from weasyprint import DEFAULT_OPTIONS
    from weasyprint.css.counters import CounterStyle
    from weasyprint.document import Document, DocumentMetadata, Page
    from weasyprint.formatting_structure.build import build_formatting_structure
    from weasyprint.html import get_html_metadata
    from weasyprint.layout import layout_document
    from weasyprint.pdf import VARIANTS
    from weasyprint.text.fonts import FontConfiguration

    pdf_options = {"pdf_variant": PDF_VARIANT, "pdf_tags": True} if report else {}
    marks = [time.thread_time_ns()]
    if report:
        document = weasyprint.HTML(
            string=html,
            base_url=TEMPLATES_DIR.resolve().as_uri() + "/",
            url_fetcher=TemplateAssetFetcher(),
        )
    else:
        document = weasyprint.HTML(string=html)
    marks.append(time.thread_time_ns())
    options = {**DEFAULT_OPTIONS, **pdf_options}
    if report:
        options["stylesheets"] = [report_stylesheet()]  # as render_pdf gives it
    if variant := options["pdf_variant"]:
        for key, value in VARIANTS[variant][1].items():
            if options.get(key) is None:
                options[key] = value
    fonts, counters = FontConfiguration(), CounterStyle()
    context = Document._build_layout_context(document, fonts, counters, {}, options)
    marks.append(time.thread_time_ns())
    root = build_formatting_structure(
        document.etree_element,
        context.style_for,
        context.get_image_from_uri,
        document.base_url,
        context.target_collector,
        counters,
        context.footnotes,
    )
    marks.append(time.thread_time_ns())
    pages = list(layout_document(document, root, context))
    marks.append(time.thread_time_ns())
    rendering = Document(
        [Page(page) for page in pages],
        DocumentMetadata(**get_html_metadata(document)),
        document.url_fetcher,
        fonts,
        {},
        options["output_intent"],
    )
    rendering._html = document
    rendering.write_pdf(**pdf_options)
    marks.append(time.thread_time_ns())
    return [(b - a) / 1e6 for a, b in itertools.pairwise(marks)], len(pages)


def print_phases(html: str, floor: FloorRun, rounds: int) -> None:
    """The report's and the floor's steps side by side: best of ``rounds`` CPU ms each."""
    floor_html = floor_document(floor.paragraphs)
    mine = []
    for _ in range(rounds):
        mine.append(render_phases(html, report=True))
        gc.collect()
    theirs = [render_phases(floor_html, report=False) for _ in range(rounds)]
    pages, floor_pages_ = mine[0][1], theirs[0][1]
    rows = []
    for n, name in enumerate([*PHASES, "total"]):
        if n < len(PHASES):
            a = min(run[0][n] for run in mine)
            b = min(run[0][n] for run in theirs)
        else:
            a = min(sum(run[0]) for run in mine)
            b = min(sum(run[0]) for run in theirs)
        rows.append(
            [
                name,
                f"{a:.0f}",
                f"{a / pages:.1f}",
                f"{b:.0f}",
                f"{b / floor_pages_:.1f}",
                f"{a / b:.2f}" if b >= 1 else "-",
            ]
        )
    print(f"\nwhere the render's time goes (CPU ms, best of {rounds}; {machine_note()})")
    print_table(["step", "report ms", "ms/page", "floor ms", "ms/page", "report/floor"], rows)


# -- 3. the cached fetch over HTTP -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchRun:
    name: str
    latencies_ms: list[float]
    server_cpu_ms: float  # per request
    client_cpu_ms: float  # per request


@dataclass(frozen=True, slots=True)
class Uncached:
    name: str
    sample: Sample
    pages: int


def submit_example(base_url: str, key: str, organization_id: str) -> str:
    """POST the example (status submitted); the new assessment's id."""
    response = httpx.post(
        f"{base_url}/v1/assessments",
        content=request_body(EXAMPLE, uuid.UUID(organization_id)),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=30,
    )
    if response.status_code != 201 or response.json().get("status") != "submitted":
        raise BenchError(f"submitting {EXAMPLE}: {response.status_code} {response.text[:500]}")
    assessment_id: str = response.json()["id"]
    return assessment_id


def fetch_series(
    client: httpx.Client, server: Server, name: str, path: str, requests: int, warmup: int
) -> tuple[FetchRun, bytes]:
    """``warmup`` then ``requests`` sequential GETs of ``path``; all must be 200, same body."""
    first = client.get(path)
    if first.status_code != 200:
        raise BenchError(f"GET {path}: {first.status_code} {first.text[:500]}")
    for _ in range(warmup):
        client.get(path)
    latencies: list[float] = []
    mismatches = 0
    cpu_server, cpu_client = process_cpu_seconds(server.pid), time.thread_time()
    for _ in range(requests):
        start = time.perf_counter_ns()
        response = client.get(path)
        latencies.append((time.perf_counter_ns() - start) / 1e6)
        if response.status_code != 200 or (
            response.headers["content-type"] == "application/pdf"
            and response.content != first.content
        ):
            mismatches += 1
    server_cpu = process_cpu_seconds(server.pid) - cpu_server
    client_cpu = time.thread_time() - cpu_client
    if mismatches:
        raise BenchError(f"GET {path}: {mismatches} of {requests} responses differed or failed")
    run = FetchRun(name, latencies, server_cpu * 1000 / requests, client_cpu * 1000 / requests)
    return run, first.content


def measure_http(
    args: argparse.Namespace, stack: ExitStack
) -> tuple[list[Uncached], list[FetchRun]]:
    """Start the service, render once, then time the cached fetches (and the contrasts)."""
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smm-bench-report-")))
    env = server_env(f"sqlite:///{tmp / 'bench.db'}", args.log_level)
    key = create_admin_key(env)
    server = stack.enter_context(
        running_server("service", smm_command("serve"), env, tmp / "smm.log", pin=False)
    )
    organization_id = create_organization(server.base_url, key)
    assessment_id = submit_example(server.base_url, key, organization_id)
    report_path = f"/v1/assessments/{assessment_id}/report.pdf"
    client = stack.enter_context(
        httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=REQUEST_TIMEOUT_S,
        )
    )
    first, uncached = timed(lambda: client.get(report_path))
    # Another plan is another cache key: a second render, with the render process pool warm.
    second, uncached_again = timed(lambda: client.get(report_path, params=SECOND_PLAN))
    for response in (first, second):
        if response.status_code != 200 or response.headers.get("content-type") != "application/pdf":
            raise BenchError(f"GET {report_path}: {response.status_code} {response.text[:500]}")
    runs = []
    for name, path in (
        ("GET report.pdf (cached)", report_path),
        ("GET /v1/assessments/{id} (JSON)", f"/v1/assessments/{assessment_id}"),
        ("GET /healthz", "/healthz"),
    ):
        run, body = fetch_series(client, server, name, path, args.requests, args.warmup)
        if path == report_path and body != first.content:
            raise BenchError("the cached PDF differs from the one the first GET rendered")
        runs.append(run)
    uncached_runs = [
        Uncached("first GET report.pdf (renders)", uncached, page_count(first.content)),
        Uncached(
            "second GET, another plan ("
            + ", ".join(f"{k}={v}" for k, v in SECOND_PLAN.items())
            + ", renders)",
            uncached_again,
            page_count(second.content),
        ),
    ]
    return uncached_runs, runs


def print_http(uncached: list[Uncached], runs: list[FetchRun], requests: int) -> None:
    for item in uncached:
        print(
            f"{item.name}: {item.sample.wall_ms:.0f} ms, {item.pages} pages "
            f"({item.sample.wall_ms / item.pages:.0f} ms/page)"
        )
    print()
    rows = [
        [
            run.name,
            f"{statistics.median(run.latencies_ms):.2f}",
            f"{percentile(run.latencies_ms, 0.95):.2f}",
            f"{max(run.latencies_ms):.1f}",
            f"{run.server_cpu_ms:.2f}",
            f"{run.client_cpu_ms:.2f}",
        ]
        for run in runs
    ]
    print_table(
        [
            f"{requests} sequential GETs, one keep-alive client",
            "p50 ms",
            "p95 ms",
            "max ms",
            "server CPU ms/req",
            "client CPU ms/req",
        ],
        rows,
    )
    cached = statistics.median(runs[0].latencies_ms)
    print(
        f"\ncached report.pdf p50: {cached:.2f} ms; goal < {CACHED_P50_GOAL_MS:g} ms: "
        + against_goal(cached, CACHED_P50_GOAL_MS)
        + f"; the first, uncached GET took {uncached[0].sample.wall_ms / cached:.0f}x as long"
    )


# -- main -----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed renders of each document")
    parser.add_argument("--requests", type=int, default=200, help="timed GETs of each URL")
    parser.add_argument("--warmup", type=int, default=20, help="untimed GETs of each URL first")
    parser.add_argument("--log-level", default="info", help="the service's log level")
    parser.add_argument("--no-http", action="store_true", help="skip the cached-fetch part")
    parser.add_argument(
        "--phases",
        action="store_true",
        help="also time WeasyPrint's steps one by one, for the report and the floor",
    )
    return parser.parse_args()


def benchmark(args: argparse.Namespace, stack: ExitStack) -> None:
    print(f"bench_report: {machine_note()}")
    print(f"code: {code_note()}, WeasyPrint {weasyprint.__version__}")
    print(f"{EXAMPLE}, {LICENSED_BEDS} licensed beds, default plan options\n")
    report = measure_report(standard_inputs(), args.rounds)
    floor = measure_floor(report.pages, args.rounds)
    print_render(report, floor, args.rounds)
    if args.phases:
        print_phases(report_html(standard_inputs(), PlanRequest()), floor, args.rounds)
    if args.no_http:
        return
    print(f"\nover HTTP: {machine_note()}")
    uncached, runs = measure_http(args, stack)
    print_http(uncached, runs, args.requests)
    print(f"\nend: {machine_note()}")


def main() -> int:
    args = parse_args()
    return run_benchmark("bench_report", lambda stack: benchmark(args, stack))


if __name__ == "__main__":
    sys.exit(main())
