import io
import math
import os
import re
import signal
import subprocess
import sys

import matplotlib.image
import pytest
import torch
from sklearn.datasets import make_moons

from micrograd.demo import Diverged, Progress, main, moons_loss, moving_average, moving_window, train
from micrograd.nn import MLP
from micrograd.optim import SGD

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def run_demo(*args, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get('PYTHONPATH')])))
    return subprocess.run([sys.executable, '-m', 'micrograd.demo', *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def saved_paths(stdout, cwd):
    return [os.path.join(cwd, p) for p in re.findall(r'^saved (.+)$', stdout, re.M)]


def final_accuracy(stdout):
    return float(re.search(r'^final accuracy: ([\d.]+)%', stdout, re.M).group(1)) / 100


def assert_valid_png(path, width, height):
    with open(path, 'rb') as f:
        assert f.read(8) == PNG_SIGNATURE
    assert matplotlib.image.imread(path).shape[:2] == (height, width)


def test_cli_trains_moons_and_saves_both_plots(tmp_path):
    result = run_demo('--steps', '3', '--out', 'plots', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # stdout is a pipe, not a terminal: one plain line per step
    assert re.findall(r'^step (\d+)/3 loss [\d.]+ accuracy [\d.]+%$', result.stdout, re.M) == ['1', '2', '3']
    assert 0 <= final_accuracy(result.stdout) <= 1
    paths = saved_paths(result.stdout, tmp_path)
    assert [os.path.relpath(p, tmp_path) for p in paths] == [os.path.join('plots', 'moons_boundary.png'),
                                                              os.path.join('plots', 'moons_loss.png')]
    assert_valid_png(paths[0], 600, 500)
    assert_valid_png(paths[1], 600, 400)


def test_cli_lecture_task_fits_the_four_samples(tmp_path):
    result = run_demo('--task', 'lecture', '--steps', '50', '--out', str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'final accuracy: 100.0% (4/4 samples)' in result.stdout
    paths = saved_paths(result.stdout, tmp_path)
    assert [os.path.basename(p) for p in paths] == ['lecture_loss.png']
    assert_valid_png(paths[0], 600, 400)


def test_cli_bad_argument_exits_2_with_usage(tmp_path):
    result = run_demo('--steps', '-5', cwd=tmp_path)
    assert result.returncode == 2
    assert 'usage: micrograd-demo' in result.stderr
    assert "argument --steps: expected a positive integer, got -5" in result.stderr
    assert not os.path.exists(tmp_path / 'out')


@pytest.mark.parametrize("argv, message", [
    (['--steps', '0'], "argument --steps: expected a positive integer, got 0"),
    (['--steps', 'ten'], "argument --steps: expected a positive integer, got 'ten'"),
    (['--seed', '1.5'], "argument --seed: expected an integer from 0 to 2**32 - 1, got '1.5'"),
    (['--seed', '-1'], "argument --seed: expected an integer from 0 to 2**32 - 1, got -1"),
    (['--optimizer', 'rmsprop'], "argument --optimizer: invalid choice: 'rmsprop'"),
    (['--task', 'mnist'], "argument --task: invalid choice: 'mnist'"),
    (['--lr', '-1'], "argument --lr: expected a positive number, got -1"),
    (['--lr', 'nan'], "argument --lr: expected a positive number, got nan"),
    (['--batch-size', '0'], "argument --batch-size: expected a positive integer, got 0"),
    (['--batch-size', '101'], "argument --batch-size: at most 100 for the moons task, got 101"),
    (['--task', 'lecture', '--batch-size', '5'], "at most 4 for the lecture task, got 5"),
    (['--bogus'], "unrecognized arguments: --bogus"),
    (['--out', __file__], "argument --out: " + repr(__file__) + " exists and is not a folder"),
])
def test_bad_arguments_are_argparse_errors(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / 'out')  # refused before the output folder is made


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(['--help'])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ['--task', '--steps', '--seed', '--optimizer', '--lr', '--batch-size', '--out']:
        assert option in out


@pytest.mark.parametrize("blocked, package", [("sklearn", "scikit-learn"), ("matplotlib", "matplotlib")])
def test_missing_extra_says_how_to_install_it(blocked, package, tmp_path):
    # None in sys.modules makes the import fail as if the package were not installed
    code = f"import sys; sys.modules[{blocked!r}] = None; from micrograd.demo import main; main([])"
    env = dict(os.environ, PYTHONPATH=REPO)
    result = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert f"micrograd-demo needs {package}: pip install 'micrograd[demo]'" in result.stderr


def test_adam_and_minibatches_run_through_main(tmp_path, capsys):
    assert main(['--task', 'lecture', '--optimizer', 'adam', '--batch-size', '2', '--steps', '4',
                 '--out', str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert 'adam for 4 steps, batches of 2' in out
    assert len(re.findall(r'^step \d+/\d+ loss', out, re.M)) == 4


def test_minibatches_are_distinct_samples_with_their_own_labels():
    xs = [[float(i), -float(i)] for i in range(20)]
    ys = [1 if i % 3 else -1 for i in range(20)]
    batches = []

    def record(model, optimizer, loss_fn, bx, by):
        batches.append((bx, by))
        return 0.0, 0.0

    train(None, None, None, xs, ys, steps=5, batch_size=7, step=record)
    assert len(batches) == 5
    for bx, by in batches:
        picked = [int(x[0]) for x in bx]
        assert len(set(picked)) == 7
        assert by == [ys[i] for i in picked]
    assert len({tuple(tuple(x) for x in bx) for bx, _ in batches}) > 1  # a fresh draw each step


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_redraws_one_line():
    stream = FakeTerminal()
    progress = Progress(3, stream)
    for k in range(3):
        progress(k, 1.0 / (k + 1), k / 3)
    text = stream.getvalue()
    assert text.count('\r') == 3
    assert text.endswith('\n') and text.count('\n') == 1  # the line is finished once, after the last step
    assert 'step 3/3 [' + '#' * 30 + ']' in text


def test_progress_off_a_terminal_prints_plain_lines():
    stream = io.StringIO()
    progress = Progress(2, stream)
    progress(0, 0.5, 0.25)
    progress(1, 0.25, 1.0)
    # counted from 1, as on a terminal (step 2/2 is the last), and six significant digits
    assert stream.getvalue() == "step 1/2 loss 0.5 accuracy 25.0%\nstep 2/2 loss 0.25 accuracy 100.0%\n"


def test_progress_prints_a_huge_loss_in_six_digits():
    stream = io.StringIO()
    Progress(1, stream)(0, 3.25e140, 0.5)
    assert stream.getvalue() == "step 1/1 loss 3.25e+140 accuracy 50.0%\n"   # not 141 digits


def torch_twin(model):
    """the MLP's weights as float64 torch leaves, one (W, b) pair per layer"""
    def leaf(rows):
        return torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    return [(leaf([[w.data for w in n.w] for n in layer.neurons]), leaf([n.b.data for n in layer.neurons]))
            for layer in model.layers]


def test_moons_training_matches_torch():
    X, y = make_moons(n_samples=100, noise=0.1, random_state=1337)
    xs, ys = X.tolist(), [int(label) * 2 - 1 for label in y]
    model = MLP(2, [16, 16, 1], rng=1337)
    layers = torch_twin(model)
    params_t = [t for pair in layers for t in pair]
    schedule = lambda k: 1.0 - 0.9 * k / 100  # noqa: E731
    losses = train(model, SGD(model.parameters(), lr=schedule), moons_loss, xs, ys, steps=4)

    opt_t = torch.optim.SGD(params_t, lr=1.0)
    sched_t = torch.optim.lr_scheduler.LambdaLR(opt_t, schedule)
    X_t, y_t = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    for k in range(4):
        h = X_t
        for i, (W, b) in enumerate(layers):
            h = h @ W.T + b
            h = torch.relu(h) if i < len(layers) - 1 else h.squeeze(1)
        loss_t = torch.relu(1 - y_t * h).mean() + 1e-4 * sum((p * p).sum() for p in params_t)
        opt_t.zero_grad()
        loss_t.backward()
        opt_t.step()
        sched_t.step()
        # matmul may sum in another order than Neuron's left to right, and updates at lr near 1
        # carry such last-bit differences into the next step: 1e-12 leaves room for a few steps of it
        assert losses[k] == pytest.approx(loss_t.item(), rel=1e-12)
    final = [p.data for p in model.parameters()]
    final_t = [v for W, b in layers for row, bias in zip(W.tolist(), b.tolist()) for v in row + [bias]]
    assert final == pytest.approx(final_t, rel=1e-12, abs=1e-14)


@pytest.mark.slow
def test_full_default_training_reaches_95_percent(tmp_path):
    result = run_demo(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert final_accuracy(result.stdout) >= 0.95
    for path in saved_paths(result.stdout, tmp_path):
        with open(path, 'rb') as f:
            assert f.read(8) == PNG_SIGNATURE


def test_console_script_in_setup_py_points_at_main():
    with open(os.path.join(REPO, 'setup.py'), encoding='utf-8') as f:
        target = re.search(r'micrograd-demo\s*=\s*([\w.]+):(\w+)', f.read())
    assert target is not None
    module = __import__(target.group(1), fromlist=[target.group(2)])
    assert getattr(module, target.group(2)) is main


@pytest.mark.parametrize("extra", [[], ['--batch-size', '10', '--optimizer', 'adam'], ['--task', 'lecture']])
def test_fast_trains_exactly_as_eager(tmp_path, capsys, extra):
    args = ['--steps', '5', '--out', str(tmp_path), *extra]
    assert main(args) == 0
    eager = capsys.readouterr().out
    assert main(args + ['--fast']) == 0
    fast = capsys.readouterr().out
    lines = re.compile(r'^(step \d+/\d+ loss .*|final accuracy: .*|predictions: .*)$', re.M)
    assert len(lines.findall(eager)) >= 6
    assert lines.findall(fast) == lines.findall(eager)


SAMPLE_LINE = re.compile(r'^sample +(\d+): ([a-z]*)$', re.M)


def test_cli_trains_names_prints_20_names_and_saves_the_loss_curve(tmp_path):
    result = run_demo('--task', 'names', '--steps', '3', '--out', 'plots', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'GPT(vocab 27, n_layer=1, n_embd=16, n_head=4, block_size=16, 4192 parameters)' in result.stdout
    assert 'adam for 3 steps (lr 0.01 decaying to 0)' in result.stdout
    steps = re.findall(r'^step (\d+)/3 loss ([\d.]+) names/s [\d.]+$', result.stdout, re.M)
    assert [k for k, _ in steps] == ['1', '2', '3']
    # an untrained model of 27 tokens: about log(27) = 3.2958 per token
    assert all(abs(float(loss) - math.log(27)) < 0.5 for _, loss in steps)
    samples = SAMPLE_LINE.findall(result.stdout)
    assert [int(i) for i, _ in samples] == list(range(1, 21))
    assert all(len(name) <= 16 for _, name in samples)
    paths = saved_paths(result.stdout, tmp_path)
    assert [os.path.relpath(p, tmp_path) for p in paths] == [os.path.join('plots', 'names_loss.png')]
    assert_valid_png(paths[0], 600, 400)


def test_names_fast_trains_and_samples_exactly_as_eager(tmp_path, capsys):
    args = ['--task', 'names', '--steps', '4', '--seed', '3', '--out', str(tmp_path)]
    assert main(args) == 0
    eager = capsys.readouterr().out
    assert main(args + ['--fast']) == 0
    fast = capsys.readouterr().out
    lines = re.compile(r'^(step \d+/\d+ loss [\d.]+|sample +\d+: .*)', re.M)
    assert len(lines.findall(eager)) == 24
    assert lines.findall(fast) == lines.findall(eager)
    assert re.search(r'\(\d+\.\d names/s, [1-4] recordings\)', fast)


@pytest.mark.parametrize("argv, message", [
    (['--task', 'names', '--optimizer', 'sgd'], "argument --optimizer: the names task trains with adam"),
    (['--task', 'names', '--batch-size', '4'], "argument --batch-size: the names task trains on one name"),
])
def test_names_refuses_what_it_cannot_use(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_out_that_cannot_be_written_fails_before_training(tmp_path, capsys):
    blocker = tmp_path / 'a-file'
    blocker.write_text('')
    with pytest.raises(SystemExit) as info:
        main(['--task', 'names', '--out', str(blocker / 'plots')])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert f"argument --out: can't write to {str(blocker / 'plots')!r}: Not a directory" in captured.err
    assert captured.out == ''  # no training started


def test_out_is_created_and_left_empty_before_training(tmp_path):
    out = tmp_path / 'new' / 'plots'
    result = run_demo('--task', 'lecture', '--steps', '1', '--out', str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == ['lecture_loss.png']  # the write probe leaves nothing behind


@pytest.mark.parametrize("task", ['names', 'moons'])
def test_a_diverging_run_says_so_in_one_line_and_exits_1(task, tmp_path):
    result = run_demo('--task', task, '--lr', '1e300', '--steps', '20', '--out', 'plots', cwd=tmp_path)
    assert result.returncode == 1
    assert re.fullmatch(r'the loss is (nan|inf) at step (\d+): lower --lr\n', result.stderr), result.stderr
    k = int(re.search(r'at step (\d+)', result.stderr).group(1))
    assert k >= 1
    # the steps before it were printed and their loss curve saved; no accuracy, no samples
    assert len(re.findall(r'^step \d+/20 loss [\d.e+-]+ ', result.stdout, re.M)) == k - 1   # step k diverged
    assert saved_paths(result.stdout, tmp_path) == [os.path.join(tmp_path, 'plots', f'{task}_loss.png')]
    assert_valid_png(os.path.join(tmp_path, 'plots', f'{task}_loss.png'), 600, 400)


def test_ctrl_c_prints_one_line_and_exits_130(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get('PYTHONPATH')])))
    proc = subprocess.Popen([sys.executable, '-m', 'micrograd.demo', '--task', 'names', '--out', 'plots'],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # a shell's background job ignores Ctrl-C, and a child inherits that: not the demo
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in proc.stdout:  # wait until training runs
            if line.startswith('step 1/'):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert re.fullmatch(r'interrupted after \d+ of 1000 steps\n', err), err
    assert os.listdir(tmp_path / 'plots') == []  # interrupted while training: nothing saved


def test_progress_for_names_shows_names_per_second():
    stream = FakeTerminal()
    progress = Progress(2, stream)
    progress(0, 3.3)
    progress(1, 3.1)
    assert progress.losses == [3.3, 3.1]
    assert re.search(r'step 2/2 \[#{30}\] loss 3\.1 +[\d.]+ names/s\n$', stream.getvalue())


def test_progress_raises_on_a_loss_that_is_not_finite():
    progress = Progress(5, io.StringIO())
    progress(0, 1.0, 0.5)
    with pytest.raises(Diverged, match="the loss is inf at step 2"):   # the second step
        progress(1, math.inf, 0.5)


def test_an_overflow_during_training_says_so_in_one_line(tmp_path, capsys, monkeypatch):
    from micrograd import gpt

    real_step = gpt.train_step

    def overflowing_step(model, optimizer, tokens):
        if optimizer.steps == 2:
            raise OverflowError("exp(800.0) is too large for a float")
        return real_step(model, optimizer, tokens)
    monkeypatch.setattr(gpt, 'train_step', overflowing_step)
    assert main(['--task', 'names', '--steps', '5', '--out', str(tmp_path)]) == 1
    captured = capsys.readouterr()
    # two steps done, the third failed
    assert captured.err == "training failed at step 3 (exp(800.0) is too large for a float): lower --lr\n"
    assert f"saved {tmp_path / 'names_loss.png'}" in captured.out  # the two steps before it


def test_progress_off_a_terminal_prints_at_most_about_100_lines():
    stream = io.StringIO()
    progress = Progress(1000, stream)
    for k in range(1000):
        progress(k, 1.0)
    printed = [line.split()[1] for line in stream.getvalue().splitlines()]
    assert printed == ['1/1000'] + [f'{k}/1000' for k in range(10, 1001, 10)]  # the first, then every 10th


def test_the_loss_plot_averages_a_noisy_run():
    assert moving_window(100) == 1 and moving_window(1000) == 50
    losses = [3.0, 1.0, 2.0, 6.0]
    assert moving_average(losses, 2) == [2.0, 1.5, 4.0]
    assert moving_average(losses, 4) == [3.0]


def test_names_prints_a_huge_final_loss_in_six_digits(tmp_path, capsys, monkeypatch):
    from micrograd import gpt

    real_train = gpt.train

    def huge_last_loss(*args, **kwargs):
        return real_train(*args, **kwargs)[:-1] + [1e140]   # large but finite: no divergence
    monkeypatch.setattr(gpt, 'train', huge_last_loss)
    assert main(['--task', 'names', '--steps', '2', '--out', str(tmp_path)]) == 0
    assert re.search(r"final loss 1e\+140$", capsys.readouterr().out, re.M)  # .4f printed 145 characters
