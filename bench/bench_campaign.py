"""A campaign morning on PostgreSQL: invited respondents on the web form, partners on the API.

    .venv/bin/python bench/bench_campaign.py --smoke
    .venv/bin/python bench/bench_campaign.py [--orgs 5000 --fraction 0.10 --minutes 10]

A throwaway database smm_bench_<random> is made on the PostgreSQL server of
``--database-url`` (loopback only) and dropped at the end. ``--orgs`` organizations are
seeded through the service layer in this process (the same validation as the API), with an
invitation for ``--fraction`` of them and a partner key for each of ``--partners`` systems;
the seeding is timed on its own. Then `smm serve --workers N` and ``--workers`` `smm worker`
processes (procrastinate on PostgreSQL) are started on 127.0.0.1.

Baseline: a few respondents, one after the other with no think time, and one batch of each
partner, on the otherwise idle service: each route's latency with a single client.

The burst: the respondents arrive as a Poisson process that puts every start in the first
70 % of the window (``--minutes``). Each is an httpx client of its own with its cookies,
driving the form as a browser without JavaScript would: it GETs each page, parses its
<form> (stdlib html.parser), posts the fields the form carries (the CSRF token, the checked
choices, the pressed button) with the answers of an example in examples/ (choices varied per
respondent), follows every 303, and thinks a few seconds (``--think-scale``) before each
post. After submitting, it opens the results page and fetches its PDF: at once, when the page
has no ``#report-status`` (the PDF renders on demand), or after reloading the page as its
``<noscript>`` refresh says (every 3 s; every second for a page without one) until
``data-state`` is ``ready``. Meanwhile each partner posts a batch of ``--batch-size``
submitted assessments every ``--batch-every`` seconds, then follows each one's report job
(the job a submit queued, found by the response's ``Link: rel="report"`` or by listing
``GET /v1/reports``, or else one it queues itself), asking again when the job's
``Retry-After`` says (every ``--partner-poll`` seconds for a reply without one) until it is
done, and downloads the PDF. Each of the ``--workers`` `smm worker` processes
renders ``--worker-concurrency`` reports at once: by default the CPUs shared out among
them, so that the workers together render one report per core.

Printed: per route template, the baseline and burst p50/p95/p99 and counts; every error
(a status the flow did not expect, a timeout, an exception) with the request and the
response; each submit's time until its PDF was in hand; the load average before, during
and after; CPU seconds of the servers, the workers and this load generator; the goals.

Bounded: the burst stops at the window plus ``--grace``; ``--max-requests`` caps the
requests; every HTTP call has a timeout. Servers, workers and the database are removed on
any exit, Ctrl-C and SIGTERM included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import bench_submit
import httpx
from bench_submit import (
    create_admin_key,
    running_server,
    server_env,
    smm_command,
    stop,
    tail,
    throwaway_postgres,
)
from benchlib import (
    ROOT,
    BenchError,
    code_note,
    is_loopback_url,
    latency_summary,
    machine_busy_seconds,
    machine_note,
    print_table,
    process_tree_cpu_seconds_with_reaped,
    run_benchmark,
)

sys.path.insert(0, str(ROOT))
# Two API processes starting on a busy 2-core machine can take more than bench_submit's minute.
bench_submit.READY_TIMEOUT_S = 240.0

ROUTE_GOAL_MS = 300.0
READY_GOAL_S = 60.0
ARRIVAL_SHARE = 0.7  # every respondent starts in the first 70 % of the window
BASELINE_LIMIT_S = 300.0  # a baseline respondent or batch, PDFs included
POLL_S = 1.0  # a results page without a refresh of its own is reloaded this often
REFRESH = re.compile(r"^\s*(\d+(?:\.\d+)?)")
STATES = ("AK", "AZ", "CA", "CO", "IA", "MN", "MT", "ND", "NM", "NY", "OR", "TX", "WA", "WI")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# The segment after these names a thing: shown as its placeholder in a route template.
PLACEHOLDERS = {
    "i": "{token}",
    "section": "{dimension_id}",
    "organizations": "{organization_id}",
    "assessments": "{assessment_id}",
    "invitations": "{invitation_id}",
    "reports": "{job_id}",
}
FREE_SEGMENTS = {"i", "section"}  # their next segment is an id whatever it looks like
FALLBACK_TEXT = "Handled by our communications team."
FALLBACK_NUMBER = "3"


# -- helpers that do not touch the network ---------------------------------------------


def route_template(method: str, url: str) -> str:
    """``POST /form/section/{dimension_id}`` for ``POST /form/section/presence?x=1``."""
    path = urlsplit(url).path or "/"
    segments = path.split("/")
    for index in range(1, len(segments)):
        parent = segments[index - 1]
        if parent in PLACEHOLDERS and (parent in FREE_SEGMENTS or UUID.match(segments[index])):
            segments[index] = PLACEHOLDERS[parent]
    return f"{method.upper()} {'/'.join(segments)}"


def report_links(header: str | None) -> list[str]:
    """The targets of ``rel="report"`` entries of a Link header."""
    links = []
    for entry in (header or "").split(","):
        match = re.match(r"\s*<([^>]+)>\s*;(.*)$", entry)
        if match and re.search(r'rel\s*=\s*"?report"?(\s|;|$)', match.group(2)):
            links.append(match.group(1))
    return links


@dataclass
class Form:
    """One <form>: where it posts, the values a browser would send, and what it offers."""

    action: str
    method: str
    values: dict[str, list[str]] = field(default_factory=dict)  # sent as they stand
    kinds: dict[str, str] = field(default_factory=dict)  # name: radio, checkbox, text, ...
    offered: dict[str, list[str]] = field(default_factory=dict)  # radio and checkbox values
    hidden: set[str] = field(default_factory=set)  # fields inside a `hidden` element
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class PageParser(HTMLParser):
    """The forms of a page, and the state of its ``#report-status`` element, if any."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.report_state: str | None = None
        self.refresh_seconds: float | None = None  # a <meta http-equiv="refresh"> on the page
        self._form: Form | None = None
        self._stack: list[str] = []
        self._hidden_at: int | None = None  # depth of the innermost open `hidden` element
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if a.get("id") == "report-status":
            self.report_state = a.get("data-state", "")
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            found = REFRESH.match(a.get("content", ""))
            self.refresh_seconds = float(found[1]) if found else None
        if tag not in VOID:
            self._stack.append(tag)
            if "hidden" in a and self._hidden_at is None:
                self._hidden_at = len(self._stack)
        if tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is not None:
            self._field(tag, a)

    def _field(self, tag: str, a: dict[str, str]) -> None:
        form, name = self._form, a.get("name", "")
        assert form is not None
        if tag == "button" and a.get("type", "submit") == "submit":
            form.buttons.append((name, a.get("value", "")))
            return
        if not name or tag not in ("input", "textarea"):
            return
        kind = a.get("type", "text").lower() if tag == "input" else "textarea"
        if kind in ("submit", "image", "button", "reset", "file"):
            return
        form.kinds.setdefault(name, kind)
        if self._hidden_at is not None:
            form.hidden.add(name)
        if kind in ("radio", "checkbox"):
            value = a.get("value", "on")
            form.offered.setdefault(name, []).append(value)
            if "checked" in a:
                form.values.setdefault(name, []).append(value)
        elif kind == "textarea":
            self._textarea, self._text = name, []
        else:
            form.values[name] = [a.get("value", "")]

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.values[self._textarea] = ["".join(self._text).removeprefix("\n")]
            self._textarea = None
        if tag == "form":
            self._form = None
        if tag in self._stack:
            while self._stack:
                if self._stack.pop() == tag:
                    break
            if self._hidden_at is not None and len(self._stack) < self._hidden_at:
                self._hidden_at = None


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def form_posting_to(page: PageParser, action_prefix: str) -> Form:
    """The page's form whose action starts with ``action_prefix``."""
    for form in page.forms:
        if form.method == "post" and urlsplit(form.action).path.startswith(action_prefix):
            return form
    raise LookupError(f"no <form method=post action={action_prefix}...> on the page")


