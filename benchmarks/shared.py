"""What every benchmark process shares: the moons data, the demo's model, timing, the job loop.

Plain Python: it runs in our interpreter, in the original's venv and next to torch.
"""
import json
import math
import random
import time

N_SAMPLES = 100
SIZES = [2, 16, 16, 1]   # MLP(2, [16, 16, 1]), the demo's model
CLASSES = 3              # the softmax classifier: MLP(2, [16, 16, 3]) and cross-entropy
ALPHA = 1e-4             # weight of the L2 term in the demo's loss
STEPS = 100              # the demo trains for 100 SGD steps


def make_moons(n=N_SAMPLES, noise=0.1, seed=1337):
    """two interleaved half circles with gaussian noise; labels -1 and +1, as in the demo"""
    # written out instead of sklearn's make_moons: the original's venv has no sklearn, and every
    # implementation must see the same points. The graph's shape does not depend on the points.
    rng = random.Random(seed)
    n_out = n // 2
    n_in = n - n_out
    X, y = [], []
    for i in range(n_out):
        t = math.pi * i / max(n_out - 1, 1)
        X.append([math.cos(t), math.sin(t)])
        y.append(-1)
    for i in range(n_in):
        t = math.pi * i / max(n_in - 1, 1)
        X.append([1 - math.cos(t), 0.5 - math.sin(t)])
        y.append(1)
    X = [[a + rng.gauss(0, noise), b + rng.gauss(0, noise)] for a, b in X]
    return X, y


def make_classes(n=N_SAMPLES, noise=0.3, seed=1337):
    """CLASSES gaussian blobs around the unit circle (3: at 0, 120 and 240 degrees); labels 0, 1, 2"""
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n):
        c = i % CLASSES
        t = 2 * math.pi * c / CLASSES
        X.append([math.cos(t) + rng.gauss(0, noise), math.sin(t) + rng.gauss(0, noise)])
        y.append(c)
    return X, y


def learning_rate(k, steps=STEPS):
    """the demo's schedule: 1.0 decaying linearly to 0.1"""
    return 1.0 - 0.9 * k / steps


def initial_weights(seed=1337, sizes=SIZES):
    """the weights MLP(2, [16, 16, 1]) draws after random.seed(seed): per layer, per neuron (w, b)"""
    # one draw per weight, in the order micrograd's Neuron makes them; biases start at 0
    rng = random.Random(seed)
    return [[([rng.uniform(-1, 1) for _ in range(nin)], 0.0) for _ in range(nout)]
            for nin, nout in zip(sizes, sizes[1:])]


def tree_sum(values):
    """a balanced tree of + nodes: 17 levels deep for 1e5 leaves, so the original can backprop it"""
    while len(values) > 1:
        pairs = [values[i] + values[i + 1] for i in range(0, len(values) - 1, 2)]
        values = pairs + values[-1:] if len(values) % 2 else pairs
    return values[0]


def timed(fn, repeats):
    """wall time of each call; the first call's result, which every implementation shares"""
    times, checks = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        checks.append(fn())
        times.append(time.perf_counter() - t0)
    return {"times": times, "check": checks[0]}


def main(jobs, run_one):
    results = []
    for job in jobs:
        try:
            result = run_one(job["workload"], job["size"], job["repeats"])
        except (RecursionError, MemoryError) as e:  # the original's recursive backward on deep graphs
            result = {"error": type(e).__name__}
        results.append(dict(job, **result))
    print(json.dumps(results))
