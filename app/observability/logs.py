"""Structured logs: one JSON object a line, carrying the request or job they belong to.

Context (``request_id``, ``job_id``, ...) lives in a context variable, so it follows the
request into the thread pool that runs sync endpoints and into everything they call,
without passing it around. Every formatter here also redacts what must never reach a
log: API keys and the token of an invitation link, wherever they appear in a message.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

from app.config import Settings

_NO_CONTEXT: Mapping[str, object] = MappingProxyType({})
_context: ContextVar[Mapping[str, object]] = ContextVar("smm_log_context", default=_NO_CONTEXT)

# An API key is smm_<prefix>_<secret>; keep the prefix (it names the key, it is not secret).
_API_KEY = re.compile(r"\b(smm_[A-Za-z0-9]+)_[A-Za-z0-9_\-]{8,}")
# The web form's invitation link carries its token in the path: /i/<token>, however the
# path is spelt (/I/<token>, //i//<token>; percent-encoding is undone before this).
_INVITATION_LINK = re.compile(r"(?i)/+i/+[^/\s?#\"']+")
# A path segment or query value that looks like a token, its nonce or its signature, as in
# a mistyped link (/<token>, /form/<token>) in any case: a long run of URL-safe base64 with
# a letter and a digit, or with capitals and small letters. UUIDs and words are kept.
_B64 = "A-Za-z0-9_-"
_MIXED = f"[{_B64}]*[0-9]|[{_B64}]*[A-Z][{_B64}]*[a-z]|[{_B64}]*[a-z][{_B64}]*[A-Z]"
_TOKEN_LIKE = re.compile(rf"(?<=[/=.])(?=[{_B64}]*[A-Za-z])(?={_MIXED})[{_B64}]{{20,}}(?![{_B64}])")
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
# Whatever a client sends as a bearer credential, valid key or not.
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',]+")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "color_message"}


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add ``fields`` to every log line written inside the block (nested blocks add more)."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def bind_context(**fields: object) -> Token[Mapping[str, object]]:
    """Add ``fields`` to the log context until ``unbind_context(token)`` (for middleware)."""
    return _context.set({**_context.get(), **fields})


def unbind_context(token: Token[Mapping[str, object]]) -> None:
    """Undo the ``bind_context`` that returned ``token``."""
    _context.reset(token)


def current_context() -> Mapping[str, object]:
    """The fields ``log_context`` has bound here (e.g. ``request_id``)."""
    return _context.get()


def redact(text: str) -> str:
    """``text`` without API key secrets, bearer credentials or invitation tokens."""
    text = _API_KEY.sub(r"\1_[redacted]", text)
    text = _BEARER.sub(r"\1 [redacted]", text)
    redacted = _without_tokens(text)
    if _PERCENT.search(text):
        # A percent-encoded token (/%69/..., %41%42...) is one once decoded: when decoding
        # finds one, the decoded text is what is written, redacted.
        decoded = text
        for _ in range(3):  # %2569 is %69 encoded again
            decoded = unquote(decoded)
        if _without_tokens(decoded) != decoded:
            return _without_tokens(decoded)
    return redacted


def _without_tokens(text: str) -> str:
    text = _INVITATION_LINK.sub("/i/[redacted]", text)
    return _TOKEN_LIKE.sub(_token_like, text)


def _token_like(match: re.Match[str]) -> str:
    return match.group() if _UUID.fullmatch(match.group()) else "[redacted]"


def _message(record: logging.LogRecord) -> str:
    if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
        # client, method, path with query, HTTP version, status: the client address is
        # a field of its own, and the message reads like any other line.
        _client, method, path, _version, status = record.args
        return f"{method} {path} {status}"
    return record.getMessage()


def _access_fields(record: logging.LogRecord) -> dict[str, object]:
    if record.name != "uvicorn.access" or not isinstance(record.args, tuple):
        return {}
    if len(record.args) != 5:
        return {}
    client, method, path, _version, status = record.args
    return {"client": client, "method": method, "path": redact(str(path)), "status": status}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, context, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(_message(record)),
        }
        line.update(_context.get())
        line.update(_access_fields(record))
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                line.setdefault(name, redact(value) if isinstance(value, str) else value)
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A line for people at a terminal: time, level, logger, message, then the context."""

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        context = " ".join(f"{k}={v}" for k, v in _context.get().items())
        line = f"{time} {record.levelname:<7} {record.name}: {redact(_message(record))}"
        if context:
            line += f"  [{context}]"
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


def log_format(settings: Settings) -> str:
    """``json`` or ``text``: ``auto`` is text on a terminal and JSON anywhere else."""
    if settings.log_format == "auto":
        return "text" if sys.stderr.isatty() else "json"
    return settings.log_format


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the service and uvicorn, in the chosen format.

    Handed to uvicorn as its ``log_config``, so each worker process it starts applies it.
    """
    formatter = JsonFormatter if log_format(settings) == "json" else TextFormatter
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"smm": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "smm",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["stderr"], "level": level, "propagate": False},
            "smm": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


def configure_logging(settings: Settings) -> None:
    """Apply ``logging_config`` in this process (for commands that do not start uvicorn)."""
    logging.config.dictConfig(logging_config(settings))
