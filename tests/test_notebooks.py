import pathlib
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob('*.ipynb'))  # every notebook at the top, so a new one is run too


def test_the_notebooks_are_found():
    # an empty glob would leave the test below with nothing to run, and pass by running nothing
    assert ROOT / 'trace_graph.ipynb' in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path):
    if "draw_dot" in path.read_text(encoding="utf-8") and shutil.which("dot") is None:
        pytest.skip(f"the dot program is missing (apt-get install graphviz): {path.name} renders graphs")
    nb = nbformat.read(path, as_version=4)
    # the kernel starts in the repo root, so `import micrograd` finds this checkout even uninstalled;
    # timeout is per cell, generous for a slow machine, short of a hang
    client = NotebookClient(nb, timeout=600, kernel_name='python3',
                            resources={'metadata': {'path': str(ROOT)}})
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
