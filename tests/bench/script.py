"""Running a benchmark script from a test: bounded, and stopped so that it cleans up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_script(name: str, *arguments: str, timeout: float) -> tuple[int, str, str]:
    """``bench/<name>`` with ``arguments``: its exit status, stdout and stderr.

    Past ``timeout`` seconds it gets SIGTERM (on which every benchmark stops its servers
    and removes its databases and folders) and the test fails with what it printed.
    """
    command = [sys.executable, str(BENCH / name), *arguments]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.terminate()
            stdout, stderr = process.communicate(timeout=90)
            pytest.fail(f"{name} took over {timeout:g} s:\n{stdout}\n{stderr}")
    return process.returncode, stdout, stderr
