"""POST /v1/assessments requests per second, against a bare baseline or by API processes.

    .venv/bin/python bench/bench_submit.py
    .venv/bin/python bench/bench_submit.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/bench_submit.py --database-url postgresql://... --api-processes 1 2

Sets up a temporary directory and database (SQLite file there, or a throwaway PostgreSQL
database smm_bench_<random> that is dropped afterwards), creates an admin key with
`smm keys create`, starts `smm serve` and the bare FastAPI app (bench/bare_app.py), both on
127.0.0.1 with one worker, and creates one organization. Then, for each round and each
server, a separate load-generator process (bench/loadgen.py) sends the warm-up requests,
and another sends the measured ones. Every response must be 201; the service's stored
assessments are counted at the end. Subprocesses and temporary files are removed on any
exit, Ctrl-C and SIGTERM included.

With ``--api-processes 1 2``, no bare app: `smm serve --workers N` is measured for each N in
turn on the same database, and the throughput of each is compared with one process's.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import sqlite3
import statistics
import subprocess
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
import psycopg
from benchlib import (
    EXAMPLES,
    ROOT,
    BenchError,
    against_goal,
    code_note,
    machine_note,
    print_table,
    process_tree_cpu_seconds,
    request_body,
    run_benchmark,
)
from psycopg import sql
from sqlalchemy.engine import make_url

BENCH = Path(__file__).resolve().parent
HOST = "127.0.0.1"
RATIO_GOAL = 0.5  # service req/s over bare req/s, at least
CPU_RATIO_GOAL = 2.5  # service server CPU per request over bare, at most
READY_TIMEOUT_S = 180.0  # a loaded machine can take a minute to import and migrate
STOP_TIMEOUT_S = 15.0
SERVER_CPU = 0  # with --pin: servers on this CPU, the load generator on the next
LOADGEN_CPU = 1


@dataclass(frozen=True, slots=True)
class Server:
    """A running server: its name, base URL and process id."""

    name: str
    base_url: str
    pid: int


@dataclass(frozen=True, slots=True)
class Run:
    """One measured batch of requests against one server."""

    server: str
    requests: int
    failures: int
    statuses: dict[str, int]
    requests_per_s: float
    median_ms: float
    p95_ms: float
    server_cpu_ms: float  # per request
    loadgen_cpu_ms: float  # per request
    machine_busy_cores: float  # average during the run, every process on the machine


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def server_env(database_url: str, log_level: str) -> dict[str, str]:
    """The environment for `smm` commands: this database, local-only, one worker.

    Report jobs are queued but not rendered in the service's process (no local runner, and
    no `smm worker` is started): rendering would share the cores with the request path
    being measured. bench_report.py and the campaign benchmark measure the render work.
    """
    env = dict(os.environ)
    env.update(
        SMM_DATABASE_URL=database_url,
        SMM_HOST=HOST,
        SMM_WORKERS="1",
        SMM_LOG_LEVEL=log_level,
        SMM_RUN_REPORT_JOBS="false",
    )
    return env


RENDER_NOTE = (
    "report jobs: queued, not rendered (SMM_RUN_REPORT_JOBS=false, no workers); the render "
    "work is measured by bench_report.py and the campaign benchmark"
)


def smm_command(*args: str) -> list[str]:
    """The `smm` console script of the interpreter running this benchmark."""
    return [str(Path(sys.executable).parent / "smm"), *args]


def create_admin_key(env: dict[str, str]) -> str:
    """`smm keys create --role admin | tail -n1` (it also migrates the database)."""
    done = subprocess.run(
        smm_command("keys", "create", "--role", "admin", "--name", "bench"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"smm keys create failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def throwaway_postgres(server_url: str) -> Iterator[str]:
    """A new database smm_bench_<random> on the server of ``server_url``; dropped afterwards."""
    url = make_url(server_url)
    name = f"smm_bench_{secrets.token_hex(4)}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def running_server(
    name: str, command: list[str], env: dict[str, str], log_path: Path, *, pin: bool
) -> Iterator[Server]:
    """Start ``command`` (a server on 127.0.0.1), wait until it answers; stop it on exit."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--host", HOST, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        if pin:
            os.sched_setaffinity(process.pid, {SERVER_CPU})
        base_url = f"http://{HOST}:{port}"
        wait_until_answering(process, base_url, log_path)
        yield Server(name, base_url, process.pid)
    finally:
        stop(process)