@dataclass(frozen=True, slots=True)
class Answer:
    value: Any
    na: bool = False
    comment: str | None = None


def answers_of(document: dict[str, Any]) -> dict[str, Answer]:
    """An example's answers by question id."""
    return {
        a["question_id"]: Answer(a.get("value"), bool(a.get("na")), a.get("comment"))
        for a in document["answers"]
    }


def _wanted(value: Any) -> list[str]:
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value is None else [str(value)]


def fill_section(
    form: Form, answers: dict[str, Answer], rng: random.Random, vary: float, action: str
) -> dict[str, list[str]]:
    """What a person posts on a section: the example's answers in the fields the form shows
    (a radio answer changed to another offered one with probability ``vary``), anything
    else it shows answered plainly, hidden fields as they stand, and the pressed button."""
    data = {name: list(values) for name, values in form.values.items()}
    for name, kind in form.kinds.items():
        if not name.startswith("q-") or name in form.hidden:
            continue
        qid = name[2:]
        if qid.endswith(("-na", "-comment")) and qid.rsplit("-", 1)[0] in answers:
            continue  # set with their question below
        offered = [v for v in form.offered.get(name, []) if v != "__na__"]
        answer = answers.get(qid)
        if answer is None:
            if qid.endswith(("-na", "-comment")) or data.get(name, [""]) != [""]:
                continue  # optional extras, or already answered
            if kind == "radio" and offered:
                data[name] = [rng.choice(offered)]
            elif kind == "checkbox" and offered:
                data[name] = [offered[0]]
            elif kind == "textarea":
                data[name] = [FALLBACK_TEXT]
            elif kind == "text":
                data[name] = [FALLBACK_NUMBER]
            continue
        na_name = f"{name}-na"
        if answer.na:
            if na_name in form.kinds:
                data[na_name] = ["__na__"]
                data.pop(name, None)
            elif "__na__" in form.offered.get(name, []):
                data[name] = ["__na__"]
        elif kind == "radio":
            wanted = _wanted(answer.value)
            if rng.random() < vary and offered:
                wanted = [rng.choice(offered)]
            data[name] = wanted if wanted and wanted[0] in offered else offered[:1]
        elif kind == "checkbox":
            data[name] = [v for v in _wanted(answer.value) if v in offered] or offered[:1]
        else:
            data[name] = _wanted(answer.value) or [""]
        comment_name = f"{name}-comment"
        if answer.comment and comment_name in form.kinds:
            data[comment_name] = [answer.comment]
    data["action"] = [action]
    return data


def fill_profile(form: Form, rng: random.Random) -> dict[str, list[str]]:
    """The profile as a person gives it: a type the form offers, beds, staff hours."""
    data = {name: list(values) for name, values in form.values.items()}
    types = form.offered.get("type", [])
    if types:
        data["type"] = [rng.choice(types)]
    data["licensed_beds"] = [str(rng.randint(12, 900))]
    if "staff_hours_per_month" in form.kinds:
        data["staff_hours_per_month"] = [rng.choice(["", "20", "40", "80", "160"])]
    data["action"] = ["next"]
    return data


