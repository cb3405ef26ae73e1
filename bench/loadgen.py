"""The load generator bench_submit.py runs in its own process: a fixed number of POSTs.

    loadgen.py --url URL --bodies FILE --requests N [--concurrency C] [--client raw|httpx]

``C`` tasks, each with its own keep-alive HTTP/1.1 connection, take requests from a common
counter until N have been sent; bodies (one JSON document a line in FILE) are used in turn.
The API key, if any, comes from SMM_BENCH_KEY.

Two clients: ``httpx`` (one httpx.AsyncClient with C pooled connections) and ``raw``, a
minimal HTTP/1.1 client on asyncio streams that costs several times less CPU a request, so
that on a small machine the load generator takes less of the CPU the servers need.

Prints one JSON object: status counts, wall time, requests per second, latency
percentiles, the CPU time this process used (the cost of the load generator) and the CPU
time the whole machine was busy meanwhile (servers, load generator, database, anything).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvloop
from benchlib import machine_busy_seconds, percentile

Send = Callable[[bytes], Awaitable[str]]  # POST one body, return the status (or error name)


class RawConnection:
    """One keep-alive HTTP/1.1 connection that POSTs bodies to one URL."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        lines = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, body: bytes) -> str:
        """POST ``body``; the response status, or the name of what went wrong."""
        try:
            return await self._exchange(body)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.close()
            return type(exc).__name__

    async def _exchange(self, body: bytes) -> str:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        await self.writer.drain()
        head = (await self.reader.readuntil(b"\r\n\r\n")).lower()
        status = head[9:12].decode()
        length = _content_length(head)
        await self.reader.readexactly(length)
        if b"\r\nconnection: close" in head:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()
        self.reader = self.writer = None


def _content_length(head: bytes) -> int:
    marker = b"\r\ncontent-length:"
    start = head.find(marker)
    if start < 0:
        raise ValueError("response without Content-Length")  # chunked: not expected here
    end = head.index(b"\r\n", start + len(marker))
    return int(head[start + len(marker) : end])


async def _senders(
    client: str, url: str, headers: dict[str, str], concurrency: int, stack: AsyncExitStack
) -> list[Send]:
    """One send function per concurrent task."""
    if client == "raw":
        connections = [RawConnection(url, headers) for _ in range(concurrency)]
        for connection in connections:
            stack.push_async_callback(connection.close)
        return [c.send for c in connections]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    pool = await stack.enter_async_context(
        httpx.AsyncClient(headers=headers, limits=limits, timeout=120)
    )

    async def send(body: bytes) -> str:
        try:
            return str((await pool.post(url, content=body)).status_code)
        except httpx.HTTPError as exc:
            return type(exc).__name__

    return [send] * concurrency


async def worker(
    send: Send,
    bodies: list[bytes],
    turns: Iterator[int],
    latencies: list[float],
    statuses: Counter[str],
) -> None:
    """Send requests until the shared counter runs out."""
    for turn in turns:
        started = time.perf_counter()
        outcome = await send(bodies[turn % len(bodies)])
        latencies.append(time.perf_counter() - started)
        statuses[outcome] += 1


async def drive(args: argparse.Namespace, bodies: list[bytes]) -> dict[str, Any]:
    """Send the requests from ``args.concurrency`` tasks and measure them."""
    headers = {"Content-Type": "application/json"}
    if key := os.environ.get("SMM_BENCH_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    turns = iter(range(args.requests))
    async with AsyncExitStack() as stack:
        senders = await _senders(args.client, args.url, headers, args.concurrency, stack)
        busy_started = machine_busy_seconds()
        cpu_started, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(s, bodies, turns, latencies, statuses) for s in senders))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        busy = machine_busy_seconds() - busy_started
    return {
        "requests": len(latencies),
        "statuses": dict(statuses),
        "wall_s": wall,
        "requests_per_s": len(latencies) / wall,
        "cpu_s": cpu,
        "machine_busy_s": busy,
        "latency_ms": {
            "median": statistics.median(latencies) * 1000,
            "p95": percentile(latencies, 0.95) * 1000,
            "p99": percentile(latencies, 0.99) * 1000,
            "max": max(latencies) * 1000,
        },
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="POST a fixed number of requests.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--bodies", type=Path, required=True, help="one JSON body a line")
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    bodies = [line.encode() for line in args.bodies.read_text(encoding="utf-8").splitlines()]
    print(json.dumps(uvloop.run(drive(args, bodies))))


if __name__ == "__main__":
    main()
