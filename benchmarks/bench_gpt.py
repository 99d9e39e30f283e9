"""microgpt on the names, timed five ways: ours eager, ours compiled, a Value of microgpt's design,
microgpt's own script on our Value, torch.

The same names in the same order (random.Random(42) shuffles them, then draws the weights), the
same model and the same Adam, so every implementation reports the same losses: the "check" of a
result is the mean loss of the last steps (the last bits differ, the printed digits do not).
Usage, as bench_micrograd.py: python bench_gpt.py '<json list of jobs>'; each job is
{"workload": name, "size": n, "repeats": r}; prints one JSON list of results. Workloads:

    gpt_train[_compiled|_microgpt|_script|_batched]   size training steps, end to end (recordings
                                              included); _script: microgpt's code, its Value ours
    gpt_step[_compiled|_microgpt|_script|_batched]    one training step on a 3-letter name (5 tokens);
                                              compiled: one replay plus Adam, the recording excluded
    gpt_record                                one recording of that step (micrograd.compile)
    gpt_adam                                  one Adam update of the 4,192 parameters
    gpt_mem[_microgpt]                        peak bytes traced while one step runs (tracemalloc)
"""
import json
import random
import sys
import tracemalloc

from microgpt_value import MicroGPT, encode
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


# --- trainer(steps, rng) -> step(k, tokens): trains on one name, returns its loss before the update ---

def microgpt_trainer(steps, rng, value=None):
    model = MicroGPT(rng) if value is None else MicroGPT(rng, value=value)

    def step(k, tokens):
        loss = model.loss(tokens)
        loss.backward()
        model.adam(k, steps)
        return loss.data
    return step


def ours_trainer(steps, rng, compiled=False):
    from micrograd.gpt import GPT, adam, compiled_train_step, train_step

    model = GPT(rng=rng)
    optimizer = adam(model, steps)
    one_step = compiled_train_step(model) if compiled else train_step
    return lambda k, tokens: one_step(model, optimizer, tokens)


def torch_trainer(steps, rng):
    import torch

    from micrograd.gpt import GPT

    torch.set_num_threads(1)
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


TRAINERS = {'': ours_trainer, '_compiled': lambda steps, rng: ours_trainer(steps, rng, compiled=True),
            '_microgpt': microgpt_trainer, '_script': lambda steps, rng: microgpt_trainer(steps, rng, ours_value()),
            '_batched': torch_trainer}


def ours_value():
    from micrograd.engine import Value

    return Value


def train(trainer, steps):
    names, rng = names_and_rng()  # the names, then the weights from the same generator
    step = trainer(steps, rng)  # model, optimizer and (compiled) recordings: inside the time
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
        # torch's first optimizer and autograd call load more of torch (about 1 s)
        torch_trainer(1, random.Random(SEED))
    import micrograd.gpt  # noqa: F401  (every implementation reads the names with its load_names)
    if impl != '_microgpt':
        import micrograd.compile  # noqa: F401  (numpy, for the compiled path)
    if kind == 'train':
        return timed(lambda: train(trainer, size), repeats)
    if kind == 'step':
        step, k = trainer(1000, names_and_rng()[1]), iter(range(10**9))
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
        step = trainer(1000, names_and_rng()[1])
        step(0, encode(NAME))
        tracemalloc.start()
        loss = step(1, encode(NAME))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"bytes_per_node": peak, "check": loss}  # run.py's memory column: here bytes per step
    raise ValueError(f"unknown workload {workload!r}")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), run)
