"""Where the eager speed-up comes from: a closure per node, with or without a reference cycle, or one
shared backward function per op.

The demo's training step (MLP(2, [16, 16, 1]) on the 100 moons points, hinge loss plus L2, one SGD
step) runs on three tiny Value classes that differ only in how a node stores its backward:

  cycle      a closure per node that refers to its own node, as the original (node -> closure -> node)
  no-cycle   a closure per node over its children only; backward() passes it the node's grad
  shared     one function per op, shared by all its nodes, that reads the node it is given (ours)

Everything else is the same: __slots__, a tuple of children, one iterative topological walk.
Each design runs in fresh processes (interleaved, so a busy machine slows all alike), with the
collector on as Python ships it, and once more with it off. Times are the process's CPU time
(time.process_time), so other processes on a shared machine don't count; gc.callbacks time every
collection the same way.
A full collection walks every object the process holds, its imports' too: --import sklearn.datasets
shows what a big library loaded beside the model adds.
Usage: python benchmarks/bench_closures.py [--procs 3] [--steps 10] [--import MODULE]
"""
import argparse
import gc
import importlib
import json
import resource
import statistics
import subprocess
import sys
import time

from micrograd.engine import topological_order  # duck-typed: it only reads _prev
from shared import ALPHA, initial_weights, learning_rate, make_moons


def _nothing(*args):
    """a leaf's backward"""


class CycleValue:
    """(a) the original's design: each node's closure refers to the node itself"""
    __slots__ = ('data', 'grad', '_prev', '_backward')

    def __init__(self, data, _children=()):
        self.data, self.grad, self._prev, self._backward = data, 0.0, _children, _nothing

    def __add__(self, other):
        other = other if isinstance(other, CycleValue) else CycleValue(other)
        out = CycleValue(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, CycleValue) else CycleValue(other)
        out = CycleValue(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = CycleValue(0.0 if self.data < 0 else self.data, (self,))

        def _backward():
            self.grad += (out.data > 0) * out.grad
        out._backward = _backward
        return out

    __radd__, __rmul__ = __add__, __mul__

    def backward(self):
        self.grad = 1.0
        for v in reversed(topological_order(self)):
            v._backward()


class NoCycleValue:
    """(b) a closure per node, over its children only: backward() hands it the node's grad"""
    __slots__ = ('data', 'grad', '_prev', '_backward')

    def __init__(self, data, _children=()):
        self.data, self.grad, self._prev, self._backward = data, 0.0, _children, _nothing

    def __add__(self, other):
        other = other if isinstance(other, NoCycleValue) else NoCycleValue(other)
        out = NoCycleValue(self.data + other.data, (self, other))

        def _backward(g):
            self.grad += g
            other.grad += g
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, NoCycleValue) else NoCycleValue(other)
        out = NoCycleValue(self.data * other.data, (self, other))

        def _backward(g):
            self.grad += other.data * g
            other.grad += self.data * g
        out._backward = _backward
        return out

    def relu(self):
        out = NoCycleValue(0.0 if self.data < 0 else self.data, (self,))

        def _backward(g):
            self.grad += (self.data > 0) * g  # the input's sign, not out.data: that would need out
        out._backward = _backward
        return out

    __radd__, __rmul__ = __add__, __mul__

    def backward(self):
        self.grad = 1.0
        for v in reversed(topological_order(self)):
            v._backward(v.grad)


class SharedValue:
    """(c) ours: one backward function per op, shared by all its nodes, given the node to work on"""
    __slots__ = ('data', 'grad', '_prev', '_backward')

    def __init__(self, data, _children=()):
        self.data, self.grad, self._prev, self._backward = data, 0.0, _children, _nothing

    def __add__(self, other):
        other = other if isinstance(other, SharedValue) else SharedValue(other)
        out = SharedValue(self.data + other.data, (self, other))
        out._backward = SharedValue._add_backward
        return out

    @staticmethod
    def _add_backward(out):
        a, b = out._prev
        a.grad += out.grad
        b.grad += out.grad

    def __mul__(self, other):
        other = other if isinstance(other, SharedValue) else SharedValue(other)
        out = SharedValue(self.data * other.data, (self, other))
        out._backward = SharedValue._mul_backward
        return out

    @staticmethod
    def _mul_backward(out):
        a, b = out._prev
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    def relu(self):
        out = SharedValue(0.0 if self.data < 0 else self.data, (self,))
        out._backward = SharedValue._relu_backward
        return out

    @staticmethod
    def _relu_backward(out):
        a, = out._prev
        a.grad += (out.data > 0) * out.grad

    __radd__, __rmul__ = __add__, __mul__

    def backward(self):
        self.grad = 1.0
        for v in reversed(topological_order(self)):
            v._backward(v)


DESIGNS = {'cycle': CycleValue, 'no-cycle': NoCycleValue, 'shared': SharedValue}