def poisson_arrivals(count: int, span_s: float, rng: random.Random) -> list[float]:
    """Start times (seconds) of a Poisson process at the rate that puts ``count`` starts in
    ``span_s``; the few a random run would put later are moved to the end of the span."""
    rate = count / span_s
    times, now = [], 0.0
    for _ in range(count):
        now += rng.expovariate(rate)
        times.append(min(now, span_s))
    return times


# -- measurements ------------------------------------------------------------------------


@dataclass
class Failure:
    route: str
    request: str
    outcome: str  # status and a bit of the body, or the exception
    at_s: float


@dataclass
class Stats:
    """Latencies by route and phase; errors; PDF readiness."""

    origin: float
    max_requests: int
    latencies: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failures: dict[str, list[Failure]] = field(default_factory=lambda: defaultdict(list))
    ready: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    submitted: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    modes: Counter[str] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)  # GETs on a dropped keep-alive
    finished: Counter[str] = field(default_factory=Counter)
    requests: int = 0

    def fail(self, phase: str, route: str, request: str, outcome: str) -> None:
        at = time.monotonic() - self.origin
        self.failures[phase].append(Failure(route, request, outcome, at))


class FlowError(Exception):
    """A request went wrong; already counted as an error."""


class OutOfRequests(Exception):
    """--max-requests was reached."""


@dataclass
class Caller:
    """Sends one request, times it under its route template, and checks its status."""

    stats: Stats
    phase: str

    async def __call__(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        *,
        expect: Sequence[int],
        timeout: float,
        **kwargs: Any,
    ) -> httpx.Response:
        if self.stats.requests >= self.stats.max_requests:
            raise OutOfRequests
        self.stats.requests += 1
        route = route_template(method, url)
        request = f"{method} {url}"
        started = time.perf_counter()
        try:
            try:
                response = await client.request(method, url, timeout=timeout, **kwargs)
            except httpx.RemoteProtocolError:
                # The server closed an idle keep-alive connection as this GET went out on it:
                # a browser sends the GET again on a new connection, and so do we (counted).
                if method != "GET":
                    raise
                self.stats.retried[route] += 1
                started = time.perf_counter()
                response = await client.request(method, url, timeout=timeout, **kwargs)
        except httpx.TimeoutException as exc:
            self.stats.statuses[self.phase]["timeout"] += 1
            self.stats.fail(self.phase, route, request, f"timeout after {timeout:g} s ({exc!r})")
            raise FlowError from exc
        except httpx.HTTPError as exc:
            self.stats.statuses[self.phase][type(exc).__name__] += 1
            self.stats.fail(self.phase, route, request, repr(exc))
            raise FlowError from exc
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.stats.latencies[self.phase][route].append(elapsed_ms)
        self.stats.statuses[self.phase][str(response.status_code)] += 1
        if response.status_code not in expect:
            body = response.text[:300].replace("\n", " ")
            self.stats.fail(self.phase, route, request, f"{response.status_code}: {body}")
            raise FlowError
        return response


@dataclass(frozen=True)
class Timing:
    """Timeouts and think time."""

    page_timeout: float
    pdf_timeout: float
    think_scale: float
    partner_poll: float = 5.0
    think_min: float = 2.0
    think_max: float = 8.0

    def poll_wait(self, reply: httpx.Response | None) -> float:
        """Seconds until a partner asks about a job again: its ``Retry-After``, if it has one."""
        value = reply.headers.get("retry-after", "") if reply is not None else ""
        return float(value) if value.isdigit() else self.partner_poll

    async def think(self, rng: random.Random) -> None:
        if self.think_scale > 0:
            await asyncio.sleep(rng.uniform(self.think_min, self.think_max) * self.think_scale)


# -- the respondents ---------------------------------------------------------------------


@dataclass(frozen=True)
class Respondent:
    link: str  # /i/<token>
    answers: dict[str, Answer]
    seed: int


SHARED_TLS = ssl.create_default_context()  # plain http here; made once, not per client


async def respond(
    base_url: str,
    who: Respondent,
    call: Caller,
    timing: Timing,
    vary: float,
    deadline: float,
) -> None:
    """One person through the whole form, then the results and the PDF."""
    stats, rng = call.stats, random.Random(who.seed)
    page_s = timing.page_timeout
    async with httpx.AsyncClient(
        base_url=base_url, verify=SHARED_TLS, follow_redirects=False, trust_env=False
    ) as client:
        response = await call(client, "GET", who.link, expect=[303], timeout=page_s)
        location = response.headers["location"]
        response = await call(client, "GET", location, expect=[200], timeout=page_s)
        start = form_posting_to(parse_page(response.text), "/form/start")
        await timing.think(rng)
        response = await call(
            client, "POST", start.action, data=start.values, expect=[303], timeout=page_s
        )
        location = response.headers["location"]
        retries: Counter[str] = Counter()
        while not location.startswith("/form/results"):
            response = await call(client, "GET", location, expect=[200], timeout=page_s)
            page = parse_page(response.text)
            path = urlsplit(location).path
            await timing.think(rng)
            if path == "/form/profile":
                form = form_posting_to(page, "/form/profile")
                data = fill_profile(form, rng)
            elif path.startswith("/form/section/"):
                form = form_posting_to(page, path)
                retries[path] += 1
                # Asked again (follow-ups appeared, or required ones are unanswered): answer
                # what is shown; the third time, move on as the page offers.
                offers_skip = ("action", "skip") in form.buttons
                action = "skip" if retries[path] >= 3 and offers_skip else "next"
                if retries[path] > 4:
                    stats.fail(call.phase, route_template("GET", path), path, "stuck on page")
                    raise FlowError
                data = fill_section(form, who.answers, rng, vary, action)
            elif path == "/form/review":
                form = form_posting_to(page, "/form/submit")
                data = form.values
            else:
                stats.fail(call.phase, route_template("GET", path), path, "unexpected page")
                raise FlowError
            response = await call(
                client, "POST", form.action, data=data, expect=[303], timeout=page_s
            )
            location = response.headers["location"]
        submitted = time.monotonic()
        stats.submitted[call.phase]["web"] += 1
        await fetch_results_and_pdf(client, call, timing, submitted, deadline)
    stats.finished[call.phase] += 1


