"""benchmarks/run.py --quick: the script runs every implementation and writes its table and chart.

No package registry is needed: the quick run skips the original (--no-original), and the path
that runs the original is tested only where its virtual environment is already in
benchmarks/.cache (made by a full run), so nothing is downloaded.
"""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch  # noqa: F401  the torch rows need it: a missing torch fails here, it does not skip

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
RUN = BENCHMARKS / "run.py"
ORIGINAL_VENV = BENCHMARKS / ".cache" / "venv-orig"


def quick_run(tmp_path, *flags):
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--out", str(tmp_path), *flags],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    table = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert table in proc.stdout   # printed and written
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    return proc.stdout, rows


def test_quick_run_without_the_original_writes_table_and_chart(tmp_path):
    stdout, rows = quick_run(tmp_path, "--no-original")
    assert "original: skipped (--no-original)" in stdout
    for impl in ["ours", "torch, scalar", "torch, batched", "ours, compiled"]:
        assert any(f"| {impl} |" in row for row in rows), impl
    assert not any("| original 0.1.0 |" in row for row in rows)
    assert any("chain of 1e4" in r and "| ours |" in r and "fails:" not in r for r in rows)
    # every implementation computes the same demo loss and the same softmax loss (the last
    # column), to the printed digits
    for workload in ("the demo's", "softmax classifier"):
        results = {row.split(" | ")[-1] for row in rows if workload in row}
        assert len(results) == 1, (workload, results)
    assert sum("softmax classifier" in row for row in rows) == 3


@pytest.mark.skipif(not ORIGINAL_VENV.exists(),
                    reason="the original's venv is not in benchmarks/.cache (a full run makes it from "
                           "PyPI); this test does not download it")
def test_quick_run_with_the_cached_original(tmp_path):
    stdout, rows = quick_run(tmp_path)
    assert "original: reusing" in stdout
    # the original's recursive backward fails on a chain of 1000 nodes; ours does not
    assert any("chain of 1e3" in r and "| original 0.1.0 | fails: RecursionError" in r for r in rows)
    demo = {row.split(" | ")[-1] for row in rows if "the demo's" in row}
    assert len(demo) == 1, demo


def test_the_readmes_speed_numbers_are_the_committed_runs():
    """every time and size the README's Speed section gives is a median of benchmarks/results.md"""
    readme = (BENCHMARKS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Speed\n")[1].split("\n## ")[0]
    medians = {line.split(" | ")[3] for line in (BENCHMARKS / "results.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| ") and "---" not in line and len(line.split(" | ")) > 4}
    quoted = re.findall(r"\d[\d.]* (?:s|ms|µs|B)\b", section)
    assert len(quoted) >= 8, quoted
    assert [q for q in quoted if q not in medians] == []