def demo_loss(V, model, params, X, y):
    """the demo's loss over all points: mean hinge loss plus ALPHA times the sum of squared parameters"""
    scores = []
    for row in X:
        x = [V(v) for v in row]
        for depth, layer in enumerate(model):
            x = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            if depth < len(model) - 1:
                x = [v.relu() for v in x]
        scores.append(x[0])
    losses = [(1 + -yi * s).relu() for yi, s in zip(y, scores)]
    return sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in params)


def train_step(V, model, params, X, y, k):
    """the demo's step: loss, backward, SGD; the graph dies on return"""
    loss = demo_loss(V, model, params, X, y)
    for p in params:
        p.grad = 0.0
    loss.backward()
    for p in params:
        p.data -= learning_rate(k) * p.grad
    return loss.data


def worker(design, steps, collector):
    """one fresh process: a warm-up step, then `steps` timed ones; prints one JSON line"""
    V = DESIGNS[design]
    model = [[([V(wi) for wi in w], V(b)) for w, b in layer] for layer in initial_weights()]
    params = [p for layer in model for w, b in layer for p in (*w, b)]
    X, y = make_moons()
    if not collector:
        gc.disable()
    in_gc, runs, started = [0.0], {0: 0, 1: 0, 2: 0}, [0.0]

    def on_gc(phase, info):
        if phase == 'start':
            started[0] = time.process_time()
        else:
            in_gc[0] += time.process_time() - started[0]
            runs[info['generation']] += 1

    train_step(V, model, params, X, y, 0)
    gc.collect()
    gc.disable()  # count the objects one graph adds for the collector to track, nothing freed meanwhile
    tracked = len(gc.get_objects())
    loss = demo_loss(V, model, params, X, y)
    tracked = len(gc.get_objects()) - tracked
    nodes = len(topological_order(loss))
    del loss
    if collector:
        gc.enable()
    gc.callbacks.append(on_gc)
    times, gc_times, losses = [], [], []
    for k in range(1, steps + 1):
        before = in_gc[0]
        t = time.process_time()
        losses.append(train_step(V, model, params, X, y, k))
        times.append(time.process_time() - t)
        gc_times.append(in_gc[0] - before)
    gc.callbacks.remove(on_gc)
    print(json.dumps({'design': design, 'collector': collector, 'times': times, 'gc_times': gc_times,
                      'runs': {g: n / steps for g, n in runs.items()}, 'losses': losses,
                      'nodes': nodes, 'tracked_per_node': tracked / nodes,
                      'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--procs', type=int, default=3, help="fresh processes per design and setting")
    parser.add_argument('--steps', type=int, default=10, help="timed steps per process")
    parser.add_argument('--import', dest='module', help="a module each process imports first, e.g. numpy")
    parser.add_argument('--worker', nargs=2, metavar=('DESIGN', 'GC'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.module:
            importlib.import_module(args.module)
        return worker(args.worker[0], args.steps, args.worker[1] == 'on')
    results = {}
    for _ in range(args.procs):  # interleaved: every design sees the same machine load
        for collector in ('on', 'off'):
            for design in DESIGNS:
                extra = ['--import', args.module] if args.module else []
                out = subprocess.run([sys.executable, __file__, '--worker', design, collector,
                                      '--steps', str(args.steps), *extra], capture_output=True, text=True,
                                     check=True)
                r = json.loads(out.stdout)
                results.setdefault((design, collector), []).append(r)
    losses = {json.dumps(r['losses']) for rs in results.values() for r in rs}
    assert len(losses) == 1, "the three designs must compute the same losses"
    report(results, args.module)


def report(results, module):
    def med(key, design, collector):
        """a process's mean per step (a full collection falls on some steps only), median over processes"""
        return statistics.median(statistics.fmean(r[key]) for r in results[design, collector]) * 1000

    ref = med('times', 'shared', 'on')
    nodes = results['shared', 'on'][0]['nodes']
    print(f"moons step, MLP(2, [16, 16, 1]), 100 points, {nodes} nodes; CPU ms per step, median of "
          f"the processes' means; Python {sys.version.split()[0]}, gc thresholds {gc.get_threshold()}"
          + (f"; {module} imported" if module else ""))
    print(f"{'design':<10} {'step ms':>8} {'ratio':>6} {'in gc ms':>9} {'gc off ms':>10} {'ratio':>6} "
          f"{'gen0/step':>9} {'gen1':>6} {'gen2':>6} {'objects/node':>12} {'max rss MB':>10}")
    for design in DESIGNS:
        on, off = med('times', design, 'on'), med('times', design, 'off')
        runs = {g: statistics.median(r['runs'][str(g)] for r in results[design, 'on']) for g in range(3)}
        rss = statistics.median(r['max_rss_mb'] for r in results[design, 'on'])
        print(f"{design:<10} {on:8.1f} {on / ref:6.2f} {med('gc_times', design, 'on'):9.1f} {off:10.1f} "
              f"{off / med('times', 'shared', 'off'):6.2f} {runs[0]:9.1f} {runs[1]:6.1f} {runs[2]:6.1f} "
              f"{results[design, 'on'][0]['tracked_per_node']:12.2f} {rss:10.0f}")


if __name__ == '__main__':
    main()
