"""python -m micrograd.demo: train the original's moons classifier, the lecture's net or microgpt."""
import argparse
import importlib
import math
import os
import random
import sys
import tempfile
import time

from micrograd import gpt
from micrograd.losses import hinge_loss, l2_penalty, mse_loss
from micrograd.nn import MLP
from micrograd.optim import SGD, Adam

# the lecture's four samples and their targets
LECTURE_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]

# (task, optimizer) -> starting learning rate; moons decays it to a tenth over the run, as the original,
# names to 0, as microgpt
DEFAULT_LR = {('moons', 'sgd'): 1.0, ('moons', 'adam'): 0.05,
              ('lecture', 'sgd'): 0.1, ('lecture', 'adam'): 0.05, ('names', 'adam'): 0.01}
OPTIMIZERS = {'sgd': SGD, 'adam': Adam}
# task -> (steps, seed, optimizer) when not given: the original's and microgpt's
DEFAULTS = {'moons': (100, 1337, 'sgd'), 'lecture': (100, 1337, 'sgd'), 'names': (1000, 42, 'adam')}
SAMPLES = 20  # names printed after training, as microgpt
MOONS_SAMPLES = 100  # the original's data set size


class Diverged(Exception):
    """the loss stopped being a finite number"""


def moons_loss(model, xs, ys):
    """the original demo's loss: mean SVM hinge loss of the scores plus 1e-4 * L2 of the weights"""
    scores = [model(x) for x in xs]
    return hinge_loss(scores, ys) + l2_penalty(model.parameters(), alpha=1e-4), scores


def lecture_loss(model, xs, ys):
    """the lecture's loss: squared error summed over the samples"""
    scores = [model(x) for x in xs]
    return mse_loss(scores, ys, reduction='sum'), scores


def accuracy(scores, ys):
    """the fraction of samples whose score (a number) has the sign of its ±1 label"""
    return sum((y > 0) == (s > 0) for s, y in zip(scores, ys)) / len(ys)


def train_step(model, optimizer, loss_fn, xs, ys):
    """forward, backward and update on one batch; returns its loss and accuracy before the update"""
    loss, scores = loss_fn(model, xs, ys)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.data, accuracy([s.data for s in scores], ys)


def compiled_step(model, loss_fn, xs, ys):
    """a train_step that replays one recording of loss_fn with numpy (micrograd.compile)"""
    from micrograd.compile import compile

    replay = compile(lambda X, Y: loss_fn(model, X, Y), model.parameters(), (xs, ys), has_aux=True)

    def step(model, optimizer, loss_fn, bx, by):
        optimizer.zero_grad()
        loss, scores = replay(bx, by)  # the same numbers as train_step, without a Value per node
        optimizer.step()
        return loss, accuracy(scores, by)
    return step


def train(model, optimizer, loss_fn, xs, ys, steps, batch_size=None, rng=None, report=None, step=train_step):
    """steps of step() on all samples or on random batches; returns the loss of every step"""
    rng = rng or random.Random(0)
    losses = []
    for k in range(steps):
        if batch_size is None:
            bx, by = xs, ys
        else:
            # a fresh random subset each step, as the original's loss(batch_size)
            picked = rng.sample(range(len(xs)), batch_size)
            bx, by = [xs[i] for i in picked], [ys[i] for i in picked]
        loss, acc = step(model, optimizer, loss_fn, bx, by)
        losses.append(loss)
        if report is not None:
            report(k, loss, acc)
    return losses


