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
    assert 'explore(o' in (ROOT / 'trace_graph.ipynb').read_text(encoding='utf-8')  # its check below runs


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path):
    text = path.read_text(encoding="utf-8")
    if ("draw_dot" in text or "explore(" in text) and shutil.which("dot") is None:
        pytest.skip(f"the dot program is missing (apt-get install graphviz): {path.name} lays out graphs")
    nb = nbformat.read(path, as_version=4)
    # the kernel starts in the repo root, so `import micrograd` finds this checkout even uninstalled;
    # timeout is per cell, generous for a slow machine, short of a hang
    client = NotebookClient(nb, timeout=600, kernel_name='python3',
                            resources={'metadata': {'path': str(ROOT)}})
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    for cell in nb.cells:
        if cell.cell_type == 'code' and cell.source.lstrip().startswith('explore('):
            # the explorer shows inline: its whole page in a sandboxed frame, one output, no error
            (output,) = cell.outputs
            assert output['data']['text/html'].startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
