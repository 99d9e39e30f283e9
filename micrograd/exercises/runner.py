"""run each check in a child process with a timeout, so a learner's loop or crash stops only that check"""
import importlib.util
import multiprocessing
import pathlib
import sys
import traceback

from micrograd.exercises.checks import EXERCISES, Mistake, NotImplementedYet

NAMES = ('Value', 'Neuron', 'Layer', 'MLP', 'manual_grads', 'train', 'softmax_cross_entropy')
TIMEOUT = 10.0
SIGNATURES = ("Value(data, _children=(), _op='', label=''), Neuron(nin), Layer(nin, nout), MLP(nin, nouts), "
              "manual_grads(), train(model, xs, ys, steps, lr), softmax_cross_entropy(logits, target)")


def load(path):
    """the learner's names from their .py file (a notebook's code cells, for .ipynb)"""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix == '.ipynb':
        import json
        cells = json.loads(path.read_text(encoding='utf-8'))['cells']
        source = '\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'code'
                           and 'check(' not in ''.join(c['source']))
        namespace = {'__name__': 'exercises'}
        exec(compile(source, str(path), 'exec'), namespace)
        return namespace
    spec = importlib.util.spec_from_file_location('exercises', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


PACKAGE = pathlib.Path(__file__).resolve().parent.parent
_inside_a_check = False  # set in each check's child: a learner's file that calls check() on import runs none


def _where(error):
    """the learner's last line in the traceback, not ours"""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if PACKAGE not in pathlib.Path(f.filename).resolve().parents]
    if not frames:
        return ""
    return f" (at {pathlib.Path(frames[-1].filename).name}, line {frames[-1].lineno}: {frames[-1].line})"


def _run_one(number, names, path, explain=None):
    fn = EXERCISES[number - 1]
    result = {'exercise': number, 'title': fn.__doc__.split('. ', 1)[1]}
    try:
        if path is not None:
            try:
                names = load(path)
            except Exception as e:
                message = f"importing {path} raised {type(e).__name__}: {e}{_where(e)}"
                return dict(result, status='error', message=message)
        fn({k: names.get(k) for k in NAMES})
        return dict(result, status='pass')
    except (NotImplementedYet, NotImplementedError) as e:
        return dict(result, status='not implemented yet', message=str(e) or None)
    except Mistake as m:
        result = dict(result, status='fail', mistake=m.name, example=m.example, expected=repr(m.expected),
                      got=repr(m.got), hint=m.hint)
        if explain is not None and m.graphs is not None:
            from micrograd.exercises.explain import write_pages
            result['explain'] = write_pages(pathlib.Path(explain) / f'exercise{number}', *m.graphs)
        return result
    except Exception as e:
        where = _where(e)
        if isinstance(e, TypeError) and not where:  # raised calling the learner's code: a signature
            where = f"; the checks call the lecture's signatures: {SIGNATURES}"
        return dict(result, status='error', message=f"your code raised {type(e).__name__}: {e}{where}")


def _child(conn, number, names, path, explain):
    global _inside_a_check
    _inside_a_check = True
    conn.send(_run_one(number, names, path, explain))
    conn.close()


def run_checks(path=None, names=None, exercise=None, timeout=TIMEOUT, explain=None):
    """one result dict per exercise; each check runs in a forked child with `timeout` seconds

    explain: a directory; a wrong gradient there gets exerciseN/reference.html and yours.html,
    the explorer's pages of the reference graph and the learner's
    """
    numbers = [exercise] if exercise else range(1, len(EXERCISES) + 1)
    if exercise is not None and not 1 <= exercise <= len(EXERCISES):
        raise ValueError(f"there are exercises 1 to {len(EXERCISES)}, got {exercise}")
    if 'fork' not in multiprocessing.get_all_start_methods():
        raise RuntimeError("the checks run each exercise in a forked process, "
                           "which this system lacks (use Linux or macOS)")
    context = multiprocessing.get_context('fork')
    results = []
    for number in numbers:
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(send, number, names or {}, path, explain), daemon=True)
        child.start()
        send.close()
        if receive.poll(timeout):
            try:
                results.append(receive.recv())
            except EOFError:
                results.append(_lost(number, "the check's process ended without a result"))
        else:
            results.append(_lost(number, f"no result after {timeout:g} s: an endless loop?", 'timeout'))
        child.join(1)
        if child.is_alive():
            child.kill()
            child.join()
        receive.close()
    return results


def _lost(number, message, status='error'):
    title = EXERCISES[number - 1].__doc__.split('. ', 1)[1]
    return {'exercise': number, 'title': title, 'status': status, 'message': message}


def report(results, file=None):
    """the results as a learner reads them"""
    file = file or sys.stdout
    for r in results:
        print(f"exercise {r['exercise']}: {r['status']} - {r['title'].splitlines()[0]}", file=file)
        if r['status'] == 'fail':
            print(f"    mistake: {r['mistake']}\n    example: {r['example']}\n    expected: {r['expected']}\n"
                  f"    got: {r['got']}\n    hint: {r['hint']}", file=file)
            if r.get('explain'):
                print(f"    explain: {r['explain']}", file=file)
        elif r.get('message'):
            print(f"    {r['message']}", file=file)
    done = sum(r['status'] == 'pass' for r in results)
    print(f"{done} of {len(results)} passed", file=file)


def check(exercise=None, timeout=TIMEOUT, explain=None, **names):
    """run the checks on the classes and functions passed by name: check(Value=Value, MLP=MLP, ...)

    Names the checks do not use are ignored, so check(**globals()) works in a notebook. Prints the
    results and returns them (one dict per exercise).
    """
    if _inside_a_check:
        return []
    results = run_checks(names={k: v for k, v in names.items() if k in NAMES}, exercise=exercise, timeout=timeout,
                         explain=explain)
    report(results)
    return results
