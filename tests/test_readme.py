"""README.md stays true: its Python examples run and print what their comments say; CI runs its test command."""
import contextlib
import io
import pathlib
import re
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README, re.S)


def test_readme_opens_with_the_demo_and_test_commands():
    demo, tests = BASH_BLOCKS[0].strip(), BASH_BLOCKS[1].strip()
    assert demo.endswith("python -m micrograd.demo")
    assert "torch==2.13.0" in tests and tests.endswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci  # CI runs the README's test command exactly as written


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))])
def test_readme_example_prints_what_it_says(block, tmp_path, monkeypatch):
    if "render(" in block and shutil.which("dot") is None:
        pytest.skip("the dot program is missing (apt-get install graphviz): this example renders a graph")
    monkeypatch.chdir(tmp_path)  # examples that save files write them here
    monkeypatch.syspath_prepend(str(ROOT))
    expected = [line.strip() for line in re.findall(r"# prints (.*)", block)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    printed = [line.strip() for line in out.getvalue().splitlines()]
    # every "# prints X" comment is a whole line of output, in order
    assert [line for line in printed if line in expected] == expected
