"""`smm worker` with a quick stand-in for the PDF renderer, for the queue-semantics tests.

Run as ``python -m tests.jobs.quick_worker worker ...``: everything is the real worker
(queue, claims, retries, render processes with their limits, report cache) except the
WeasyPrint call, which takes a quarter of a second instead of seconds, so a burst of
dozens of jobs stays quick on a busy machine. One test renders real PDFs.
"""

from __future__ import annotations

import hashlib
import time

from app import cli
from app.jobs import worker


def quick_pdf(html: str) -> bytes:
    """A stand-in PDF whose bytes depend on the document, after a render-like pause."""
    time.sleep(0.25)
    return b"%PDF-1.7 stand-in " + hashlib.sha256(html.encode()).hexdigest().encode()


if __name__ == "__main__":
    # By its importable name, so the render process can unpickle it.
    from tests.jobs.quick_worker import quick_pdf as importable

    worker.render_pdf = importable
    cli.main()
