"""Real servers for the tests that need sockets: `smm serve` processes and in-thread uvicorns.

Each server listens on a port the kernel picked free for it on 127.0.0.1, so tests in
parallel workers never share one.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from app.config import PROJECT_ROOT
from tests.support.cli import SMM


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    env: dict[str, str],
    log: Path,
    port: int,
    *,
    args: Sequence[str] = (),
    append: bool = False,
) -> subprocess.Popen[bytes]:
    """`smm serve --port PORT` in the background, its output (both streams) going to ``log``."""
    with log.open("ab" if append else "wb") as output:
        return subprocess.Popen(
            [*SMM, "serve", *args, "--port", str(port)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_until_ready(
    url: str,
    *,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    seconds: float = 120,
) -> None:
    """Poll ``url`` until it answers 200; fail, with the server's log, if it exits or is late.

    Generous by default: on a loaded machine with a worker per core, a server's start-up
    (migrations, questionnaire checks) can take most of a minute.
    """

    def output() -> str:
        return log.read_text(errors="replace") if log is not None and log.exists() else ""

    deadline = time.monotonic() + seconds
    while True:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"smm serve exited:\n{output()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not become ready:\n{output()}")
        time.sleep(0.1)


def stop_server(process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Terminate a server and wait for it, killing it if it will not go."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_server(
    env: dict[str, str],
    log: Path,
    *,
    args: Sequence[str] = (),
    ready: str = "/readyz",
    seconds: float = 120,
) -> Iterator[str]:
    """`smm serve` on a free port until the block ends; yields its base URL once ready."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_server(env, log, port, args=args)
    try:
        wait_until_ready(f"{base}{ready}", process=process, log=log, seconds=seconds)
        yield base
    finally:
        stop_server(process)


@contextmanager
def served_in_thread(application: Any) -> Iterator[str]:
    """A real uvicorn serving ``application`` from a thread of this process; its base URL."""
    config = uvicorn.Config(application, host="127.0.0.1", port=0, log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    while not served.started:
        assert thread.is_alive(), "uvicorn did not start"
        thread.join(0.05)
    port = served.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(30)