class Progress:
    """one line per step, or on a terminal a single line redrawn in place; keeps every loss

    With accuracies (moons, lecture) a line shows the step's accuracy; without (names), how many
    names a second the training has done so far. A loss that is nan or inf raises Diverged. Steps
    count from 1 everywhere (step k/N: k steps done), on a terminal or not; losses print with six
    significant digits, so a diverging one reads 3.2e+140, not 140 digits.
    """

    def __init__(self, steps, stream=None):
        self.steps = steps
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.losses = []
        self.start = time.perf_counter()

    def __call__(self, k, loss, acc=None):
        self.losses.append(loss)
        if not math.isfinite(loss):
            raise Diverged(f"the loss is {loss} at step {k + 1}")
        if acc is None:
            rate = (k + 1) / max(time.perf_counter() - self.start, 1e-9)
            tail, plain_tail = f"{rate:6.1f} names/s", f"names/s {rate:.1f}"
        else:
            tail, plain_tail = f"accuracy {acc:6.1%}", f"accuracy {acc:.1%}"
        if self.tty:
            done = 30 * (k + 1) // self.steps
            bar = '#' * done + '.' * (30 - done)
            self.stream.write(f"\rstep {k + 1:>{len(str(self.steps))}}/{self.steps} [{bar}] "
                              f"loss {loss:<10.6g} {tail}")
            if k + 1 == self.steps:
                self.stream.write('\n')
        elif k == 0 or (k + 1) % max(1, self.steps // 100) == 0 or k + 1 == self.steps:
            # a line a step up to 100 steps, as the original's demo; a log of 1,000 gets 100 lines
            self.stream.write(f"step {k + 1}/{self.steps} loss {loss:.6g} {plain_tail}\n")
        self.stream.flush()

    def end_line(self):
        """finish a line the terminal was redrawing, before a message of its own"""
        if self.tty and 0 < len(self.losses) < self.steps:
            self.stream.write('\n')
            self.stream.flush()


def plot_boundary(model, xs, ys, path, h=0.25):
    """save the model's decision boundary over the data as a PNG, the original's picture"""
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global figure state

    X = np.array(xs)
    x_min, x_max = X[:, 0].min() - 1, X[:, 0].max() + 1
    y_min, y_max = X[:, 1].min() - 1, X[:, 1].max() + 1
    xx, yy = np.meshgrid(np.arange(x_min, x_max, h), np.arange(y_min, y_max, h))
    # every grid point is a forward pass through Values (about 2.5 ms each), so the grid stays coarse;
    # contouring the scores at 0, not their signs, still draws a smooth boundary between grid points
    scores = np.array([model([a, b]).data for a, b in zip(xx.ravel(), yy.ravel())]).reshape(xx.shape)
    bound = np.abs(scores).max() + 1
    fig = Figure(figsize=(6, 5))
    ax = fig.subplots()
    ax.contourf(xx, yy, scores, levels=[-bound, 0, bound], cmap='Spectral', alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=ys, s=40, cmap='Spectral', edgecolors='k', linewidths=0.5)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_title("decision boundary")
    fig.savefig(path, dpi=100)


def plot_losses(losses, path):
    """save the loss of every step as a PNG, with its moving average where the steps are noisy"""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    window = moving_window(len(losses))
    if window > 1:  # one name a step (names) makes a band: the average shows the fall through it
        ax.plot(range(1, len(losses) + 1), losses, alpha=0.3, label="loss of each step")
        ax.plot(range(window, len(losses) + 1), moving_average(losses, window),
                label=f"mean of the last {window} steps")
        ax.legend()
    else:
        ax.plot(range(1, len(losses) + 1), losses)
    if min(losses) > 0 and max(losses) > 10 * min(losses):
        ax.set_yscale('log')  # a loss that falls by orders of magnitude; a narrower one reads better linear
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("training loss")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def moving_window(steps):
    """the moving average's width: 1 (none) up to 200 steps, then a twentieth of the steps"""
    return 1 if steps <= 200 else steps // 20


def moving_average(losses, window):
    """the mean of each run of window consecutive losses, left to right"""
    return [math.fsum(losses[i:i + window]) / window for i in range(len(losses) - window + 1)]


def main(argv=None):
    """the command line: train, print progress and the results, save the plots; the exit status"""
    parser = _parser()
    args = parser.parse_args(argv)
    _require('matplotlib', 'matplotlib')  # fail before training, not after it
    _resolve_defaults(parser, args)
    _check_out(parser, args.out)
    progress = Progress(args.steps)
    try:
        if args.task == 'names':
            return _train_names(args, progress)
        return _train_classifier(args, progress)
    except KeyboardInterrupt:
        progress.end_line()
        print(f"interrupted after {len(progress.losses)} of {args.steps} steps", file=sys.stderr)
        return 130


def _train_classifier(args, progress):
    """moons or lecture: train the MLP, print its accuracy, save the loss curve (and moons' boundary)"""
    xs, ys, model, loss_fn, shape = _setup(args.task, args.seed)
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.task, args.optimizer]
    if args.task == 'moons':
        lr = _decaying(lr, args.steps)
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=lr)
    batches = 'full batch' if args.batch_size is None else f"batches of {args.batch_size}"
    step = train_step
    if args.fast:
        n = args.batch_size or len(xs)  # a recording replays one batch size: record with that many
        step = compiled_step(model, loss_fn, xs[:n], ys[:n])
        batches += ', compiled'
    print(f"{args.task}: {len(xs)} samples, {shape} ({len(model.parameters())} parameters), "
          f"{args.optimizer} for {args.steps} steps, {batches}, seed {args.seed}")
    try:
        losses = train(model, optimizer, loss_fn, xs, ys, args.steps, batch_size=args.batch_size,
                       rng=random.Random(args.seed), report=progress, step=step)
    except (Diverged, ArithmeticError) as e:
        return _diverged(e, progress, args.out, args.task)

    scores = [model(x) for x in xs]
    acc = accuracy([s.data for s in scores], ys)
    print(f"final accuracy: {acc:.1%} ({round(acc * len(xs))}/{len(xs)} samples)")
    if args.task == 'lecture':
        print("predictions:", ', '.join(f"{s.data:+.4f}" for s in scores), "targets:", LECTURE_YS)
    paths = []
    if args.task == 'moons':
        paths.append(os.path.join(args.out, 'moons_boundary.png'))
        plot_boundary(model, xs, ys, paths[-1])
    paths.append(os.path.join(args.out, f'{args.task}_loss.png'))
    plot_losses(losses, paths[-1])
    for path in paths:
        print(f"saved {path}")
    return 0


