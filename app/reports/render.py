"""Report view -> HTML (Jinja2) -> PDF (WeasyPrint), fetching nothing but template assets.

``render_pdf`` is a plain function of its HTML string, importable in a fresh process,
so a caller can run it in a worker with time and memory limits. The URL fetcher serves
files under ``report_templates/`` and ``data:`` URIs and refuses everything else: no
network, no other file, whatever the HTML asks for.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from app.config import PROJECT_ROOT
from app.reports.view import ReportView

TEMPLATES_DIR = PROJECT_ROOT / "report_templates"
TEMPLATE_NAME = "report.html"
STYLESHEET_NAME = "report.css"
_BASE_URL = TEMPLATES_DIR.resolve().as_uri() + "/"
PDF_VARIANT = "pdf/ua-1"

_CONTENT_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}


class RefusedURL(ValueError):
    """The report asked for a resource it may not have (network, or a file elsewhere)."""


class TemplateAssetFetcher(URLFetcher):  # type: ignore[misc]
    """Serves files under one directory and ``data:`` URIs; refuses every other URL.

    WeasyPrint turns a refusal into a logged warning and leaves the resource out.
    """

    def __init__(self, root: Path = TEMPLATES_DIR) -> None:
        # Only the data: handler of the parent is ever used; the rest is belt and braces.
        super().__init__(timeout=1, allowed_protocols=("data",), allow_redirects=False)
        self.root = root.resolve(strict=True)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """The resource at ``url``, or RefusedURL."""
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = self.asset_path(url)
            content_type = _CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
            return URLFetcherResponse(
                path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type}
            )
        raise RefusedURL(f"the report may not fetch {_shorten(url)}")

    def asset_path(self, url: str) -> Path:
        """The file a ``file:`` URL names, if it is a regular file under the root."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise RefusedURL(f"not a local file URL: {_shorten(url)}")
        if parts.query:
            raise RefusedURL(f"a template asset has no query string: {_shorten(url)}")
        raw = Path(unquote(parts.path))
        if not raw.is_absolute():
            raise RefusedURL(f"not an absolute file URL: {_shorten(url)}")
        try:
            # resolve() follows every symlink and '..', so the check below sees the real file.
            path = raw.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise RefusedURL(f"no such template asset: {_shorten(url)}") from exc
        if not path.is_relative_to(self.root) or not path.is_file():
            raise RefusedURL(f"only files under {self.root.name}/ are served: {_shorten(url)}")
        return path


def _shorten(url: str) -> str:
    return url if len(url) <= 120 else url[:100] + "…"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(view: ReportView) -> str:
    """The report as an HTML document (autoescaped; unknown names are errors)."""
    return _environment().get_template(TEMPLATE_NAME).render(report=view)


@cache
def report_stylesheet() -> weasyprint.CSS:
    """report.css, parsed once per process: a render process renders many reports, and
    parsing the stylesheet again for each cost a few per cent of every render."""
    return weasyprint.CSS(
        filename=str(TEMPLATES_DIR / STYLESHEET_NAME),
        base_url=_BASE_URL,
        url_fetcher=TemplateAssetFetcher(),
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block; the collector's setting after it.

    A render builds some 400,000 objects (the document tree, its styles, boxes and
    pages), nearly all of which live until it ends. Each collection during the render
    therefore frees next to nothing and walks a heap that keeps growing (5-16 % of a
    render's CPU, bench/README.md). With the collector paused, the render's garbage is
    freed in one pass after it (``gc.collect``), or never walked at all by a render
    process that exits.
    The render's peak memory is the same either way: its objects are alive until the end.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def render_pdf(html: str) -> bytes:
    """The HTML as a tagged PDF/UA-1 document, styled by report.css; assets come from
    report_templates/ only. The cyclic garbage collector is paused while it renders."""
    with collector_paused():
        document = weasyprint.HTML(
            string=html, base_url=_BASE_URL, url_fetcher=TemplateAssetFetcher()
        )
        pdf = document.write_pdf(
            stylesheets=[report_stylesheet()], pdf_variant=PDF_VARIANT, pdf_tags=True
        )
    if not isinstance(pdf, bytes):  # pragma: no cover - write_pdf returns bytes without a target
        raise TypeError("WeasyPrint returned no PDF")
    return pdf


def template_version() -> str:
    """A hash of everything that shapes the PDF: templates, this package's code, WeasyPrint.

    It changes whenever a rendered report could change, so it belongs in the cache key.
    """
    digest = hashlib.sha256()
    sources = [
        ("report_templates", TEMPLATES_DIR),
        ("app/reports", Path(__file__).resolve().parent),
    ]
    for label, root in sources:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.suffix in (".pyc", ".pyo") or "__pycache__" in path.parts:
                continue
            name = f"{label}/{path.relative_to(root).as_posix()}"
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"weasyprint/{weasyprint.__version__}".encode())
    return digest.hexdigest()
