"""Links the service hands out, built the same way by every door that hands them out."""

from __future__ import annotations

from fastapi import Request

from app.config import Settings


def invitation_link(request: Request, settings: Settings, token: str) -> str:
    """The link for a token: SMM_PUBLIC_URL, or the URL this request came in on."""
    base = settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/i/{token}"
