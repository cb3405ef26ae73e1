"""The render sandbox: a render in a separate process with a time and a memory limit.

A pathological document (enormous, or one that makes the layout engine spin) costs one
child process, never the service: the child is killed when its time is up, and its
address space is capped so it fails with MemoryError instead of exhausting the machine.
Children fork from a server process that has already imported the renderer, so each
render starts in milliseconds. ``run_isolated`` starts a child per render (the API and
the embedded runner); a ``RenderPool`` keeps long-lived children for a worker process and
`smm report --all`, and can be stopped at once (Ctrl-C) with its renders in progress.

Children ignore SIGINT: a terminal's Ctrl-C reaches the whole process group, and it is
the parent's to decide what stops (a worker finishes its running jobs; `smm report --all`
stops its pool).

Children run at a lower CPU priority than their parent (``niceness``, added to the
parent's): a render is seconds of work nobody is watching line by line, while the API
processes on the same cores answer people page by page. The renders get every cycle the
requests leave, so they take no longer on a machine with cores to spare.

Children never collect garbage while they render (``render.collector_paused`` says why).
A child of ``run_isolated`` never collects at all: it exits after its one render, and
the system takes its memory back whole. A long-lived child collects once after each
document, when the parent already has the PDF.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import resource
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.config import Settings

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


class RenderProcessDied(RenderFailed):
    """The child ended without an answer (killed, crashed): worth another attempt."""


class RenderCancelled(RenderFailed):
    """The pool was stopped (``RenderPool.stop``) before or while this render ran."""


def run_isolated(
    function: Callable[[Any], bytes],
    argument: Any,
    *,
    timeout: float,
    memory_bytes: int,
    niceness: int = 0,
) -> bytes:
    """``function(argument)`` in a child process; RenderFailed if it fails or runs over."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(
        target=_child, args=(sender, function, argument, memory_bytes, niceness), daemon=True
    )
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise RenderTimedOut(f"rendering took longer than {timeout:g} s and was stopped")
        try:
            ok, payload = receiver.recv()
        except EOFError as exc:
            raise RenderProcessDied(
                f"the render process died (exit code {child.exitcode})"
            ) from exc
        if not ok:
            raise RenderFailed(payload)
        result: bytes = payload
        return result
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)


def _limit(memory_bytes: int, niceness: int) -> None:
    """What every render child does first: ignore Ctrl-C, cap its memory, step back, and
    turn the garbage collector off (the heap inherited from the fork server is frozen, so
    no later collection walks it)."""
    gc.disable()
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if niceness:
        os.nice(niceness)


def _child(
    sender: Connection,
    function: Callable[[Any], bytes],
    argument: Any,
    memory_bytes: int,
    niceness: int,
) -> None:
    _limit(memory_bytes, niceness)
    try:
        sender.send(_outcome(function, argument, memory_bytes))
    finally:
        sender.close()


def _outcome(
    function: Callable[[Any], bytes], argument: Any, memory_bytes: int
) -> tuple[bool, Any]:
    """(True, result) or (False, why it failed, in words for the job record)."""
    try:
        return True, function(argument)
    except MemoryError:
        return False, f"rendering needed more than {memory_bytes // 2**20} MiB and was stopped"
    except Exception as exc:  # reported to the job record
        return False, f"rendering failed: {type(exc).__name__}: {exc}"[:500]