async def fetch_results_and_pdf(
    client: httpx.AsyncClient, call: Caller, timing: Timing, submitted: float, deadline: float
) -> None:
    """The results page, then the PDF: at once, or once the page says it is ready."""
    stats = call.stats
    response = await call(client, "GET", "/form/results", expect=[200], timeout=timing.page_timeout)
    page = parse_page(response.text)
    state = page.report_state
    mode = "web: PDF on demand (no #report-status)" if state is None else "web: #report-status"
    stats.modes[mode] += 1
    while state is not None and state != "ready":
        if state == "failed":
            stats.fail(call.phase, "GET /form/results", "GET /form/results", "report failed")
            raise FlowError
        if time.monotonic() > deadline:
            stats.fail(call.phase, "GET /form/results", "GET /form/results", "not ready in time")
            raise FlowError
        # A browser without JavaScript reloads the page as its refresh says.
        await asyncio.sleep(page.refresh_seconds or POLL_S)
        response = await call(
            client, "GET", "/form/results", expect=[200], timeout=timing.page_timeout
        )
        page = parse_page(response.text)
        state = page.report_state
    response = await call(
        client, "GET", "/form/roadmap.pdf", expect=[200], timeout=timing.pdf_timeout
    )
    if not response.content.startswith(b"%PDF"):
        stats.fail(call.phase, "GET /form/roadmap.pdf", "GET /form/roadmap.pdf", "not a PDF")
        raise FlowError
    stats.ready[call.phase]["web"].append(time.monotonic() - submitted)


# -- the partners ------------------------------------------------------------------------


@dataclass
class Partner:
    name: str
    key: str
    organization_ids: list[str]
    documents: list[dict[str, Any]]
    cursor: int = 0

    def next_batch(self, size: int) -> list[dict[str, Any]]:
        items = []
        for _ in range(size):
            organization_id = self.organization_ids[self.cursor % len(self.organization_ids)]
            document = self.documents[self.cursor % len(self.documents)]
            self.cursor += 1
            items.append(
                {
                    "organization_id": organization_id,
                    "questionnaire": document["questionnaire"],
                    "status": "submitted",
                    "answers": document["answers"],
                }
            )
        return items


async def post_batch(
    base_url: str, partner: Partner, call: Caller, timing: Timing, size: int, deadline: float
) -> None:
    """One batch of submitted assessments, then each one's report to the PDF."""
    stats = call.stats
    async with httpx.AsyncClient(
        base_url=base_url,
        verify=SHARED_TLS,
        headers={"Authorization": f"Bearer {partner.key}"},
        trust_env=False,
    ) as client:
        items = partner.next_batch(size)
        response = await call(
            client,
            "POST",
            "/v1/assessments/batch",
            json={"assessments": items},
            expect=[200],
            timeout=timing.page_timeout,
        )
        submitted = time.monotonic()
        result = response.json()
        created = []
        for item in result["items"]:
            if item["status"] == "created":
                created.append(item["assessment"])
            else:
                stats.fail(call.phase, "POST /v1/assessments/batch", "item", json.dumps(item))
        stats.submitted[call.phase]["partner"] += len(created)
        jobs = {}  # the job replies the response links to, by assessment
        for link in report_links(response.headers.get("link")):
            reply = await call(client, "GET", link, expect=[200], timeout=timing.page_timeout)
            jobs[reply.json()["assessment_id"]] = reply
        followers = [
            follow_report(client, call, timing, a, jobs.get(a["id"]), submitted, deadline)
            for a in created
        ]
        outcomes = await asyncio.gather(*followers, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException) and not isinstance(outcome, FlowError):
                raise outcome


async def follow_report(
    client: httpx.AsyncClient,
    call: Caller,
    timing: Timing,
    assessment: dict[str, Any],
    reply: httpx.Response | None,
    submitted: float,
    deadline: float,
) -> None:
    """The assessment's report job (the submit's own, or one queued now) until its PDF."""
    stats, page_s = call.stats, timing.page_timeout
    job = reply.json() if reply is not None else None
    wait = timing.poll_wait(reply)
    if job is None:
        params = {"organization_id": assessment["organization_id"], "limit": 20}
        listed = await call(
            client, "GET", "/v1/reports", params=params, expect=[200], timeout=page_s
        )
        mine = [j for j in listed.json()["items"] if j["assessment_id"] == assessment["id"]]
        job = mine[0] if mine else None
    if job is not None:
        stats.modes["partner: job queued by the submit"] += 1
    else:
        stats.modes["partner: job queued by the partner (POST .../reports)"] += 1
        path = f"/v1/assessments/{assessment['id']}/reports"
        reply = await call(client, "POST", path, expect=[202], timeout=page_s)
        job, wait = reply.json(), timing.poll_wait(reply)
    while job["status"] not in ("done", "failed"):
        if time.monotonic() > deadline:
            stats.fail(call.phase, "GET /v1/reports/{job_id}", job["id"], "not done in time")
            raise FlowError
        await asyncio.sleep(wait)
        path = f"/v1/reports/{job['id']}"
        reply = await call(client, "GET", path, expect=[200], timeout=page_s)
        job, wait = reply.json(), timing.poll_wait(reply)
    if job["status"] == "failed":
        stats.fail(call.phase, "GET /v1/reports/{job_id}", job["id"], f"failed: {job}")
        raise FlowError
    path = f"/v1/reports/{job['id']}/pdf"
    response = await call(client, "GET", path, expect=[200], timeout=timing.pdf_timeout)
    if not response.content.startswith(b"%PDF"):
        stats.fail(call.phase, "GET /v1/reports/{job_id}/pdf", path, "not a PDF")
        raise FlowError
    stats.ready[call.phase]["partner"].append(time.monotonic() - submitted)


