"""In CI (.ci/run sets MICROGRAD_NO_SKIPS=1) a skipped test fails the run; elsewhere a skip is only reported."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(tmp_path, no_skips):
    # a test file outside tests/, run with this repository's conftest as its plugin
    (tmp_path / "test_one_skip.py").write_text(
        "import pytest\n\n\ndef test_runs():\n    pass\n\n\n"
        "def test_skips():\n    pytest.skip('the frobnicate program is missing')\n")
    env = {k: v for k, v in os.environ.items() if k != "MICROGRAD_NO_SKIPS"}
    if no_skips:
        env["MICROGRAD_NO_SKIPS"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "conftest",
                           "-rs", str(tmp_path / "test_one_skip.py")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONPATH": str(ROOT / "tests")})


def test_a_skip_passes_outside_ci_and_says_why(tmp_path):
    proc = run_pytest(tmp_path, no_skips=False)
    assert proc.returncode == 0, proc.stdout
    assert "the frobnicate program is missing" in proc.stdout


def test_a_skip_fails_the_run_in_ci(tmp_path):
    proc = run_pytest(tmp_path, no_skips=True)
    assert proc.returncode == 1, proc.stdout
    assert "1 passed, 1 skipped" in proc.stdout
    assert "MICROGRAD_NO_SKIPS=1: 1 test(s) skipped" in proc.stdout