class RenderProcess:
    """One long-lived child that renders one document at a time, with the same limits.

    A worker keeps one per concurrent job so renders skip process start-up and reuse the
    renderer's warm caches. The child is replaced after ``recycle_after`` documents (so
    whatever a render leaks goes with it) and after any failure or overrun (so a child
    that hit its memory cap or was killed mid-render is never trusted again).
    """

    def __init__(self, *, memory_bytes: int, recycle_after: int, niceness: int = 0) -> None:
        self.memory_bytes = memory_bytes
        self.recycle_after = recycle_after
        self.niceness = niceness
        self.rendered = 0
        self.generation = 0
        self._child: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        # Guards starting a child against ``kill`` from another thread.
        self._lock = threading.Lock()
        self._killed = False

    def run(self, function: Callable[[Any], bytes], argument: Any, *, timeout: float) -> bytes:
        """``function(argument)`` in the child; RenderFailed if it fails or runs over."""
        connection = self._ready()
        self.rendered += 1
        try:
            connection.send((function, argument))
            if not connection.poll(timeout):
                raise RenderTimedOut(f"rendering took longer than {timeout:g} s and was stopped")
            ok, payload = connection.recv()
        except (EOFError, OSError) as exc:
            self.close()
            if self._killed:
                raise RenderCancelled("the render was stopped") from exc
            raise RenderProcessDied("the render process died while rendering") from exc
        except RenderFailed:
            self.close()
            raise
        if not ok:
            self.close()
            raise RenderFailed(payload)
        result: bytes = payload
        return result

    def _ready(self) -> Connection:
        alive = self._child is not None and self._child.is_alive()
        if not alive or self.rendered >= self.recycle_after or self._connection is None:
            self.close()
            with self._lock:
                if self._killed:
                    raise RenderCancelled("the render was stopped")
                parent_end, child_end = _CONTEXT.Pipe(duplex=True)
                self._child = _CONTEXT.Process(
                    target=_serve,
                    args=(child_end, self.memory_bytes, self.niceness),
                    daemon=True,
                )
                self._child.start()
            child_end.close()
            self._connection = parent_end
            self.rendered = 0
            self.generation += 1
        return self._connection

    def kill(self) -> None:
        """Kill the child now, from any thread, and start no other: a render in progress
        ends with RenderCancelled, as does every later one."""
        with self._lock:
            self._killed = True
            child = self._child
            if child is not None and child.is_alive():
                child.kill()

    def close(self) -> None:
        """Stop the child (if any); the next render starts a fresh one."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._child is not None:
            if self._child.is_alive():
                self._child.kill()
            self._child.join(5)
            self._child = None


def _serve(connection: Connection, memory_bytes: int, niceness: int) -> None:
    """The child's loop: render what the parent sends until it hangs up."""
    _limit(memory_bytes, niceness)
    while True:
        try:
            function, argument = connection.recv()
        except EOFError:
            return
        connection.send(_outcome(function, argument, memory_bytes))
        # The parent has the document; free this one's garbage before the next arrives.
        gc.collect()


class RenderPool:
    """``size`` render processes with the same limits, one borrowed per concurrent render."""

    def __init__(
        self, size: int, *, memory_bytes: int, recycle_after: int, niceness: int = 0
    ) -> None:
        self.size = size
        self._idle: queue.SimpleQueue[RenderProcess] = queue.SimpleQueue()
        self._all = [
            RenderProcess(memory_bytes=memory_bytes, recycle_after=recycle_after, niceness=niceness)
            for _ in range(size)
        ]
        for process in self._all:
            self._idle.put(process)

    @classmethod
    def from_settings(cls, size: int, settings: Settings) -> RenderPool:
        """``size`` render processes with the configured memory, recycling and niceness."""
        return cls(
            size,
            memory_bytes=settings.render_memory_mb * 2**20,
            recycle_after=settings.render_recycle_jobs,
            niceness=settings.render_niceness,
        )

    @contextmanager
    def borrow(self) -> Iterator[RenderProcess]:
        """An idle render process (waits for one when all are busy)."""
        process = self._idle.get()
        try:
            yield process
        finally:
            self._idle.put(process)

    def stop(self) -> None:
        """Kill every render process now, busy ones too (from any thread): renders in
        progress and any borrowed later fail with RenderCancelled. ``close`` still follows."""
        for process in self._all:
            process.kill()

    def close(self) -> None:
        """Stop every render process (waits for the busy ones to be handed back)."""
        for _ in range(self.size):
            self._idle.get().close()