def wait_until_answering(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    """Poll until the server sends any HTTP response; fail if it exits or takes too long."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{base_url} exited with {process.returncode}:\n{tail(log_path)}")
        try:
            httpx.get(f"{base_url}/healthz", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise BenchError(f"{base_url} did not answer within {READY_TIMEOUT_S:g} s:\n{tail(log_path)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process is still there after STOP_TIMEOUT_S."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file."""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def create_organization(base_url: str, key: str) -> str:
    """One organization to file the assessments under; its id."""
    response = httpx.post(
        f"{base_url}/v1/organizations",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "name": "Bench Hospital",
            "type": "community_hospital",
            "licensed_beds": 60,
            "state": "MN",
        },
        timeout=30,
    )
    if response.status_code != 201:
        raise BenchError(f"creating the organization: {response.status_code} {response.text}")
    organization_id: str = response.json()["id"]
    return organization_id


def stored_assessments(base_url: str, key: str, organization_id: str) -> int:
    """How many assessments the service has stored for the organization."""
    response = httpx.get(
        f"{base_url}/v1/assessments",
        params={"organization_id": organization_id, "limit": 1},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    response.raise_for_status()
    total: int = response.json()["total"]
    return total


def write_bodies(path: Path, organization_id: str) -> Path:
    """The request bodies (each example in turn), one JSON document a line."""
    lines = [request_body(name, uuid.UUID(organization_id)).decode() for name in EXAMPLES]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_loadgen(
    server: Server, bodies: Path, requests: int, args: argparse.Namespace, key: str
) -> dict[str, Any]:
    """Run bench/loadgen.py in its own process and return what it measured."""
    command = [
        sys.executable,
        str(BENCH / "loadgen.py"),
        f"--url={server.base_url}/v1/assessments",
        f"--bodies={bodies}",
        f"--requests={requests}",
        f"--concurrency={args.concurrency}",
        f"--client={args.client}",
    ]
    if args.pin:
        command.append(f"--cpu={LOADGEN_CPU}")
    done = subprocess.run(
        command,
        env={**os.environ, "SMM_BENCH_KEY": key},
        capture_output=True,
        text=True,
        timeout=300 + requests,  # bounded even if every request hits the client timeout
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"loadgen failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def failures(result: dict[str, Any]) -> int:
    """Responses that were not 201 (errors included)."""
    return sum(n for status, n in result["statuses"].items() if status != "201")


def measure(server: Server, bodies: Path, args: argparse.Namespace, key: str) -> tuple[Run, int]:
    """Warm up, then one measured batch; the run and the warm-up failures."""
    warmup = run_loadgen(server, bodies, args.warmup, args, key)
    cpu_before = process_tree_cpu_seconds(server.pid)
    result = run_loadgen(server, bodies, args.requests, args, key)
    server_cpu = process_tree_cpu_seconds(server.pid) - cpu_before
    count = result["requests"]
    run = Run(
        server=server.name,
        requests=count,
        failures=failures(result),
        statuses=result["statuses"],
        requests_per_s=result["requests_per_s"],
        median_ms=result["latency_ms"]["median"],
        p95_ms=result["latency_ms"]["p95"],
        server_cpu_ms=server_cpu * 1000 / count,
        loadgen_cpu_ms=result["cpu_s"] * 1000 / count,
        machine_busy_cores=result["machine_busy_s"] / result["wall_s"],
    )
    return run, failures(warmup)


def run_row(round_number: int, run: Run) -> list[str]:
    return [
        str(round_number),
        run.server,
        f"{run.requests_per_s:.0f}",
        f"{run.median_ms:.1f}",
        f"{run.p95_ms:.1f}",
        f"{run.server_cpu_ms:.2f}",
        f"{run.loadgen_cpu_ms:.2f}",
        f"{run.machine_busy_cores:.2f}",
        str(run.failures),
    ]


RUN_HEADERS = [
    "round",
    "server",
    "req/s",
    "median ms",
    "p95 ms",
    "server CPU ms/req",
    "loadgen CPU ms/req",
    "machine busy cores",
    "non-201",
]


def sqlite_commit_ms(directory: Path, commits: int = 200) -> float:
    """Median wall milliseconds of one small durable commit (WAL, synchronous=FULL, as the
    service configures SQLite) in a scratch database on the benchmark's disk."""
    connection = sqlite3.connect(directory / "commit-floor.db", isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
        body = os.urandom(20_000)  # about one submit's row: answers and score snapshot
        samples = []
        for _ in range(commits):
            started = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO t (body) VALUES (?)", (body,))
            connection.execute("COMMIT")
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)
    finally:
        connection.close()


def print_sqlite_ceiling(commit_ms: float, runs: list[tuple[Run, Run]]) -> None:
    """What one fsync'd commit at a time allows, beside the bare app's throughput."""
    bare = statistics.median(b.requests_per_s for _, b in runs)
    ceiling = 1000 / commit_ms
    print(
        f"SQLite durable commit on this disk: {commit_ms:.2f} ms (median of 200, WAL, "
        f"synchronous=FULL): at most {ceiling:.0f} commits/s one at a time, so a ratio of at "
        f"most {ceiling / bare:.2f} to the bare app's {bare:.0f} req/s before any CPU is spent"
    )


def report(runs: list[tuple[Run, Run]]) -> float:
    """Print the per-round table and the summary; return the ratio of the medians."""
    print_table(
        RUN_HEADERS,
        [run_row(i, run) for i, pair in enumerate(runs, start=1) for run in pair],
    )
    service = statistics.median(s.requests_per_s for s, _ in runs)
    bare = statistics.median(b.requests_per_s for _, b in runs)
    ratio = service / bare
    per_round = ", ".join(f"{s.requests_per_s / b.requests_per_s:.2f}" for s, b in runs)
    print(f"\nservice (smm serve): {service:.0f} req/s, median of {len(runs)} rounds")
    print(f"bare FastAPI:        {bare:.0f} req/s, median of {len(runs)} rounds")
    print(f"ratio service/bare:  {ratio:.2f} (rounds: {per_round}); goal >= {RATIO_GOAL}: ", end="")
    print(against_goal(ratio, RATIO_GOAL, higher_is_better=True))
    service_cpu = statistics.median(s.server_cpu_ms for s, _ in runs)
    bare_cpu = statistics.median(b.server_cpu_ms for _, b in runs)
    cpu_ratio = service_cpu / bare_cpu
    cpu_rounds = ", ".join(f"{s.server_cpu_ms / b.server_cpu_ms:.2f}" for s, b in runs)
    print(
        f"server CPU per request: service {service_cpu:.2f} ms, bare {bare_cpu:.2f} ms "
        f"(medians); ratio {cpu_ratio:.2f} (rounds: {cpu_rounds}); goal <= {CPU_RATIO_GOAL}: ",
        end="",
    )
    print(against_goal(cpu_ratio, CPU_RATIO_GOAL))
    return ratio


def workspace(args: argparse.Namespace, stack: ExitStack) -> tuple[Path, str]:
    """A temporary directory and the database to use (SQLite there, or throwaway PostgreSQL)."""
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smm-bench-")))
    if args.database_url:
        return tmp, stack.enter_context(throwaway_postgres(args.database_url))
    return tmp, f"sqlite:///{tmp / 'bench.db'}"


def benchmark(args: argparse.Namespace, stack: ExitStack) -> int:
    """Set everything up, run the rounds, print the report; the exit status."""
    if args.api_processes:
        return benchmark_processes(args, stack)
    tmp, database_url = workspace(args, stack)
    backend = make_url(database_url).get_backend_name()
    env = server_env(database_url, args.log_level)
    key = create_admin_key(env)
    service = stack.enter_context(
        running_server("service", smm_command("serve"), env, tmp / "smm.log", pin=args.pin)
    )
    bare_command = [sys.executable, "-m", "uvicorn", "bare_app:app", f"--app-dir={BENCH}"]
    bare_command += ["--workers=1", f"--log-level={args.log_level}"]
    bare = stack.enter_context(
        running_server("bare", bare_command, env, tmp / "bare.log", pin=args.pin)
    )
    organization_id = create_organization(service.base_url, key)
    bodies = write_bodies(tmp / "bodies.jsonl", organization_id)
    print(f"bench_submit on {backend}: {machine_note()}")
    print(f"code: {code_note()}")
    print(RENDER_NOTE)
    print(
        f"{args.rounds} rounds x ({args.warmup} warm-up + {args.requests} measured requests), "
        f"{args.concurrency} concurrent keep-alive {args.client} clients in a separate process"
        f"{', servers pinned to CPU 0 and the load generator to CPU 1' if args.pin else ''}\n"
    )
    runs: list[tuple[Run, Run]] = []
    warmup_failures = 0
    for _ in range(args.rounds):
        service_run, service_warmup = measure(service, bodies, args, key)
        bare_run, bare_warmup = measure(bare, bodies, args, key)
        runs.append((service_run, bare_run))
        warmup_failures += service_warmup + bare_warmup
    report(runs)
    if backend == "sqlite":
        print_sqlite_ceiling(sqlite_commit_ms(tmp), runs)
    return check_accounting(args, runs, warmup_failures, service, key, organization_id)


def benchmark_processes(args: argparse.Namespace, stack: ExitStack) -> int:
    """`smm serve --workers N` for each N of --api-processes, on one database; the exit status."""
    tmp, database_url = workspace(args, stack)
    backend = make_url(database_url).get_backend_name()
    env = server_env(database_url, args.log_level)
    key = create_admin_key(env)
    print(f"bench_submit by API processes on {backend}: {machine_note()}")
    print(f"code: {code_note()}")
    print(RENDER_NOTE)
    print(
        f"{args.rounds} rounds x ({args.warmup} warm-up + {args.requests} measured requests) "
        f"for each process count, {args.concurrency} concurrent keep-alive {args.client} "
        "clients in a separate process\n"
    )
    runs: dict[int, list[Run]] = {}
    warmup_failures = 0
    organization_id = ""
    stored = 0
    for processes in args.api_processes:
        command = smm_command("serve", "--workers", str(processes))
        name = f"smm serve x{processes}"
        with running_server(name, command, env, tmp / f"smm-{processes}.log", pin=False) as server:
            if not organization_id:
                organization_id = create_organization(server.base_url, key)
            bodies = write_bodies(tmp / "bodies.jsonl", organization_id)
            for _ in range(args.rounds):
                run, failed = measure(server, bodies, args, key)
                runs.setdefault(processes, []).append(run)
                warmup_failures += failed
            stored = stored_assessments(server.base_url, key, organization_id)
    print_table(
        RUN_HEADERS,
        [run_row(i, run) for series in runs.values() for i, run in enumerate(series, start=1)],
    )
    base = statistics.median(r.requests_per_s for r in runs[args.api_processes[0]])
    print()
    for processes, series in runs.items():
        median = statistics.median(r.requests_per_s for r in series)
        print(
            f"{processes} API process(es): {median:.0f} req/s (median of {len(series)}), "
            f"{median / base:.2f}x {args.api_processes[0]} process(es); CPU ms/req "
            f"{statistics.median(r.server_cpu_ms for r in series):.2f}"
        )
    every_run = [run for series in runs.values() for run in series]
    return accounting(every_run, warmup_failures, stored, expected=len(every_run) * per_round(args))


def per_round(args: argparse.Namespace) -> int:
    """Requests a round sends to one server: warm-up and measured."""
    return int(args.warmup + args.requests)


def check_accounting(
    args: argparse.Namespace,
    runs: list[tuple[Run, Run]],
    warmup_failures: int,
    service: Server,
    key: str,
    organization_id: str,
) -> int:
    """Every response a 201, and every 201 of the service a stored assessment."""
    stored = stored_assessments(service.base_url, key, organization_id)
    every_run = [run for pair in runs for run in pair]
    return accounting(every_run, warmup_failures, stored, expected=args.rounds * per_round(args))


def accounting(runs: list[Run], warmup_failures: int, stored: int, *, expected: int) -> int:
    """Print the failures and the stored count; 0 when every request was a stored 201."""
    measured_failures = sum(run.failures for run in runs)
    print(
        f"non-201 responses: {measured_failures} measured, {warmup_failures} warm-up; "
        f"assessments stored: {stored} of {expected} sent"
    )
    bad = [run.statuses for run in runs if run.failures]
    if bad:
        print(f"statuses of failing runs: {bad}")
    return 0 if measured_failures == warmup_failures == 0 and stored == expected else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server URL (e.g. postgresql://postgres@127.0.0.1:5432/test); "
        "a throwaway database is made there. Default: SQLite in a temporary directory",
    )
    parser.add_argument("--requests", type=int, default=2000, help="measured requests a round")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests a round")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (service, then bare)")
    parser.add_argument("--log-level", default="info", help="both servers' log level")
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="load generator's HTTP client: raw asyncio streams (cheaper) or httpx",
    )
    parser.add_argument(
        "--pin", action="store_true", help="pin servers to CPU 0, the load generator to CPU 1"
    )
    parser.add_argument(
        "--api-processes",
        type=int,
        nargs="+",
        metavar="N",
        help="instead of the bare comparison, measure `smm serve --workers N` for each N",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    return run_benchmark("bench_submit", lambda stack: benchmark(args, stack))


if __name__ == "__main__":
    sys.exit(main())
