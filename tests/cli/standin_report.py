"""`smm` with a stand-in for the PDF renderer, for the `smm report --all` process tests.

Run as ``python -m tests.cli.standin_report report --all ...``: everything is the real
command (database, selection, render pool and its processes, report cache, files, progress)
except the WeasyPrint call. The stand-in sleeps ``STANDIN_RENDER_SECONDS`` (default 0.2),
fails for an organization whose name holds "Broken", and, when ``STANDIN_MARKS`` names a
directory, leaves a file there per render with its process id and start and end times.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from app import cli
from app.exports import bulk


def standin_pdf(html: str) -> bytes:
    """A stand-in PDF whose bytes depend on the document, after a render-like pause."""
    marks = os.environ.get("STANDIN_MARKS")
    digest = hashlib.sha256(html.encode()).hexdigest()
    mark = Path(marks) / f"{digest[:16]}-{os.getpid()}" if marks else None
    started = time.time()
    if mark is not None:
        mark.write_text(f"{os.getpid()} {started}\n")
    time.sleep(float(os.environ.get("STANDIN_RENDER_SECONDS", "0.2")))
    if "Broken" in html:
        raise ValueError("this document cannot be laid out")
    if mark is not None:
        mark.write_text(f"{os.getpid()} {started} {time.time()}\n")
    return b"%PDF-1.7 stand-in " + digest.encode()


if __name__ == "__main__":
    # By its importable name, so the render process can unpickle it.
    from tests.cli.standin_report import standin_pdf as importable

    bulk.render_pdf = importable
    cli.main()