async def partner_loop(
    base_url: str,
    partner: Partner,
    call: Caller,
    timing: Timing,
    args: argparse.Namespace,
    first_s: float,
    window_end: float,
    deadline: float,
) -> None:
    """A batch every --batch-every seconds until the window closes."""
    batches = []
    next_at = time.monotonic() + first_s
    while next_at < window_end:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        batches.append(
            asyncio.create_task(
                post_batch(base_url, partner, call, timing, args.batch_size, deadline)
            )
        )
        next_at += args.batch_every
    await gather_counting(batches, call.stats, call.phase, "partner batch")


async def gather_counting(
    tasks: Sequence[asyncio.Future[Any]], stats: Stats, phase: str, what: str
) -> None:
    """Wait for all; a FlowError is already counted, any other exception becomes an error."""
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, OutOfRequests):
            stats.fail(phase, what, "-", "--max-requests reached")
        elif isinstance(outcome, asyncio.CancelledError):
            stats.fail(phase, what, "-", "cut off at the hard time limit")
        elif isinstance(outcome, BaseException) and not isinstance(outcome, FlowError):
            stats.fail(phase, what, "-", f"exception {outcome!r}")


# -- seeding -----------------------------------------------------------------------------


@dataclass
class Seeded:
    respondents: list[Respondent]
    baseline: list[Respondent]
    partners: list[Partner]
    organizations: int
    seconds: float
    version: int
    steps: dict[str, float]


