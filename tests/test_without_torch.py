"""Without torch installed, the tests that don't need it still run, and the run says why the others fail."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_missing_torch_fails_only_the_files_that_need_it(tmp_path):
    # sitecustomize runs before pytest: a None in sys.modules makes `import torch` fail as if absent
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_packaging.py", "tests/test_engine.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(tmp_path)})
    out = proc.stdout
    assert proc.returncode != 0, out           # the torch tests fail, they do not skip
    assert "ERROR tests/test_engine.py" in out  # ... at import
    assert " passed" in out                    # while test_packaging.py still ran
    assert "pip install torch==2.13.0" in out  # and the run says what to do
