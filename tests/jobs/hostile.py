"""Render stand-ins that misbehave, run in child processes by the isolation tests."""

from __future__ import annotations

import time


def spin(_: str) -> bytes:
    while True:
        time.sleep(0.01)


def hog_memory(_: str) -> bytes:
    chunks = []
    while True:
        chunks.append(bytearray(64 * 2**20))


def crash(_: str) -> bytes:
    raise RuntimeError("layout engine exploded")


def echo(text: str) -> bytes:
    return text.encode()


def whoami(_: str) -> bytes:
    import os

    return str(os.getpid()).encode()


def niceness(_: str) -> bytes:
    import os

    return str(os.nice(0)).encode()


def leave_cycles(count: str) -> bytes:
    """Garbage only the cyclic collector can free, as a render leaves behind."""
    for _ in range(int(count)):
        node: dict[str, object] = {}
        node["self"] = node
    return b"%PDF-cycles"


def live_objects(_: str) -> bytes:
    import gc

    return str(len(gc.get_objects())).encode()
