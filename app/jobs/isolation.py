"""Run a render in a separate process with a time and a memory limit.

A pathological document (enormous, or one that makes the layout engine spin) costs one
child process, never the service: the child is killed when its time is up, and its
address space is capped so it fails with MemoryError instead of exhausting the machine.
Children fork from a server process that has already imported the renderer, so each
render starts in milliseconds.
"""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["app.reports.render"])


def warm_up() -> None:
    """Start the fork server now, so the first render does not pay for importing WeasyPrint."""
    from multiprocessing import forkserver

    forkserver.ensure_running()


class RenderFailed(Exception):
    """The render did not produce a document; the message says why, for the job record."""


class RenderTimedOut(RenderFailed):
    pass


def run_isolated(
    function: Callable[[Any], bytes], argument: Any, *, timeout: float, memory_bytes: int
) -> bytes:
    """``function(argument)`` in a child process; RenderFailed if it fails or runs over."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(
        target=_child, args=(sender, function, argument, memory_bytes), daemon=True
    )
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise RenderTimedOut(f"rendering took longer than {timeout:g} s and was stopped")
        try:
            ok, payload = receiver.recv()
        except EOFError as exc:
            raise RenderFailed(f"the render process died (exit code {child.exitcode})") from exc
        if not ok:
            raise RenderFailed(payload)
        result: bytes = payload
        return result
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)


def _child(
    sender: Connection, function: Callable[[Any], bytes], argument: Any, memory_bytes: int
) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        result = function(argument)
    except MemoryError:
        sender.send(
            (False, f"rendering needed more than {memory_bytes // 2**20} MiB and was stopped")
        )
    except Exception as exc:  # reported to the job record; the child ends either way
        sender.send((False, f"rendering failed: {type(exc).__name__}: {exc}"[:500]))
    else:
        sender.send((True, result))
    finally:
        sender.close()
