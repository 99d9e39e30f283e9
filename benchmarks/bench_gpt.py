"""microgpt on the names, timed four ways: ours eager, ours compiled, a Value of microgpt's design, torch.

The same names in the same order (random.Random(42) shuffles them, then draws the weights), the
same model and the same Adam, so every implementation reports the same losses: the "check" of a
result is the mean loss of the last steps (the last bits differ, the printed digits do not).
Usage, as bench_micrograd.py: python bench_gpt.py '<json list of jobs>'; each job is
{"workload": name, "size": n, "repeats": r}; prints one JSON list of results. Workloads:

    gpt_train[_compiled|_microgpt|_batched]   size training steps, end to end (recordings included)
    gpt_step[_compiled|_microgpt|_batched]    one training step on a 3-letter name (5 tokens);
                                              compiled: one replay plus Adam, the recording excluded
    gpt_record                                one recording of that step (micrograd.compile)
    gpt_adam                                  one Adam update of the 4,192 parameters
    gpt_mem[_microgpt]                        peak bytes traced while one step runs (tracemalloc)
"""
import json
import random
import sys
import tracemalloc

from microgpt_value import LocalValue, softmax
from shared import main, timed

SEED, NAME, CHECK_STEPS = 42, 'ava', 10  # the check averages the last CHECK_STEPS losses


def names_and_rng():
    from micrograd.gpt import load_names

    names = load_names()
    rng = random.Random(SEED)
    rng.shuffle(names)
    return names, rng


def check(losses):
    return sum(losses[-CHECK_STEPS:]) / len(losses[-CHECK_STEPS:])


# --- the reference: microgpt's design, children and their local gradients in __slots__ -------------

