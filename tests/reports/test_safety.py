"""Rendering fetches nothing: hostile text shows as text, and the URL fetcher refuses.

Markup that reaches the report through an organization's name, a free-text answer or
the consultant's notes is escaped, so it prints literally. Behind that, the URL fetcher
only serves report_templates/ and data: URIs, so even markup that slipped through
could not read a file or reach the network.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.reports.render import TEMPLATES_DIR, RefusedURL, TemplateAssetFetcher, render_pdf
from app.reports.view import OrganizationInfo
from tests.reports.conftest import flat_text, render, report_case, weasyprint_warnings


class Listener:
    """An HTTP server on 127.0.0.1 (random port) that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorded.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join()


def hostile(listener: Listener) -> str:
    return (
        '<img src="file:///etc/passwd">'
        '<link rel="attachment" href="file:///etc/passwd">'
        f"<style>@font-face{{font-family:x;src:url({listener.url('f')})}} "
        f"body{{background:url({listener.url('b')})}}</style>"
        f'<svg><image href="{listener.url("i")}"/></svg> '
        f"{listener.url('x')}"
    )


def embedded_files(reader: PdfReader) -> list[object]:
    names = reader.trailer["/Root"].get("/Names", {})
    found: list[object] = list(names.get("/EmbeddedFiles", {}).get("/Names", []))
    for page in reader.pages:
        for annotation in page.get("/Annots", []) or []:
            if annotation.get_object().get("/Subtype") == "/FileAttachment":
                found.append(annotation)
    return found


def images(reader: PdfReader) -> list[object]:
    return [image for page in reader.pages for image in page.images]


def test_markup_in_names_answers_and_notes_prints_as_text_and_fetches_nothing(
    listener: Listener,
) -> None:
    attack = hostile(listener)
    case = report_case(
        "community-hospital",
        OrganizationInfo(f"Mercy {attack} Hospital", "community_hospital", 60, "MN"),
        notes=f"Notes {attack}",
        answer_overrides={"se_anything_else": f"Answer {attack}"},
    )

    report = render(case)
    reader = report.reader
    text = flat_text(reader)

    assert listener.requests == []
    assert embedded_files(reader) == []
    assert images(reader) == []
    assert text.count('<img src="file:///etc/passwd">') >= 3  # name, answer and notes
    assert '<link rel="attachment"' in text
    assert "root:x:0:0" not in text
    assert "<img src=" in (reader.metadata.title or "")
    assert [r.getMessage() for r in report.warnings] == []


def test_markup_that_bypasses_the_template_is_still_not_fetched(listener: Listener) -> None:
    # As if a template printed untrusted text with |safe: the fetcher is the last line.
    html = (
        f'<html lang="en-US"><head><title>t</title></head><body>{hostile(listener)}</body></html>'
    )

    with weasyprint_warnings() as warnings:
        pdf = render_pdf(html)
    reader = PdfReader(BytesIO(pdf))

    assert listener.requests == []
    assert embedded_files(reader) == []
    assert images(reader) == []
    assert "root:x:0:0" not in flat_text(reader)
    refused = " ".join(r.getMessage() for r in warnings)
    assert "file:///etc/passwd" in refused
    assert listener.url("b") in refused


def test_the_fetcher_serves_template_assets() -> None:
    fetcher = TemplateAssetFetcher()

    response = fetcher.fetch((TEMPLATES_DIR / "report.css").as_uri())

    assert response.read() == (TEMPLATES_DIR / "report.css").read_bytes()
    assert response.content_type == "text/css"
    response.close()
    logo = fetcher.fetch((TEMPLATES_DIR / "logo.svg").as_uri())
    assert logo.content_type == "image/svg+xml"
    logo.close()


def test_the_fetcher_serves_data_uris() -> None:
    response = TemplateAssetFetcher().fetch("data:text/plain;base64,aGVsbG8=")

    assert response.read() == b"hello"
    response.close()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://attacker.example/etc/passwd",
        TEMPLATES_DIR.as_uri() + "/../pyproject.toml",
        TEMPLATES_DIR.as_uri() + "/%2e%2e/pyproject.toml",
        TEMPLATES_DIR.as_uri() + "/report.css?x=1",
        TEMPLATES_DIR.as_uri() + "/no-such-file.css",
        TEMPLATES_DIR.as_uri() + "/",
        "https://example.com/font.woff2",
        "ftp://example.com/x",
        "javascript:alert(1)",
        "//example.com/x",
        "report.css",
    ],
)
def test_the_fetcher_refuses_everything_else(url: str) -> None:
    with pytest.raises(RefusedURL):
        TemplateAssetFetcher().fetch(url)


def test_the_fetcher_refuses_http_without_connecting(listener: Listener) -> None:
    with pytest.raises(RefusedURL):
        TemplateAssetFetcher().fetch(listener.url("x"))

    assert listener.requests == []


def test_the_fetcher_refuses_symlinks_that_leave_the_root(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "inside.css").write_text("p {}")
    (root / "leak.css").symlink_to(secret)
    (root / "alias.css").symlink_to(root / "inside.css")
    fetcher = TemplateAssetFetcher(root)

    with pytest.raises(RefusedURL):
        fetcher.fetch((root / "leak.css").as_uri())
    response = fetcher.fetch((root / "alias.css").as_uri())  # a link that stays inside is fine
    assert response.read() == b"p {}"
    response.close()
