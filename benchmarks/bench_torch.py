"""The same workloads in PyTorch: as micrograd's structure (0-dim float64 tensors) and batched.

"scalar" is what a user would write instead of micrograd, one tensor per number; "batched" is the
same MLP as matrices, the practical limit. Both start from the original's weights. One thread,
so that every row uses one core. Usage as bench_micrograd.py.
"""
import json
import resource
import sys

import torch

from shared import (ALPHA, CLASSES, SIZES, initial_weights, learning_rate, main, make_classes, make_moons, timed,
                    tree_sum)

torch.set_num_threads(1)
DTYPE = torch.float64


def scalar(x, grad=False):
    return torch.tensor(x, dtype=DTYPE, requires_grad=grad)


def readme_expression():
    a = scalar(-4.0, True)
    b = scalar(2.0, True)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return g


class ScalarMLP:
    """micrograd's MLP with one 0-dim tensor per weight"""

    def __init__(self):
        self.layers = [[([scalar(w, True) for w in ws], scalar(b, True)) for ws, b in layer]
                       for layer in initial_weights()]

    def __call__(self, x):
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            out = [sum((wi * xi for wi, xi in zip(ws, x)), b) for ws, b in layer]
            x = out if i == last else [o.relu() for o in out]
        return x[0]

    def parameters(self):
        return [p for layer in self.layers for ws, b in layer for p in ws + [b]]


def scalar_step(model, X, y, k):
    scores = [model([scalar(v) for v in row]) for row in X]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    loss = sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in model.parameters())
    return sgd_step(loss, model.parameters(), k)


def sgd_step(loss, params, k):
    """backward and the demo's SGD update; the loss as a number"""
    for p in params:
        p.grad = None
    loss.backward()
    lr = learning_rate(k)
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
    return loss.item()


class BatchedMLP:
    """the same network as three weight matrices"""

    def __init__(self):
        self.weights = [(torch.tensor([ws for ws, _ in layer], dtype=DTYPE, requires_grad=True),
                         torch.tensor([b for _, b in layer], dtype=DTYPE, requires_grad=True))
                        for layer in initial_weights()]

    def __call__(self, X):
        for i, (W, b) in enumerate(self.weights):
            X = X @ W.T + b
            if i < len(self.weights) - 1:
                X = X.relu()
        return X[:, 0]

    def parameters(self):
        return [t for pair in self.weights for t in pair]


def batched_step(model, X, y, k):
    scores = model(X)
    loss = (1 - y * scores).relu().mean() + ALPHA * sum((p * p).sum() for p in model.parameters())
    return sgd_step(loss, model.parameters(), k)


def softmax_batched(size):
    """the 3-class classifier as batched tensors: size SGD steps of cross-entropy"""
    X, y = make_classes()
    X, y = torch.tensor(X, dtype=DTYPE), torch.tensor(y)
    weights = [(torch.tensor([ws for ws, _ in layer], dtype=DTYPE, requires_grad=True),
                torch.tensor([b for _, b in layer], dtype=DTYPE, requires_grad=True))
               for layer in initial_weights(sizes=SIZES[:-1] + [CLASSES])]
    params = [t for pair in weights for t in pair]
    for k in range(size):
        h = X
        for i, (W, b) in enumerate(weights):
            h = h @ W.T + b
            if i < len(weights) - 1:
                h = h.relu()
        loss = sgd_step(torch.nn.functional.cross_entropy(h, y), params, k)
    return loss


def run(workload, size, repeats):
    if workload == "expr":
        def batch():
            for _ in range(size):
                g = readme_expression()
            return g.item()
        result = timed(batch, repeats)
        result["times"] = [t / size for t in result["times"]]
        return result
    if workload in ("step", "step_batched"):
        X, y = make_moons(size)
        if workload == "step":
            model, step = ScalarMLP(), scalar_step
        else:
            model, step = BatchedMLP(), batched_step
            X, y = torch.tensor(X, dtype=DTYPE), torch.tensor(y, dtype=DTYPE)
        steps = iter(range(repeats))
        return timed(lambda: step(model, X, y, next(steps)), repeats)
    if workload in ("demo", "demo_batched"):
        X, y = make_moons()

        def train():
            if workload == "demo":
                model, step, Xt, yt = ScalarMLP(), scalar_step, X, y
            else:
                model, step = BatchedMLP(), batched_step
                Xt, yt = torch.tensor(X, dtype=DTYPE), torch.tensor(y, dtype=DTYPE)
            for k in range(size):
                loss = step(model, Xt, yt, k)
            return loss
        return timed(train, repeats)
    if workload == "softmax_batched":
        return timed(lambda: softmax_batched(size), repeats)
    if workload == "chain":
        def chain():
            x = scalar(0.5, True)
            y = x
            for _ in range(size):
                y = y.relu()
            y.backward()
            return x.grad.item()
        return timed(chain, repeats)
    if workload == "sum":
        def tree():
            leaves = [scalar(float(i), True) for i in range(size)]
            root = tree_sum(leaves)
            root.backward()
            return root.item()
        return timed(tree, repeats)
    if workload == "mem_rss":
        # tracemalloc does not see torch's C++ allocations: the resident set only
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        root = tree_sum([scalar(float(i), True) for i in range(size)])
        root.backward()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {"bytes_per_node": (after - before) * 1024 / (2 * size - 1), "check": root.item()}
    raise ValueError(f"unknown workload {workload!r}")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), run)
