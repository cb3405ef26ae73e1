"""The request path's middleware besides the unit of work: the body size limit and
idempotent retries.

``BodySizeLimit`` refuses request bodies over the limit before anything parses them.
``IdempotencyKeys`` notes a POST's ``Idempotency-Key`` with the fingerprint of what it asks
for, and holds that request's response back until it is complete, so that the unit of
work can store it with the request's writes; requests without the header pass straight
through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from app.http.context import bookkeeping
from app.idempotency import service as idempotency
from app.idempotency.service import IdempotencyCandidate, StoredResponse

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]


class IdempotencyKeys:
    """ASGI middleware: fingerprint a POST that carries an Idempotency-Key; keep its answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        header = _header(scope, b"idempotency-key")
        if header is None or not idempotency.applies_to(method, scope["path"]):
            await self.app(scope, receive, send)
            return
        body, receive = await _read_body(receive)
        query = scope.get("query_string", b"").decode("latin-1")
        book = bookkeeping(scope)
        book.idempotency = IdempotencyCandidate(
            header,
            method,
            scope["path"],
            idempotency.fingerprint(method, scope["path"], query, body),
        )
        held: list[Message] = []
        status = 500
        headers: dict[str, str] = {}
        answer = bytearray()

        async def hold(message: Message) -> None:
            nonlocal status, headers
            held.append(message)
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1")
                    for k, v in message.get("headers", ())
                }
                return
            if message["type"] != "http.response.body":
                return
            answer.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            book.response = StoredResponse(status, headers, bytes(answer))
            for pending in held:
                await send(pending)
            held.clear()

        await self.app(scope, receive, hold)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a receive that hands it on to the application."""
    chunks: list[bytes] = []
    pending: list[Message] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            pending.append(message)
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if not pending:
        pending.append({"type": "http.request", "body": body, "more_body": False})

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return body, replay


def _header(scope: Message, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before anything parses them.

    A body with a Content-Length over the limit is refused before a byte of it is read;
    one within it passes straight through (the server delivers no more than it declares).
    A body sent without one (chunked) is read here, chunk by chunk, cut off as soon as it
    passes the limit, and handed on whole.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit():
                declared = int(value)
            elif name == b"transfer-encoding":
                declared = None
                break
        if declared is not None and declared > self.max_bytes:
            await self._too_large(send)
            return
        if declared is not None:
            # The server hands the application exactly Content-Length bytes and no more:
            # nothing to count, so nothing is buffered or wrapped.
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away; let the app see it
                pending: list[Message] = [message]
                break
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
                break

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        body = (
            b'{"error":"payload_too_large","detail":"The request body is larger than '
            + str(self.max_bytes).encode()
            + b' bytes."}'
        )
        await send_json(send, 413, body)


async def send_json(send: Send, status: int, body: bytes) -> None:
    """Answer with a JSON ``body`` straight from ASGI, for replies made outside the app."""
    await send_body(send, status, body, b"application/json")


async def send_body(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer with ``body`` straight from ASGI (a middleware's own reply)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
