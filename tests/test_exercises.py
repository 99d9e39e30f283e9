"""micrograd.exercises: the reference solution passes, each classic mistake injected into it fails the check
that names it, the starter files say "not implemented yet", and bad input gets a clear message"""
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys

import nbclient
import nbformat
import pytest
import torch

from micrograd.exercises import run_checks
from micrograd.exercises.starter import write_starters

REFERENCE = pathlib.Path(__file__).parent / 'exercises_reference'
SOLUTION = (REFERENCE / 'solution.py').read_text(encoding='utf-8')
ALL = list(range(1, 11))

# (mistake's name, the exercise that names it, the reference's line, the line with the mistake)
MUTATIONS = [
    ("= instead of += in a backward", 3, "            self.grad += out.grad\n            other.grad += out.grad",
     "            self.grad = out.grad\n            other.grad = out.grad"),
    ("missing reflected operators", 6, "    def __rmul__(self, other):  # other * self", "    def _rmul(self, other):"),
    ("tanh derivative 1 - t instead of 1 - t**2", 4, "(1 - t**2) * out.grad", "(1 - t) * out.grad"),
    ("backward in creation order", 5, "for node in reversed(topo):", "for node in topo:"),
    ("backward without a visited set", 5, "            elif v not in visited:", "            else:"),
    ("the root's grad not set to 1", 5, "        self.grad = 1.0\n", ""),
    ("forgetting zero_grad in the loop", 8, "        for p in model.parameters():\n            p.grad = 0.0\n", ""),
    ("a number operand not wrapped in a Value", 6,
     "        other = other if isinstance(other, Value) else Value(other)\n        out = Value(self.data + other.data",
     "        out = Value(self.data + other.data"),
    ("__pow__ with a Value exponent", 6, "        if not isinstance(other, (int, float)):\n"
     "            raise TypeError(\"only int or float exponents\")\n        out = Value(self.data ** other",
     "        other = getattr(other, 'data', other)\n        out = Value(self.data ** other"),
    ("parameters in the wrong order", 7, "        return self.w + [self.b]", "        return [self.b] + self.w"),
    ("parameters() missing the bias", 7, "        return self.w + [self.b]", "        return self.w"),
    ("recursion limit in backward", 10, "        while stack:  # build_topo without recursion",
     "        def build_topo(v):\n            if v not in visited:\n                visited.add(v)\n"
     "                for child in v._prev:\n                    build_topo(child)\n                topo.append(v)\n"
     "        build_topo(self)\n        while False:"),
]


def write(tmp_path, text, name='learner.py'):
    path = tmp_path / name
    path.write_text(text, encoding='utf-8')
    return path


def statuses(results):
    return {r['exercise']: r['status'] for r in results}


def test_reference_solution_passes_every_check(tmp_path):
    results = run_checks(path=REFERENCE / 'solution.py')
    assert statuses(results) == {n: 'pass' for n in ALL}, results


def test_filled_notebook_passes_every_check_when_executed_headless():
    book = nbformat.read(REFERENCE / 'solution.ipynb', as_version=4)
    nbclient.NotebookClient(book, timeout=120, kernel_name='python3').execute()
    printed = ''.join(out.get('text', '') for cell in book.cells if cell.cell_type == 'code'
                      for out in cell.outputs)
    assert 'error' not in [out.output_type for cell in book.cells if cell.cell_type == 'code' for out in cell.outputs]
    for n in ALL:
        assert f"exercise {n}: pass" in printed
    assert 'fail' not in printed and 'not implemented' not in printed