def seed(database_url: str, secret_key: str, args: argparse.Namespace) -> Seeded:
    """Organizations, invitations and partner keys through the service layer, in chunks."""
    from app.auth.models import Role
    from app.auth.service import Principal, create_key
    from app.config import Settings
    from app.db import make_engine, session_factory, transaction
    from app.invitations.service import create_invitation
    from app.main import load_registry
    from app.organizations.schemas import OrganizationCreate, OrganizationType
    from app.organizations.service import create_organization

    started = time.perf_counter()
    rng = random.Random(args.seed)
    settings = Settings(database_url=database_url, secret_key=secret_key)
    engine = make_engine(database_url)
    try:
        registry = load_registry(settings, engine)
        steps = {"start-up (imports, registry)": time.perf_counter() - started}
        factory = session_factory(engine)
        types = [t.value for t in OrganizationType]
        ids: list[uuid.UUID] = []
        for first in range(0, args.orgs, 1000):
            with transaction(factory) as session:
                for number in range(first, min(first + 1000, args.orgs)):
                    data = OrganizationCreate(
                        name=f"Campaign hospital {number:05d}",
                        type=rng.choice(types),
                        licensed_beds=rng.randint(10, 1200),
                        state=rng.choice(STATES),
                    )
                    ids.append(create_organization(session, Principal.system(), data).id)
        steps["organizations"] = time.perf_counter() - started - sum(steps.values())
        invited_count = respondents_of(args)
        invited = ids[: invited_count + args.baseline]
        links, version = [], 0
        with transaction(factory) as session:
            from app.organizations.models import Organization

            for organization_id in invited:
                issued = create_invitation(
                    session,
                    registry,
                    Principal.system(),
                    session.get_one(Organization, organization_id),
                    key=settings.signing_key(),
                )
                links.append(f"/i/{issued.token}")
                version = issued.invitation.questionnaire_version
        steps["invitations"] = time.perf_counter() - started - sum(steps.values())
        documents = examples_of_version(version)
        rest = ids[len(invited) :]
        share = max(1, len(rest) // max(1, args.partners))
        partners = []
        with transaction(factory) as session:
            for number in range(args.partners):
                granted = rest[number * share : (number + 1) * share][: args.partner_orgs]
                if not granted:
                    raise BenchError("not enough organizations left for the partners")
                issued_key = create_key(session, Role.PARTNER, granted, name=f"partner {number}")
                partners.append(
                    Partner(
                        f"partner {number}", issued_key.token, [str(g) for g in granted], documents
                    )
                )
        steps["partner keys"] = time.perf_counter() - started - sum(steps.values())
    finally:
        engine.dispose()
    people = [
        Respondent(link, answers_of(documents[i % len(documents)]), args.seed * 100_003 + i)
        for i, link in enumerate(links)
    ]
    return Seeded(
        respondents=people[args.baseline :],
        baseline=people[: args.baseline],
        partners=partners,
        organizations=len(ids),
        seconds=time.perf_counter() - started,
        version=version,
        steps=steps,
    )


def examples_of_version(version: int) -> list[dict[str, Any]]:
    """The submitted examples in examples/ for this questionnaire version."""
    documents = []
    for path in sorted((ROOT / "examples").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("questionnaire", {}).get("version") == version:
            documents.append(document)
    if not documents:
        raise BenchError(f"no example in examples/ answers questionnaire version {version}")
    return documents


def respondents_of(args: argparse.Namespace) -> int:
    return max(1, round(args.orgs * args.fraction))


# -- running it --------------------------------------------------------------------------


@contextmanager
def running_workers(
    count: int, concurrency: int, env: dict[str, str], folder: Path
) -> Iterator[list[int]]:
    """``count`` `smm worker --concurrency N` processes; stopped (SIGTERM, then SIGKILL)."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for number in range(count):
            log = folder / f"worker-{number}.log"
            with log.open("wb") as handle:
                processes.append(
                    subprocess.Popen(
                        smm_command("worker", "--concurrency", str(concurrency)),
                        env=env,
                        cwd=ROOT,
                        stdin=subprocess.DEVNULL,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                    )
                )
        time.sleep(2)
        for number, process in enumerate(processes):
            if process.poll() is not None:
                raise BenchError(f"smm worker exited:\n{tail(folder / f'worker-{number}.log')}")
        yield [p.pid for p in processes]
    finally:
        for process in processes:
            stop(process)


@dataclass
class Cpu:
    """CPU seconds so far of the servers, the workers, this process and the machine."""

    server: float
    workers: float
    loadgen: float
    machine: float
    wall: float

    @classmethod
    def now(cls, server_pid: int, worker_pids: list[int]) -> Cpu:
        return cls(
            process_tree_cpu_seconds_with_reaped(server_pid),
            sum(process_tree_cpu_seconds_with_reaped(p) for p in worker_pids),
            time.process_time(),
            machine_busy_seconds(),
            time.monotonic(),
        )

    def since(self, before: Cpu) -> Cpu:
        return Cpu(
            self.server - before.server,
            self.workers - before.workers,
            self.loadgen - before.loadgen,
            self.machine - before.machine,
            self.wall - before.wall,
        )


async def sample_load(samples: list[tuple[float, float, float, float]], every: float) -> None:
    while True:
        samples.append((time.monotonic(), *os.getloadavg()))
        await asyncio.sleep(every)


async def run_baseline(
    base_url: str, seeded: Seeded, stats: Stats, args: argparse.Namespace, timing: Timing
) -> None:
    """Single client on the idle service: respondents one by one, then one batch a partner."""
    call = Caller(stats, "baseline")
    quick = Timing(timing.page_timeout, timing.pdf_timeout, think_scale=0)
    for who in seeded.baseline:
        deadline = time.monotonic() + BASELINE_LIMIT_S
        await gather_counting(
            [asyncio.ensure_future(respond(base_url, who, call, quick, args.vary, deadline))],
            stats,
            "baseline",
            "respondent",
        )
    for partner in seeded.partners:
        deadline = time.monotonic() + BASELINE_LIMIT_S
        await gather_counting(
            [
                asyncio.ensure_future(
                    post_batch(base_url, partner, call, quick, args.batch_size, deadline)
                )
            ],
            stats,
            "baseline",
            "partner batch",
        )


async def run_burst(
    base_url: str,
    seeded: Seeded,
    stats: Stats,
    args: argparse.Namespace,
    timing: Timing,
    load: list[tuple[float, float, float, float]],
) -> tuple[float, float]:
    """The campaign window; (burst start, burst end) on the monotonic clock."""
    call = Caller(stats, "burst")
    window = args.minutes * 60
    rng = random.Random(args.seed)
    begin = time.monotonic()
    stats.origin = begin  # the burst's errors are timed from its start
    window_end, deadline = begin + window, begin + window + args.grace * 60
    sampler = asyncio.create_task(sample_load(load, 15))
    arrivals = poisson_arrivals(len(seeded.respondents), window * ARRIVAL_SHARE, rng)

    async def arrive(at: float, who: Respondent) -> None:
        await asyncio.sleep(max(0.0, begin + at - time.monotonic()))
        await respond(base_url, who, call, timing, args.vary, deadline)

    tasks = [
        asyncio.create_task(arrive(at, who))
        for at, who in zip(arrivals, seeded.respondents, strict=True)
    ]
    spacing = args.batch_every / max(1, len(seeded.partners))
    tasks += [
        asyncio.create_task(
            partner_loop(base_url, p, call, timing, args, spacing * i + 5, window_end, deadline)
        )
        for i, p in enumerate(seeded.partners)
    ]
    _done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()))
    for task in pending:
        task.cancel()
    await gather_counting(tasks, stats, "burst", "respondent or partner")
    sampler.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampler
    load.append((time.monotonic(), *os.getloadavg()))
    return begin, time.monotonic()


# -- the report --------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def print_routes(stats: Stats) -> list[str]:
    """The per-route table; the routes whose burst p95 misses the goal."""
    routes = sorted(
        set(stats.latencies["baseline"]) | set(stats.latencies["burst"]),
        key=lambda r: (r.split(" ", 1)[1], r),
    )
    errors = Counter(f.route for f in stats.failures["burst"])
    rows, missed = [], []
    for route in routes:
        base = latency_summary(stats.latencies["baseline"].get(route, []))
        burst = latency_summary(stats.latencies["burst"].get(route, []))
        goal = "-"
        if burst.count:
            goal = "met" if burst.p95 < ROUTE_GOAL_MS else "MISSED"
            if goal == "MISSED":
                missed.append(route)
        rows.append(
            [
                route,
                str(base.count),
                fmt(base.p50),
                fmt(base.p95),
                str(burst.count),
                fmt(burst.p50),
                fmt(burst.p95),
                fmt(burst.p99),
                fmt(burst.max),
                str(errors.get(route, 0)),
                goal,
            ]
        )
    print_table(
        [
            "route",
            "base n",
            "base p50",
            "base p95",
            "burst n",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
            "errors",
            f"p95 < {ROUTE_GOAL_MS:g} ms",
        ],
        rows,
    )
    return missed


def print_failures(stats: Stats, phase: str) -> None:
    failures = stats.failures[phase]
    if not failures:
        return
    print(f"\nerrors ({phase}): {len(failures)}")
    grouped: dict[tuple[str, str], list[Failure]] = defaultdict(list)
    for failure in failures:
        outcome = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", failure.outcome)[:160]
        grouped[(failure.route, outcome)].append(failure)
    for (route, outcome), group in sorted(grouped.items(), key=lambda kv: -len(kv[1])):
        first = group[0]
        print(f"  {len(group):5d} x {route}: {outcome}")
        print(f"          first at +{first.at_s:.0f} s into the {phase}: {first.request[:130]}")


def print_ready(stats: Stats, phase: str) -> bool:
    """Submit-to-PDF times; whether every submit's PDF was in hand within the goal."""
    all_met = True
    for kind in ("web", "partner"):
        times = stats.ready[phase].get(kind, [])
        summary = latency_summary(times)
        submits = stats.submitted[phase][kind]
        within = sum(1 for t in times if t <= READY_GOAL_S)
        met = within == submits
        all_met &= met
        print(
            f"  {kind:7s}: {submits} submits, {summary.count} PDFs in hand; p50 "
            f"{fmt(summary.p50, 1)} s, p95 {fmt(summary.p95, 1)} s, max {fmt(summary.max, 1)} s;"
            f" within {READY_GOAL_S:g} s: {within} of {submits}; never: {submits - summary.count}"
            f"  -> {'met' if met else 'MISSED'}"
        )
    return all_met


def load_line(label: str, sample: tuple[float, float, float, float]) -> str:
    return f"{label} {sample[1]:.2f}, {sample[2]:.2f}, {sample[3]:.2f}"


def report(
    stats: Stats,
    seeded: Seeded,
    cpu: Cpu,
    load: list[tuple[float, float, float, float]],
    begin_load: tuple[float, float, float, float],
    args: argparse.Namespace,
) -> int:
    print("\n== routes (latency ms; baseline: a single client on the idle service) ==")
    missed = print_routes(stats)
    burst_counts = stats.statuses["burst"]
    print(
        f"\nrequests in the burst: {sum(burst_counts.values())} "
        f"(statuses: {dict(sorted(burst_counts.items()))}); "
        f"baseline: {sum(stats.statuses['baseline'].values())}"
    )
    print(f"report modes seen: {dict(stats.modes)}")
    if stats.retried:
        print(
            f"GETs sent again after the server closed an idle keep-alive connection: "
            f"{dict(stats.retried)}"
        )
    print_failures(stats, "baseline")
    print_failures(stats, "burst")
    print("\n== submit to PDF in hand (seconds) ==")
    print(" baseline:")
    print_ready(stats, "baseline")
    print(" burst:")
    ready_met = print_ready(stats, "burst")
    during = load[:-1] or load
    ones = sorted(s[1] for s in during)
    print("\n== machine ==")
    print(f"{os.cpu_count()} CPUs; " + load_line("load average before the burst", begin_load))
    print(
        f"load average (1 min) during the burst: min {ones[0]:.2f}, median "
        f"{ones[len(ones) // 2]:.2f}, max {ones[-1]:.2f} ({len(ones)} samples, every 15 s)"
    )
    print(load_line("load average after the burst", load[-1]))
    print(
        f"CPU seconds over the burst ({cpu.wall:.0f} s): servers (`smm serve --workers "
        f"{args.api_processes}`) {cpu.server:.0f}, workers ({args.workers} x `smm worker`) "
        f"{cpu.workers:.0f}, this load generator {cpu.loadgen:.0f}, the whole machine "
        f"{cpu.machine:.0f} ({cpu.machine / cpu.wall:.2f} of {os.cpu_count()} cores busy)"
    )
    print(f"respondents finished: {stats.finished['burst']} of {len(seeded.respondents)}")
    errors = len(stats.failures["burst"])
    print("\n== goals ==")
    print(
        f"p95 < {ROUTE_GOAL_MS:g} ms on every form and API route: "
        + ("met" if not missed else f"MISSED on {len(missed)}: {', '.join(missed)}")
    )
    print(f"no error: {'met' if errors == 0 else f'MISSED ({errors} errors)'}")
    print(
        f"every submitted PDF ready within {READY_GOAL_S:g} s: {'met' if ready_met else 'MISSED'}"
    )
    return 0 if not missed and errors == 0 and ready_met else 1


def benchmark(args: argparse.Namespace, stack: ExitStack) -> int:
    import tempfile

    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smm-campaign-")))
    if args.keep_logs:
        stack.callback(keep_logs, folder, Path(args.keep_logs))
    database_url = stack.enter_context(throwaway_postgres(args.database_url))
    secret_key = secrets.token_hex(32)
    env = server_env(database_url, args.log_level)
    env.update(SMM_SECRET_KEY=secret_key, SMM_COOKIE_SECURE="never")
    print(f"bench_campaign: {machine_note()}")
    print(f"code: {code_note()}")
    create_admin_key(env)  # migrates the database
    seeded = seed(database_url, secret_key, args)
    print(
        f"seeding: {seeded.organizations:,} organizations, "
        f"{len(seeded.respondents) + len(seeded.baseline)} invitations "
        f"(questionnaire v{seeded.version}), {len(seeded.partners)} partner keys in "
        f"{seeded.seconds:.1f} s ({seeded.organizations / seeded.seconds:,.0f} organizations/s),"
        " service layer in this process: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in seeded.steps.items()),
        flush=True,
    )
    server = stack.enter_context(
        running_server(
            "service",
            smm_command("serve", "--workers", str(args.api_processes)),
            env,
            folder / "serve.log",
            pin=False,
        )
    )
    cpus = len(os.sched_getaffinity(0))
    concurrency = args.worker_concurrency or max(1, cpus // args.workers)
    worker_pids = stack.enter_context(running_workers(args.workers, concurrency, env, folder))
    timing = Timing(args.timeout, args.pdf_timeout, args.think_scale, args.partner_poll)
    stats = Stats(time.monotonic(), args.max_requests)
    print(
        f"servers: `smm serve --workers {args.api_processes}` at {server.base_url}, "
        f"{args.workers} x `smm worker --concurrency {concurrency}`; "
        f"{len(seeded.respondents)} respondents over "
        f"{args.minutes:g} min (starts in the first {ARRIVAL_SHARE * args.minutes:.1f} min), "
        f"{args.partners} partners x {args.batch_size} assessments every {args.batch_every:g} s,"
        f" think time {2 * args.think_scale:g}-{8 * args.think_scale:g} s a page, grace "
        f"{args.grace:g} min",
        flush=True,
    )
    load: list[tuple[float, float, float, float]] = []

    async def everything() -> tuple[Cpu, tuple[float, float, float, float]]:
        started = time.monotonic()
        await run_baseline(server.base_url, seeded, stats, args, timing)
        print(f"baseline done in {time.monotonic() - started:.0f} s", flush=True)
        before = Cpu.now(server.pid, worker_pids)
        begin_load = (time.monotonic(), *os.getloadavg())
        await run_burst(server.base_url, seeded, stats, args, timing, load)
        return Cpu.now(server.pid, worker_pids).since(before), begin_load

    cpu, begin_load = run_async(everything())
    print(f"\nafter: {machine_note()}")
    status = report(stats, seeded, cpu, load, begin_load, args)
    print_log_problems(folder)
    return status


def keep_logs(folder: Path, target: Path) -> None:
    """Copy the servers' and workers' logs out of the temporary folder before it goes."""
    target.mkdir(parents=True, exist_ok=True)
    for log in folder.glob("*.log"):
        shutil.copyfile(log, target / log.name)


def print_log_problems(folder: Path) -> None:
    """Error lines of the servers' and workers' logs (the temporary folder goes at exit)."""
    for log in sorted(folder.glob("*.log")):
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        bad = [line for line in lines if re.search(r"\bERROR\b|Traceback|CRITICAL", line)]
        # uvicorn's supervisor kills a worker process that misses its health ping (5 s).
        died = [line for line in lines if re.search(r"Child process \[\d+\] died", line)]
        print(
            f"{log.name}: {len(lines)} lines, {len(bad)} with ERROR/Traceback/CRITICAL"
            + (f", {len(died)} API processes killed and replaced by uvicorn" if died else "")
        )
        if died:
            print(f"    first: {died[0][:200]}")
            print(
                "    (the CPU seconds of killed processes' render children are lost: the "
                "server CPU figure is then too low)"
            )
        for line in bad[:5]:
            print(f"    {line[:300]}")


def run_async(coroutine: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coroutine)
    except ImportError:  # pragma: no cover - uvloop is installed with the project
        return asyncio.run(coroutine)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL server on loopback; a throwaway database is made there",
    )
    parser.add_argument("--orgs", type=int, default=5000, help="organizations seeded")
    parser.add_argument("--fraction", type=float, default=0.10, help="share invited who answer")
    parser.add_argument("--minutes", type=float, default=10.0, help="the campaign window")
    parser.add_argument("--grace", type=float, default=5.0, help="minutes after the window")
    parser.add_argument("--partners", type=int, default=2, help="partner systems")
    parser.add_argument("--batch-size", type=int, default=10, help="assessments a batch")
    parser.add_argument("--batch-every", type=float, default=60.0, help="seconds between batches")
    parser.add_argument("--partner-orgs", type=int, default=200, help="organizations a partner")
    parser.add_argument("--think-scale", type=float, default=1.0, help="x the 2-8 s a page")
    parser.add_argument("--vary", type=float, default=0.3, help="chance a choice is changed")
    parser.add_argument("--api-processes", type=int, default=2, help="smm serve --workers N")
    parser.add_argument("--workers", type=int, default=2, help="smm worker processes")
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=0,
        help="reports each worker renders at once (default: the CPUs over --workers)",
    )
    parser.add_argument(
        "--partner-poll",
        type=float,
        default=5.0,
        help="seconds between job polls, for a reply without Retry-After",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--baseline", type=int, default=3, help="respondents in the baseline")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a page may take")
    parser.add_argument("--pdf-timeout", type=float, default=180.0, help="seconds for a PDF")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap on requests")
    parser.add_argument("--log-level", default="info", help="servers' and workers' log level")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the server and worker logs here")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a quick check: 200 organizations, 20 respondents, 2 minutes, 1 partner batch "
        "of 5 a minute, half the think time, 2 minutes' grace (explicit options still win)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        given = {a.split("=", 1)[0] for a in (argv if argv is not None else sys.argv[1:])}
        smoke = {
            "--orgs": ("orgs", 200),
            "--minutes": ("minutes", 2.0),
            "--grace": ("grace", 2.0),
            "--partners": ("partners", 1),
            "--batch-size": ("batch_size", 5),
            "--think-scale": ("think_scale", 0.5),
        }
        for option, (name, value) in smoke.items():
            if option not in given:
                setattr(args, name, value)
        if "--fraction" not in given:
            args.fraction = 20 / args.orgs
    if not is_loopback_url(args.database_url):
        parser.error("--database-url must be on 127.0.0.1 (or localhost): loopback only")
    if args.orgs < respondents_of(args) + args.baseline + args.partners:
        parser.error("--orgs is too small for the respondents and the partners")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_benchmark("bench_campaign", lambda stack: benchmark(args, stack))


if __name__ == "__main__":
    sys.exit(main())