class MicroGPT:
    """the published model and Adam, on LocalValue"""

    def __init__(self, rng, n_embd=16, n_head=4, block_size=16, vocab_size=27):
        def matrix(nout, nin):
            return [[LocalValue(rng.gauss(0, 0.08)) for _ in range(nin)] for _ in range(nout)]
        self.n_head = n_head
        self.wte, self.wpe, self.lm_head = matrix(vocab_size, n_embd), matrix(block_size, n_embd), \
            matrix(vocab_size, n_embd)
        self.wq, self.wk, self.wv, self.wo = (matrix(n_embd, n_embd) for _ in range(4))
        self.fc1, self.fc2 = matrix(4 * n_embd, n_embd), matrix(n_embd, 4 * n_embd)
        self.params = [p for w in (self.wte, self.wpe, self.lm_head, self.wq, self.wk, self.wv, self.wo,
                                   self.fc1, self.fc2) for row in w for p in row]
        self.m, self.v = [0.0] * len(self.params), [0.0] * len(self.params)

    def forward(self, token, pos, keys, values):
        def linear(x, w):
            return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]

        def rmsnorm(x):
            scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5  # once per vector, as published
            return [xi * scale for xi in x]

        x = rmsnorm([t + p for t, p in zip(self.wte[token], self.wpe[pos])])
        residual, x = x, rmsnorm(x)
        q, k, v = linear(x, self.wq), linear(x, self.wk), linear(x, self.wv)
        keys.append(k)
        values.append(v)
        d, heads = len(q) // self.n_head, []
        for h in range(0, len(q), d):
            scores = [sum(q[h + j] * kt[h + j] for j in range(d)) / d**0.5 for kt in keys]
            weights = softmax(scores)
            heads.extend(sum(weights[t] * vt[h + j] for t, vt in enumerate(values)) for j in range(d))
        x = [a + b for a, b in zip(linear(heads, self.wo), residual)]
        hidden = [h.relu() for h in linear(rmsnorm(x), self.fc1)]
        x = [a + b for a, b in zip(linear(hidden, self.fc2), x)]
        return linear(x, self.lm_head)

    def loss(self, tokens):
        keys, values, n = [], [], len(tokens) - 1
        terms = [-softmax(self.forward(tokens[p], p, keys, values))[tokens[p + 1]].log() for p in range(n)]
        return (1 / n) * sum(terms)

    def adam(self, k, steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
        lr_t = lr * (1 - k / steps)
        for i, p in enumerate(self.params):
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * p.grad
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * p.grad**2
            m_hat, v_hat = self.m[i] / (1 - beta1**(k + 1)), self.v[i] / (1 - beta2**(k + 1))
            p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
            p.grad = 0


def microgpt_trainer(steps):
    names, rng = names_and_rng()
    model = MicroGPT(rng)

    def step(k, tokens):
        loss = model.loss(tokens)
        loss.backward()
        model.adam(k, steps)
        return loss.data
    return step


# --- ours, eager and compiled; torch batched ---------------------------------------------------------

def ours_trainer(steps, compiled=False):
    from micrograd.gpt import GPT, adam, compiled_train_step, train_step

    names, rng = names_and_rng()
    model = GPT(rng=rng)
    optimizer = adam(model, steps)
    one_step = compiled_train_step(model) if compiled else train_step
    return lambda k, tokens: one_step(model, optimizer, tokens)


def torch_trainer(steps):
    import torch

    from micrograd.gpt import GPT

    torch.set_num_threads(1)
    names, rng = names_and_rng()
    twin = GPT(rng=rng).to_torch()  # the same weights, float64, one batched forward per name
    optimizer = torch.optim.Adam(twin.parameters(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: 1 - k / steps)

    def step(k, tokens):
        loss = twin.loss(torch.tensor(tokens))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        return loss.item()
    return step


TRAINERS = {'': ours_trainer, '_compiled': lambda steps: ours_trainer(steps, compiled=True),
            '_microgpt': microgpt_trainer, '_batched': torch_trainer}


def encode(name):
    return [26] + [ord(ch) - ord('a') for ch in name] + [26]


def train(trainer, steps):
    names, _ = names_and_rng()
    step = trainer(steps)  # model, optimizer and (compiled) recordings: inside the time
    return check([step(k, encode(names[k % len(names)])) for k in range(steps)])


def split(workload):
    """'gpt_step_compiled' -> ('step', '_compiled'); ours eager has no suffix"""
    for suffix in TRAINERS:
        if suffix and workload.endswith(suffix):
            return workload[len('gpt_'):-len(suffix)], suffix
    return workload[len('gpt_'):], ''


def run(workload, size, repeats):
    kind, impl = split(workload)
    trainer = TRAINERS[impl]
    # imports are not part of the timing, for any implementation
    if impl == '_batched':
        torch_trainer(1)  # torch's first optimizer and autograd call load more of torch (about 1 s)
    import micrograd.gpt  # noqa: F401  (every implementation reads the names with its load_names)
    if impl != '_microgpt':
        import micrograd.compile  # noqa: F401  (numpy, for the compiled path)
    if kind == 'train':
        return timed(lambda: train(trainer, size), repeats)
    if kind == 'step':
        step, k = trainer(1000), iter(range(10**9))
        step(next(k), encode(NAME))  # a compiled step records on its first call: not part of the time
        return timed(lambda: step(next(k), encode(NAME)), repeats)
    if kind == 'record':
        from micrograd.compile import compile
        from micrograd.gpt import GPT

        model = GPT(rng=SEED)
        return timed(lambda: compile(model.loss, model, (encode(NAME),)).recordings, repeats)
    if kind == 'adam':
        from micrograd.gpt import GPT, adam

        model = GPT(rng=SEED)
        model.loss(encode(NAME)).backward()
        optimizer = adam(model, 10**9)
        return timed(lambda: optimizer.step() or model.parameters()[0].data, repeats)
    if kind == 'mem':
        step = trainer(1000)
        step(0, encode(NAME))
        tracemalloc.start()
        loss = step(1, encode(NAME))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"bytes_per_node": peak, "check": loss}  # run.py's memory column: here bytes per step
    raise ValueError(f"unknown workload {workload!r}")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), run)
