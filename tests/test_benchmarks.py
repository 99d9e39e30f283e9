"""benchmarks/run.py --quick: the script runs every implementation and writes its table and chart."""
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_quick_run_writes_table_and_chart(tmp_path):
    # the original's venv is created under benchmarks/.cache on the first run (pip install
    # micrograd==0.1.0 from PyPI) and reused after: the run prints which it did
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "original: reusing" in proc.stdout or "original: creating" in proc.stdout
    table = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert table in proc.stdout   # printed and written
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    for impl in ["ours", "original 0.1.0", "torch, scalar", "torch, batched", "ours, compiled"]:
        assert any(f"| {impl} |" in row for row in rows), impl
    # the original's recursive backward fails on a chain of 1000 nodes; ours does not
    assert any("chain of 1e3" in r and "| original 0.1.0 | fails: RecursionError" in r for r in rows)
    assert any("chain of 1e4" in r and "| ours |" in r and "fails:" not in r for r in rows)
    # every implementation computes the same demo loss (the last column), to the printed digits
    demo = {row.split(" | ")[-1] for row in rows if "the demo's" in row}
    assert len(demo) == 1, demo
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
