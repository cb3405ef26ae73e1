"""From a hospital's submit to its roadmap PDF, and what queueing the pre-render costs a submit.

    .venv/bin/python bench/bench_prerender.py [--rounds 3] [--requests 300] [--skip-http]

1. **The submit door's CPU, in-process**: a temporary SQLite database, migrated, the
   repository's questionnaires published, an admin key and one organization; the
   application (``create_app``, no runner) behind Starlette's TestClient. Each request is
   ``POST /v1/assessments`` with ``examples/community-hospital.json`` submitted, timed with
   this process's CPU clock (the client and the application share the process, so the
   figure includes the client, the same in both columns). Two variants interleaved in
   blocks of 20 requests: the door as it is, and the door with the pre-render queueing
   replaced by a no-op (where the door has one: ``queue_prerender`` in
   ``app.api.assessments``).
   Median and p90 per variant; the difference of the medians is what the queueing adds.
2. **Submit to PDF, over HTTP**: `smm serve` on a temporary SQLite database with the
   embedded runner, one worker. For each round a new organization is invited; the form's
   draft is started through the form, answered through the API (PATCH, the example's
   answers) and submitted through the form (``POST /form/submit``, its CSRF token from the
   review page). Timed from the moment the submit is sent: the results page (after the
   redirect); the moment the results page says the PDF is ready (``#report-status`` with
   ``data-state="ready"``; a page without that element counts as ready at once), asked of
   ``/form/roadmap-status`` every 250 ms as the page's script does (the script waits 2 s),
   then the page again; and the PDF in hand when the user clicks the moment the link is
   offered.
   With ``--baseline`` a second server with ``SMM_PRERENDER_REPORTS=false`` (the
   behaviour before submits queued the PDF: the download renders it) runs alternate
   rounds, so both are measured under the same load. One untimed round on each first, so
   the servers' fork servers and caches are warm.

Subprocesses and the temporary directory are removed on any exit; every wait is bounded.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bench_submit import (
    create_admin_key,
    running_server,
    server_env,
    smm_command,
)
from benchlib import (
    ROOT,
    BenchError,
    code_note,
    example_document,
    machine_note,
    percentile,
    print_table,
    run_benchmark,
)

sys.path.insert(0, str(ROOT))

READY_TIMEOUT_S = 120.0
POLL_S = 0.25


# -- 1. the door's CPU -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoorCpu:
    variant: str
    median_ms: float
    p90_ms: float
    samples: int


@contextmanager
def door_client(folder: Path) -> Iterator[tuple[Any, dict[str, str], str]]:
    """A TestClient on a fresh migrated SQLite database; its admin headers and organization."""
    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

    from app.auth.models import Role
    from app.auth.service import create_key
    from app.config import Settings
    from app.db import make_engine
    from app.main import create_app
    from app.migrate import upgrade
    from app.organizations.models import Organization
    from app.questionnaire.loader import load_directory
    from app.questionnaire.registry import publish

    url = f"sqlite:///{folder / 'door.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        registry = publish(session, load_directory(ROOT / "questionnaires"))
        token = create_key(session, Role.ADMIN, []).token
        organization = Organization(
            name="Bench Hospital", type="community_hospital", licensed_beds=60, state="MN"
        )
        session.add(organization)
        session.flush()
        organization_id = str(organization.id)
    settings = Settings(
        database_url=url,
        run_report_jobs=False,
        secret_key_file=folder / "secret_key",
    )
    app = create_app(settings, engine=engine, registry=registry)
    try:
        with TestClient(app) as client:
            yield client, {"Authorization": f"Bearer {token}"}, organization_id
    finally:
        engine.dispose()


def measure_door(requests: int) -> list[DoorCpu]:
    """CPU ms per submitted POST /v1/assessments, with the pre-render queueing and without."""
    from app.api import assessments as door

    real = getattr(door, "queue_prerender", None)
    body = {"status": "submitted", **example_document("community-hospital")}
    body.pop("organization", None)
    samples: dict[str, list[float]] = {"as it is": [], "no pre-render queueing": []}
    variants = ["as it is"] + (["no pre-render queueing"] if real is not None else [])
    with (
        tempfile.TemporaryDirectory(prefix="smm-prerender-door-") as folder,
        door_client(Path(folder)) as (client, headers, organization_id),
    ):
        payload = {**body, "organization_id": organization_id}

        def post() -> float:
            started = time.process_time()
            response = client.post("/v1/assessments", json=payload, headers=headers)
            elapsed = time.process_time() - started
            if response.status_code != 201:
                raise BenchError(f"submit: {response.status_code} {response.text[:300]}")
            return elapsed * 1000

        for _ in range(30):  # warm-up
            post()
        block = 20
        for start in range(0, requests, block):
            for variant in variants:
                if real is not None:
                    door.queue_prerender = (  # type: ignore[attr-defined]
                        real if variant == "as it is" else (lambda *_a, **_k: None)
                    )
                for _ in range(min(block, requests - start)):
                    samples[variant].append(post())
        if real is not None:
            door.queue_prerender = real  # type: ignore[attr-defined]
    return [
        DoorCpu(v, statistics.median(s), percentile(s, 0.9), len(s))
        for v, s in samples.items()
        if s
    ]


# -- 2. submit to PDF over HTTP ----------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_STATE = re.compile(r'id="report-status"[^>]*data-state="([a-z]+)"')


@dataclass(frozen=True, slots=True)
class Round:
    submit_ms: float  # POST /form/submit and the redirect to the results page
    ready_ms: float  # until the results page offers the PDF as ready
    pdf_ms: float  # until the PDF is in hand, clicking as soon as it is offered
    download_ms: float  # the download alone
    states: tuple[str, ...]  # the states the results page showed, in order


def _csrf(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    if match is None:
        raise BenchError(f"no CSRF token on {page.url}")
    return match.group(1)


def _state(page: httpx.Response) -> str | None:
    match = _STATE.search(page.text)
    return match.group(1) if match else None


def create_organization(base_url: str, key: str, name: str) -> str:
    """A new organization (its name is in the report, so each round's PDF is its own)."""
    response = httpx.post(
        f"{base_url}/v1/organizations",
        headers={"Authorization": f"Bearer {key}"},
        json={"name": name, "type": "community_hospital", "licensed_beds": 60, "state": "MN"},
        timeout=30,
    )
    if response.status_code != 201:
        raise BenchError(f"creating the organization: {response.status_code} {response.text}")
    organization_id: str = response.json()["id"]
    return organization_id


def one_round(base_url: str, key: str, answers: list[dict[str, Any]]) -> Round:
    """Invite a new organization, answer, submit through the form, wait for the PDF."""
    api = {"Authorization": f"Bearer {key}"}
    organization_id = create_organization(base_url, key, f"Bench Hospital {uuid.uuid4().hex[:8]}")
    invited = httpx.post(
        f"{base_url}/v1/organizations/{organization_id}/invitations",
        headers=api,
        json={"questionnaire": {"id": "hospital-social-media", "version": 1}},
        timeout=30,
    )
    invited.raise_for_status()
    link = invited.json()["url"]
    with httpx.Client(base_url=base_url, timeout=READY_TIMEOUT_S) as browser:
        browser.get(link.replace(re.match(r"^https?://[^/]+", link)[0], ""))  # type: ignore[index]
        welcome = browser.get("/form")
        started = browser.post("/form/start", data={"csrf_token": _csrf(welcome)})
        if started.status_code != 303:
            raise BenchError(f"start: {started.status_code}")
        drafts = httpx.get(
            f"{base_url}/v1/assessments",
            params={"organization_id": organization_id, "status": "draft"},
            headers=api,
            timeout=30,
        ).json()["items"]
        patched = httpx.patch(
            f"{base_url}/v1/assessments/{drafts[0]['id']}",
            headers=api,
            json={"answers": answers},
            timeout=30,
        )
        if patched.status_code != 200:
            raise BenchError(f"answering: {patched.status_code} {patched.text[:300]}")
        token = _csrf(browser.get("/form/review"))

        t0 = time.perf_counter()
        submitted = browser.post("/form/submit", data={"csrf_token": token})
        if submitted.status_code != 303 or submitted.headers["location"] != "/form/results":
            raise BenchError(f"submit: {submitted.status_code} {submitted.text[:300]}")
        page = browser.get("/form/results")
        submit_ms = (time.perf_counter() - t0) * 1000
        states: list[str] = []
        deadline = t0 + READY_TIMEOUT_S
        while True:
            state = _state(page)
            if not states or states[-1] != (state or "none"):
                states.append(state or "none")
            if state in (None, "ready", "failed"):
                break
            if time.perf_counter() > deadline:
                raise BenchError("the results page never said the PDF was ready")
            time.sleep(POLL_S)
            # What the page's script asks (a reload would plan the roadmap again each time).
            asked = browser.get("/form/roadmap-status").json()["state"]
            page = browser.get("/form/results") if asked != "preparing" else page
        ready_ms = (time.perf_counter() - t0) * 1000
        d0 = time.perf_counter()
        pdf = browser.get("/form/roadmap.pdf")
        download_ms = (time.perf_counter() - d0) * 1000
        if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF"):
            raise BenchError(f"download: {pdf.status_code} {pdf.text[:300]}")
        pdf_ms = (time.perf_counter() - t0) * 1000
    return Round(submit_ms, ready_ms, pdf_ms, download_ms, tuple(states))


def _served(stack: ExitStack, name: str, **settings: str) -> tuple[str, str]:
    """`smm serve` on a SQLite database of its own; its URL and an admin key."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"smm-{name}-")))
    env = server_env(f"sqlite:///{folder / 'smm.db'}", "warning")
    env.update(
        # The embedded runner renders the pre-render (bench_submit's servers run none).
        SMM_RUN_REPORT_JOBS="true",
        SMM_SECRET_KEY_FILE=str(folder / "secret_key"),
        SMM_WEB_RATE_LIMIT="100000",
        SMM_WEB_RATE_BURST="100000",
        **settings,
    )
    env.pop("SMM_SECRET_KEY", None)
    key = create_admin_key(env)
    server = stack.enter_context(
        running_server(name, smm_command("serve"), env, folder / "serve.log", pin=False)
    )
    return server.base_url, key


def measure_http(rounds: int, stack: ExitStack, *, baseline: bool) -> dict[str, list[Round]]:
    """Rounds on a server as it is; with ``baseline``, alternated with rounds on a second
    server with SMM_PRERENDER_REPORTS=false (nothing rendered before the download)."""
    servers = {"pre-render on": _served(stack, "prerender")}
    if baseline:
        servers["pre-render off"] = _served(stack, "baseline", SMM_PRERENDER_REPORTS="false")
    answers = example_document("community-hospital")["answers"]
    for url, key in servers.values():
        one_round(url, key, answers)  # warm-up, untimed
    runs: dict[str, list[Round]] = {name: [] for name in servers}
    for _ in range(rounds):
        for name, (url, key) in servers.items():
            runs[name].append(one_round(url, key, answers))
    return runs


def print_http(runs: list[Round]) -> None:
    rows = [
        [
            str(i + 1),
            f"{r.submit_ms:,.0f}",
            f"{r.ready_ms:,.0f}",
            f"{r.download_ms:,.0f}",
            f"{r.pdf_ms:,.0f}",
            " -> ".join(r.states),
        ]
        for i, r in enumerate(runs)
    ]
    print_table(
        [
            "round",
            "submit+results ms",
            "until ready ms",
            "download ms",
            "submit to PDF in hand ms",
            "states seen",
        ],
        rows,
    )
    print(
        f"median: until ready {statistics.median(r.ready_ms for r in runs):,.0f} ms, "
        f"PDF in hand {statistics.median(r.pdf_ms for r in runs):,.0f} ms, "
        f"download {statistics.median(r.download_ms for r in runs):,.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300, help="door requests per variant")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-door", action="store_true")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="alternate with a server that has SMM_PRERENDER_REPORTS=false",
    )
    args = parser.parse_args()
    return run_benchmark("bench_prerender", lambda stack: benchmark(args, stack))


def benchmark(args: argparse.Namespace, stack: ExitStack) -> int:
    print(f"# bench_prerender: {machine_note()}; {code_note()}")
    if not args.skip_door:
        door = measure_door(args.requests)
        print("\n## POST /v1/assessments (submitted), CPU ms per request, in-process")
        print_table(
            ["variant", "median", "p90", "requests"],
            [[d.variant, f"{d.median_ms:.2f}", f"{d.p90_ms:.2f}", str(d.samples)] for d in door],
        )
        if len(door) == 2:
            print(f"queueing adds {door[0].median_ms - door[1].median_ms:+.2f} ms (median)")
    if not args.skip_http:
        measured = measure_http(args.rounds, stack, baseline=args.baseline)
        for name, runs in measured.items():
            print(f"\n## Submit to PDF, SQLite, embedded runner, {name} ({len(runs)} rounds)")
            print_http(runs)
    print(f"# done: {machine_note()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
