"""Where the `smm` commands write, and how they say what went wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from app.errors import AppError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr; the exit to raise, with ``code``."""
    err.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(code)


def detail(exc: AppError) -> str:
    """An error's sentence."""
    return exc.detail


def problems(exc: AppError) -> str:
    """An error's field problems in one line, or its sentence when it has none."""
    return "; ".join(e["message"] for e in exc.extra.get("errors", [])) or exc.detail


def money(amount: int, currency: str) -> str:
    """An amount as the tables print it: $12,000, or 12,000 EUR."""
    return f"${amount:,}" if currency == "USD" else f"{amount:,} {currency}"
