"""the starter files: template.py as it is, and as a notebook (its `# %%` markers make the cells)"""
import json
import pathlib
import re

TEMPLATE = pathlib.Path(__file__).with_name('template.py')
CHECK_CALL = "check(exercise={n}, **globals())  # checks the names defined so far"


def notebook(source):
    """a notebook from `# %%` cells: markdown cells lose their '# ', a `# %% check: 1, 3` cell runs those checks"""
    cells = []
    for header, body in re.findall(r'^# %%([^\n]*)\n(.*?)(?=^# %%|\Z)', source, re.S | re.M):
        body = body.strip('\n')
        if header.strip() == '[markdown]':
            text = '\n'.join(re.sub(r'^# ?', '', line) for line in body.splitlines())
            cells.append({'id': f'cell-{len(cells)}', 'cell_type': 'markdown', 'metadata': {}, 'source': text})
            continue
        if header.startswith(' check:'):
            numbers = [int(n) for n in header.split(':')[1].split(',')]
            body = '\n'.join(CHECK_CALL.format(n=n) for n in numbers)
        cells.append({'id': f'cell-{len(cells)}', 'cell_type': 'code', 'metadata': {}, 'execution_count': None,
                      'outputs': [], 'source': body})
    return {'cells': cells, 'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'Python 3',
                                                        'language': 'python'}},
            'nbformat': 4, 'nbformat_minor': 5}


def write_starters(directory, force=False, source=None):
    """write exercises.ipynb and exercises.py into directory; existing files are kept unless force"""
    directory = pathlib.Path(directory)
    source = TEMPLATE.read_text(encoding='utf-8') if source is None else source
    files = {directory / 'exercises.py': source,
             directory / 'exercises.ipynb': json.dumps(notebook(source), indent=1) + '\n'}
    existing = [str(p) for p in files if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{', '.join(existing)} already exists; pass --force to overwrite")
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding='utf-8')
    return list(files)
