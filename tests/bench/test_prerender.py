"""bench/bench_prerender.py end to end: a real `smm serve`, a form submit and its PDF.

One round on one server, so that the benchmark's figures stay a measurement: the results
page must go from "preparing" to "ready" through the embedded runner, and the download
must then come from the cache.
"""

from __future__ import annotations

import re

import pytest

from tests.bench.script import run_script


@pytest.mark.slow
def test_one_round_goes_from_preparing_to_ready_and_a_cached_download() -> None:
    returncode, stdout, stderr = run_script(
        "bench_prerender.py", "--rounds=1", "--skip-door", timeout=300
    )

    assert returncode == 0, f"{stdout}\n{stderr}"
    row = re.search(r"^1\s+\d[\d,]*\s+([\d,]+)\s+([\d,]+)\s+[\d,]+\s+(.+)$", stdout, re.M)
    assert row is not None, stdout
    until_ready, download = (int(v.replace(",", "")) for v in row.groups()[:2])
    assert row[3].strip() == "preparing -> ready"
    # The render happened before the download, which was served from the cache: far
    # quicker than the render it did not have to wait for.
    assert download < until_ready, stdout
