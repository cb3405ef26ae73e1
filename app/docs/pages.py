"""``/openapi.json``, ``/docs`` (Swagger UI) and ``/redoc``, served from vendored files.

The viewers come from their npm packages (see ``static/README.md``) and are served by the
service itself, so the pages work on a closed network and load nothing from elsewhere.
The pages carry no inline script or style, and a policy of their own keeps them to this
origin: the browser refuses anything a viewer might try to load from another site.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from app.docs.openapi import document

STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/docs/static"
OPENAPI_PATH = "/openapi.json"

# Swagger UI and ReDoc set styles from script (ReDoc writes <style> elements) and ReDoc
# starts its search in a worker made from a blob; nothing else leaves this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; "
    "form-action 'none'"
)


def _page(title: str, element: str, scripts: list[str], stylesheets: list[str]) -> HTMLResponse:
    links = "".join(
        f'<link rel="stylesheet" href="{STATIC_PATH}/{name}">\n' for name in stylesheets
    )
    tags = "".join(f'<script src="{STATIC_PATH}/{name}"></script>\n' for name in scripts)
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
{links}</head>
<body data-openapi-url="{OPENAPI_PATH}">
<div id="{element}"></div>
{tags}</body>
</html>
"""
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def install_docs(app: FastAPI, public_url: str | None) -> None:
    """Serve the OpenAPI document and the two pages that show it."""

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi_document(request: Request) -> JSONResponse:
        # `servers` names this service as the client reached it, unless a public URL is set.
        return JSONResponse(document(app, public_url or str(request.base_url)))

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _page(
            f"{app.title} - API",
            "swagger-ui",
            ["swagger-ui-bundle.js", "swagger-init.js"],
            ["swagger-ui.css"],
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _page(
            f"{app.title} - API reference", "redoc", ["redoc.standalone.js", "redoc-init.js"], []
        )

    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="docs-static")
