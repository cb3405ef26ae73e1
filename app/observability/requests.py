"""Per-request context: a request id on every log line and response, and the latency metric."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from app.observability.logs import bind_context, unbind_context
from app.observability.metrics import REQUEST_SECONDS, UNMATCHED_ROUTE, status_class

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy or client may hand us as a request id: short, printable, nothing a log
# reader or parser could trip on. Anything else is replaced by our own.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def request_id_of(scope: MutableMapping[str, Any]) -> str:
    """The caller's valid ``X-Request-ID``, or a new random one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_template(scope: MutableMapping[str, Any]) -> str:
    """The path template of the route that answered (``/v1/assessments/{assessment_id}``).

    Never the raw path: ids and tokens would make a label value per request.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNMATCHED_ROUTE


class RequestContext:
    """Bind a request id for the request's log lines, echo it, and time the request."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        header = (REQUEST_ID_HEADER.lower().encode(), request_id.encode())
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        # Each request runs in a task of its own, with its own copy of the context. The
        # binding is undone after a normal response only: when the app raises, the error
        # handler outside this middleware logs the failure, and its line must still carry
        # the request id; the task's context ends with it anyway.
        token = bind_context(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_SECONDS.labels(
                method=scope["method"], route=route_template(scope), status=status_class(status)
            ).observe(time.perf_counter() - started)
        unbind_context(token)
