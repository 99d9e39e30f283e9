"""Workloads written against the micrograd API, timed in whichever interpreter runs this file.

run.py runs it twice: with this repository's package first on the path, and in a virtual
environment holding the original micrograd 0.1.0. The same source runs in both, so any gap in
time or memory comes from the engines. Usage: python bench_micrograd.py '<json list of jobs>';
each job is {"workload": name, "size": n, "repeats": r}; prints one JSON list of results.
"""
import json
import random
import resource
import sys
import tracemalloc

from micrograd.engine import Value
from micrograd.nn import MLP

from shared import ALPHA, CLASSES, SIZES, learning_rate, main, make_classes, make_moons, timed, tree_sum


def readme_expression():
    """the README's example, forward and backward"""
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return g


def demo_loss(model, X, y):
    """the demo's loss: mean hinge loss plus ALPHA times the sum of squared parameters"""
    scores = list(map(model, X))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def new_model():
    random.seed(1337)  # the demo's seed: the original's weights
    return MLP(SIZES[0], SIZES[1:])


def eager_step(model, X, y, k):
    """one SGD step of the demo, built and backpropagated eagerly"""
    loss = demo_loss(model, [list(map(Value, row)) for row in X], y)
    model.zero_grad()
    loss.backward()
    lr = learning_rate(k)
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss.data


def compiled_trainer(model, X, y):
    """record the demo's loss once; returns a step function like eager_step"""
    from micrograd.compile import compile

    loss_step = compile(lambda Xv, yv: demo_loss(model, Xv, yv), model.parameters(), (X, y))
    return sgd_steps(model, loss_step, X, y)


def softmax_trainer(X, y, compiled):
    """the 3-class classifier (cross-entropy on MLP(2, [16, 16, 3])); returns a step(k) like eager_step"""
    from micrograd.losses import cross_entropy  # this package only: the original has no exp or log

    random.seed(1337)
    model = MLP(SIZES[0], SIZES[1:-1] + [CLASSES])

    def loss_fn(Xv, yv):
        return cross_entropy([model(x) for x in Xv], yv)
    if compiled:
        from micrograd.compile import compile
        loss_step = compile(loss_fn, model, (X, y))
    else:
        def loss_step(X, y):
            loss = loss_fn([list(map(Value, row)) for row in X], y)
            loss.backward()
            return loss.data
    return sgd_steps(model, loss_step, X, y)


def sgd_steps(model, loss_step, X, y):
    """step(k): zero the grads, loss_step(X, y) (it runs backward), then SGD with the demo's rate"""
    params = model.parameters()

    def step(k):
        model.zero_grad()
        loss = loss_step(X, y)
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        return loss
    return step


def run(workload, size, repeats):
    if workload == "expr":
        # about 50 microseconds each: time `size` in a row and report the time per expression
        def batch():
            for _ in range(size):
                g = readme_expression()
            return g.data
        result = timed(batch, repeats)
        result["times"] = [t / size for t in result["times"]]
        return result
    if workload == "step":
        X, y = make_moons(size)
        model = new_model()
        steps = iter(range(repeats))
        return timed(lambda: eager_step(model, X, y, next(steps)), repeats)
    if workload == "demo":
        X, y = make_moons()

        def train():
            model = new_model()
            for k in range(size):
                loss = eager_step(model, X, y, k)
            return loss
        return timed(train, repeats)
    if workload.endswith("_compiled"):
        import numpy  # noqa: F401  imports are not part of the timing, as for eager
    if workload == "step_compiled":
        X, y = make_moons(size)
        step = compiled_trainer(new_model(), X, y)
        steps = iter(range(repeats))
        return timed(lambda: step(next(steps)), repeats)
    if workload == "demo_compiled":
        X, y = make_moons()

        def train():
            step = compiled_trainer(new_model(), X, y)  # recording included in the time
            for k in range(size):
                loss = step(k)
            return loss
        return timed(train, repeats)
    if workload in ("softmax", "softmax_compiled"):
        X, y = make_classes()

        def train():
            step = softmax_trainer(X, y, compiled=workload.endswith("_compiled"))  # recording included
            for k in range(size):
                loss = step(k)
            return loss
        return timed(train, repeats)
    if workload == "chain":
        def chain():
            x = Value(0.5)
            y = x
            for _ in range(size):
                y = y.relu()  # 0.1.0 has no tanh; relu keeps one node per link
            y.backward()
            return x.grad
        return timed(chain, repeats)
    if workload == "sum":
        def tree():
            leaves = [Value(float(i)) for i in range(size)]
            root = tree_sum(leaves)
            root.backward()
            return root.data
        return timed(tree, repeats)
    if workload == "mem_tracemalloc":
        # bytes the graph holds, per node, with the root still alive after backward
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        root = tree_sum([Value(float(i)) for i in range(size)])
        root.backward()
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        return {"bytes_per_node": held / (2 * size - 1), "check": root.data}
    if workload == "mem_rss":
        # growth of the peak resident set while building and backpropagating the same tree
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        root = tree_sum([Value(float(i)) for i in range(size)])
        root.backward()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"bytes_per_node": (after - before) * 1024 / (2 * size - 1), "check": root.data}
    raise ValueError(f"unknown workload {workload!r}")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), run)