def _train_names(args, progress):
    """microgpt: train the GPT on one name per step, print 20 sampled names, save the loss curve"""
    names = gpt.load_names()
    rng = random.Random(args.seed)
    rng.shuffle(names)  # then the weights, then the samples: one generator, as microgpt's random.seed(42)
    model = gpt.GPT(rng=rng)
    lr = args.lr if args.lr is not None else DEFAULT_LR['names', 'adam']
    optimizer = gpt.adam(model, args.steps, lr)
    step = gpt.compiled_train_step(model) if args.fast else gpt.train_step
    print(f"names: {len(names)} names, {model}, adam for {args.steps} steps (lr {lr} decaying to 0), "
          f"one name per step{', compiled' if args.fast else ''}, seed {args.seed}")
    start = time.perf_counter()
    try:
        losses = gpt.train(model, names, args.steps, optimizer, report=progress, step=step)
    except (Diverged, ArithmeticError) as e:
        return _diverged(e, progress, args.out, args.task)
    seconds = time.perf_counter() - start
    recorded = f", {step.compiled.recordings} recordings" if args.fast else ""
    print(f"trained in {seconds:.1f} s ({args.steps / seconds:.1f} names/s{recorded}); "
          f"final loss {losses[-1]:.6g}")
    print(f"{SAMPLES} names sampled at temperature 0.5:")
    for i in range(SAMPLES):
        print(f"sample {i + 1:2d}: {model.sample(rng)}")
    path = os.path.join(args.out, 'names_loss.png')
    plot_losses(losses, path)
    print(f"saved {path}")
    return 0


def _diverged(error, progress, out, task):
    """one line saying where training broke, the loss curve of the steps before it; exit status 1"""
    progress.end_line()
    if isinstance(error, Diverged):
        what = str(error)
    else:
        what = f"training failed at step {len(progress.losses) + 1} ({error})"  # the step that failed
    print(f"{what}: lower --lr", file=sys.stderr)
    finite = [x for x in progress.losses if math.isfinite(x)]
    if finite:  # the boundary of a model with nan weights is no picture: only the loss curve
        path = os.path.join(out, f'{task}_loss.png')
        plot_losses(finite, path)
        print(f"saved {path}")
    return 1


def _resolve_defaults(parser, args):
    """the task's own steps, seed and optimizer where none was given; refuse what the task can't use"""
    steps, seed, optimizer = DEFAULTS[args.task]
    args.steps = steps if args.steps is None else args.steps
    args.seed = seed if args.seed is None else args.seed
    args.optimizer = optimizer if args.optimizer is None else args.optimizer
    if args.task == 'names':
        if args.optimizer != 'adam':
            parser.error(f"argument --optimizer: the names task trains with adam (microgpt's), "
                         f"got {args.optimizer}")
        if args.batch_size is not None:
            parser.error("argument --batch-size: the names task trains on one name per step")
    else:
        samples = MOONS_SAMPLES if args.task == 'moons' else len(LECTURE_XS)
        if args.batch_size is not None and args.batch_size > samples:
            parser.error(f"argument --batch-size: at most {samples} for the {args.task} task, "
                         f"got {args.batch_size}")


