"""bench/bench_prerender.py end to end: a real `smm serve`, a form submit and its PDF.

One round on one server, so that the benchmark's figures stay a measurement: the results
page must go from "preparing" to "ready" through the embedded runner, and the download
must then come from the cache.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
def test_one_round_goes_from_preparing_to_ready_and_a_cached_download() -> None:
    command = [sys.executable, str(BENCH / "bench_prerender.py"), "--rounds=1", "--skip-door"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            process.terminate()  # the script stops its server and removes its folder
            stdout, stderr = process.communicate(timeout=60)
            pytest.fail(f"one round took over 300 s:\n{stdout}\n{stderr}")

    assert process.returncode == 0, f"{stdout}\n{stderr}"
    row = re.search(r"^1\s+\d[\d,]*\s+([\d,]+)\s+([\d,]+)\s+[\d,]+\s+(.+)$", stdout, re.M)
    assert row is not None, stdout
    until_ready, download = (int(v.replace(",", "")) for v in row.groups()[:2])
    assert row[3].strip() == "preparing -> ready"
    # The render happened before the download, which was served from the cache: far
    # quicker than the render it did not have to wait for.
    assert download < until_ready, stdout