@pytest.mark.parametrize("name, exercise, right, wrong", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_each_classic_mistake_fails_the_check_that_names_it(tmp_path, name, exercise, right, wrong):
    assert SOLUTION.count(right) == 1
    path = write(tmp_path, SOLUTION.replace(right, wrong))
    results = run_checks(path=path)
    named = [r for r in results if r.get('mistake') == name]
    assert [r['exercise'] for r in named] == [exercise], results
    r = named[0]
    assert r['status'] == 'fail' and r['hint'] and r['example'] and r['expected'] != r['got']


def test_untouched_starter_says_not_implemented_yet_for_every_exercise(tmp_path):
    write_starters(tmp_path)
    for name in ('exercises.py', 'exercises.ipynb'):
        results = run_checks(path=tmp_path / name)
        assert statuses(results) == {n: 'not implemented yet' for n in ALL}, results
        assert not any('Traceback' in json.dumps(r) for r in results)


def test_starter_notebook_runs_headless_and_prints_not_implemented(tmp_path):
    write_starters(tmp_path)
    book = nbformat.read(tmp_path / 'exercises.ipynb', as_version=4)
    nbclient.NotebookClient(book, timeout=120, kernel_name='python3').execute()
    printed = ''.join(out.get('text', '') for cell in book.cells if cell.cell_type == 'code'
                      for out in cell.outputs)
    assert printed.count('not implemented yet') == 10 and 'Traceback' not in printed


def test_start_refuses_to_overwrite_without_force(tmp_path):
    write_starters(tmp_path)
    (tmp_path / 'exercises.py').write_text("# my work\n")
    with pytest.raises(FileExistsError, match="--force"):
        write_starters(tmp_path)
    assert (tmp_path / 'exercises.py').read_text() == "# my work\n"
    write_starters(tmp_path, force=True)
    assert 'class Value' in (tmp_path / 'exercises.py').read_text()


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, '-m', 'micrograd.exercises', *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_cli_start_then_check_json_end_to_end(tmp_path):
    done = cli('start', tmp_path / 'work')
    assert done.returncode == 0 and 'exercises.ipynb' in done.stdout
    again = cli('start', tmp_path / 'work')
    assert again.returncode == 1 and 'already exists' in again.stderr
    done = cli('check', tmp_path / 'work' / 'exercises.py', '--exercise', '4', '--json')
    assert done.returncode == 1
    assert [(r['exercise'], r['status']) for r in json.loads(done.stdout)] == [(4, 'not implemented yet')]
    done = cli('check', REFERENCE / 'solution.py')
    assert done.returncode == 0 and '10 of 10 passed' in done.stdout


def test_cli_missing_file_is_named(tmp_path):
    done = cli('check', tmp_path / 'nope.py')
    assert done.returncode == 2 and 'no such file' in done.stderr and 'Traceback' not in done.stderr


def test_a_file_that_raises_on_import_is_reported_per_exercise(tmp_path):
    path = write(tmp_path, "x = 1\nraise RuntimeError('half written')\n")
    results = run_checks(path=path, exercise=1)
    assert results[0]['status'] == 'error'
    assert "importing" in results[0]['message'] and "RuntimeError: half written" in results[0]['message']
    assert "line 2" in results[0]['message']


def test_wrong_constructor_is_a_clear_message(tmp_path):
    path = write(tmp_path, SOLUTION.replace("    def __init__(self, nin, nouts):", "    def __init__(self, sizes):"))
    r, = run_checks(path=path, exercise=7)
    assert r['status'] == 'error' and "TypeError" in r['message'] and "__init__()" in r['message']
    assert "MLP(nin, nouts)" in r['message']


def test_an_endless_loop_times_out_and_the_other_checks_still_run(tmp_path):
    endless = "    while True:\n        pass\n    return {'L': 1.0"
    path = write(tmp_path, SOLUTION.replace("    return {'L': 1.0", endless))
    results = run_checks(path=path, timeout=4)
    assert statuses(results) == {n: ('timeout' if n == 2 else 'pass') for n in ALL}


def test_notebook_check_takes_classes_by_name_and_leaves_the_process_alone(capsys):
    namespace = {}
    exec(compile(SOLUTION, 'solution', 'exec'), namespace)
    limit = sys.getrecursionlimit()
    from micrograd.exercises import check
    results = check(exercise=3, **namespace)
    assert statuses(results) == {3: 'pass'}
    assert 'exercise 3: pass' in capsys.readouterr().out
    assert sys.getrecursionlimit() == limit


@pytest.mark.skipif(shutil.which('dot') is None, reason="the dot program is missing (apt-get install graphviz): "
                                                        "the explorer lays graphs out with it")
def test_explain_writes_the_reference_page_beside_the_learners(tmp_path):
    path = write(tmp_path, SOLUTION.replace("(1 - t**2) * out.grad", "(1 - t) * out.grad"))
    r, = run_checks(path=path, exercise=4, explain=tmp_path / 'pages')
    assert r['mistake'] == "tanh derivative 1 - t instead of 1 - t**2" and 'yours.html' in r['explain']
    yours = (tmp_path / 'pages' / 'exercise4' / 'yours.html').read_text(encoding='utf-8')
    reference = (tmp_path / 'pages' / 'exercise4' / 'reference.html').read_text(encoding='utf-8')
    wrong = repr(1 - math.tanh(math.atanh(2 ** -0.5)))  # n.grad with 1 - t, as the learner's backward gives
    assert wrong[:8] in yours and wrong[:8] not in reference
    assert repr(1 - 0.5) in reference  # n.grad = 1 - o**2 = 0.5, the lecture's


def test_explain_without_dot_says_what_to_install(monkeypatch, tmp_path):
    from micrograd.exercises import explain
    monkeypatch.setattr(explain.shutil, 'which', lambda name: None)
    message = explain.write_pages(tmp_path, None, None)
    assert "Graphviz's dot" in message and "install graphviz" in message
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_calls_check_on_import_runs_each_check_once(tmp_path):
    path = write(tmp_path, SOLUTION + "\ncheck(**globals())\n")
    results = run_checks(path=path, exercise=1)
    assert statuses(results) == {1: 'pass'}


def test_an_error_names_the_learners_line_not_the_checkers(tmp_path):
    path = write(tmp_path, SOLUTION.replace("        t = math.tanh(self.data)\n", "        t = math.tanh(self.dta)\n"))
    r, = run_checks(path=path, exercise=4)
    assert r['status'] == 'error' and "AttributeError" in r['message']
    assert "learner.py" in r['message'] and "self.dta" in r['message']


def test_checker_runs_without_torch(tmp_path):
    # sitecustomize runs first: a None in sys.modules makes `import torch` fail as if absent
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(REFERENCE.parent.parent)]))
    done = subprocess.run([sys.executable, '-m', 'micrograd.exercises', 'check', str(REFERENCE / 'solution.py')],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and '10 of 10 passed' in done.stdout, done.stderr


def test_expected_numbers_match_torch_float64():
    from micrograd.exercises import checks
    from micrograd.losses import cross_entropy
    leaves, o = checks.lecture_neuron(checks.Ours)
    o.backward()
    t = {k: torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for k, v in leaves.items()}
    ot = (t['x1'] * t['w1'] + t['x2'] * t['w2'] + checks.NEURON_B).tanh()
    ot.backward()
    assert o.data == pytest.approx(ot.item(), rel=1e-12)
    for k, v in leaves.items():
        assert v.grad == pytest.approx(t[k].grad.item(), rel=1e-12, abs=1e-15)
    logits = [checks.Ours(v) for v in (2.0, -1.0, 0.5)]
    loss = cross_entropy([logits], [2])
    loss.backward()
    lt = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(lt[None], torch.tensor([2]))
    loss_t.backward()
    assert loss.data == pytest.approx(loss_t.item(), rel=1e-12)
    assert [v.grad for v in logits] == pytest.approx(lt.grad.tolist(), rel=1e-12, abs=1e-15)


def test_filled_notebook_is_the_reference_solution_py():
    from micrograd.exercises.starter import notebook
    assert json.loads((REFERENCE / 'solution.ipynb').read_text(encoding='utf-8')) == notebook(SOLUTION)