def _check_out(parser, out):
    """make --out and write a file into it now, so a bad folder fails before training, not after it"""
    if os.path.exists(out) and not os.path.isdir(out):
        parser.error(f"argument --out: {out!r} exists and is not a folder")
    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        parser.error(f"argument --out: can't write to {out!r}: {e.strerror or e}")


def _setup(task, seed):
    """the task's samples, ±1 labels, model, loss function and a description of the model"""
    if task == 'lecture':
        model = MLP(3, [4, 4, 1], act='tanh', out_act='tanh', rng=seed)
        return LECTURE_XS, LECTURE_YS, model, lecture_loss, "MLP(3, [4, 4, 1]) of tanh neurons"
    make_moons = _require('sklearn.datasets', 'scikit-learn').make_moons
    # seed 1337: as np.random.seed(1337)
    X, y = make_moons(n_samples=MOONS_SAMPLES, noise=0.1, random_state=seed)
    xs, ys = X.tolist(), [int(label) * 2 - 1 for label in y]  # labels 0/1 -> -1/+1 for the hinge loss
    model = MLP(2, [16, 16, 1], rng=seed)  # rng=1337 draws the weights random.seed(1337) gave the original
    return xs, ys, model, moons_loss, "MLP(2, [16, 16, 1]) of ReLU neurons"


def _decaying(lr, steps):
    # the original's 1.0 - 0.9 * k / 100, scaled: times 1.0 it is the same float, bit for bit
    return lambda k: lr * (1.0 - 0.9 * k / steps)


def _require(module, package):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SystemExit(f"micrograd-demo needs {package}: pip install 'micrograd[demo]'") from None


def _int_in(lo, hi, expected):
    """an argparse type: an integer from lo to hi, or an error that says what was expected"""
    def parse(text):
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {n}")
        return n
    return parse


_positive_int = _int_in(1, math.inf, "a positive integer")
_seed = _int_in(0, 2**32 - 1, "an integer from 0 to 2**32 - 1")  # what make_moons' random_state accepts


def _positive_float(text):
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (x > 0 and math.isfinite(x)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return x


def _parser():
    parser = argparse.ArgumentParser(
        prog='micrograd-demo',
        description="Train the original micrograd moons classifier (2 -> 16 -> 16 -> 1 MLP, SVM hinge loss "
                    "+ L2, SGD), the lecture's 4-sample tanh network, or microgpt's GPT on 32,033 names "
                    "(then print 20 new names), and save the plots as PNG files.")
    parser.add_argument('--task', choices=['moons', 'lecture', 'names'], default='moons',
                        help="moons: the original demo (default); lecture: 4 samples, MLP(3, [4, 4, 1]) "
                             "of tanh neurons, squared-error loss; names: microgpt, a 4,192-parameter "
                             "GPT trained on one name per step")
    parser.add_argument('--steps', type=_positive_int, default=None,
                        help="training steps (default 100; names: 1000)")
    parser.add_argument('--seed', type=_seed, default=None,
                        help="seeds the data, the weights and the batches (default 1337, the original's; "
                             "names: 42, microgpt's)")
    parser.add_argument('--optimizer', choices=sorted(OPTIMIZERS), default=None,
                        help="default sgd; names: adam, the only one it takes")
    parser.add_argument('--lr', type=_positive_float, default=None,
                        help="starting learning rate; moons decays it linearly to a tenth by the last "
                             "step, names to 0 (default: moons 1.0 with sgd, 0.05 with adam; lecture, kept "
                             "constant: 0.1 with sgd, 0.05 with adam; names 0.01)")
    parser.add_argument('--batch-size', type=_positive_int, default=None,
                        help="train each step on this many random samples (default: all of them)")
    parser.add_argument('--out', default='out', help="folder for the PNG files (default ./out)")
    parser.add_argument('--fast', action='store_true',
                        help="record the training step once (names: once per name length) and replay "
                             "it with numpy (micrograd.compile): the same numbers, many times faster")
    return parser


if __name__ == '__main__':
    sys.exit(main())
