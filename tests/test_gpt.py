import importlib.util
import os
import random
import subprocess
import sys

import pytest
import torch

from micrograd.engine import Value, topological_order
from micrograd.gpt import (CHARS, GPT, adam, attention, compiled_train_step, linear, load_names, rmsnorm,
                           softmax, train)
from micrograd.nn import Module

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# The published algorithm on a Value of microgpt's design (benchmarks/microgpt_value.py, which the
# GPT benchmark times too): the reference the model must reproduce.
def _load_reference():
    path = os.path.join(REPO, 'benchmarks', 'microgpt_value.py')
    spec = importlib.util.spec_from_file_location('microgpt_value', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = _load_reference()


def reference_training(names, steps, rng):
    """microgpt's model and training loop, one name per step as published; returns the losses, the
    parameters and a sampler drawing from rng"""
    model = reference.MicroGPT(rng)
    losses = []
    for step in range(steps):
        loss = model.loss(reference.encode(names[step % len(names)]))
        loss.backward()
        model.adam(step, steps)
        losses.append(loss.data)
    return losses, model, lambda temperature=0.5: model.sample(rng, temperature)


def shuffled_names(seed=42):
    names = load_names()
    rng = random.Random(seed)
    rng.shuffle(names)
    return names, rng


def leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def test_names_ship_with_the_package():
    names = load_names()
    assert len(names) == 32033  # wc -l says 32032: the last line has no newline
    assert names[:3] == ['emma', 'olivia', 'ava']
    assert sorted(set(''.join(names))) == list(CHARS)
    assert max(map(len, names)) == 15  # fits a block of 16 positions with BOS on both sides


def test_model_has_the_published_shape_and_4192_parameters():
    model = GPT(rng=0)
    assert isinstance(model, Module)
    assert len(model.parameters()) == 4192
    names = list(model.state_dict())
    assert len(names) == 4192 and names[0] == 'wte.0.0' and names[-1] == 'layers.0.mlp_fc2.15.63'
    assert [len(model.wte), len(model.wte[0])] == [27, 16]
    assert [len(model.layers[0].mlp_fc1), len(model.layers[0].mlp_fc1[0])] == [64, 16]
    assert model.bos == 26 and model.encode('ab') == [26, 0, 1, 26]


def test_state_dict_round_trip_gives_the_same_losses():
    model, copy = GPT(rng=0), GPT(rng=1)
    copy.load_state_dict(model.state_dict())
    tokens = model.encode('emma')
    assert copy.loss(tokens).data == model.loss(tokens).data


def test_weights_are_drawn_in_the_published_order():
    rng = random.Random(7)
    want = [rng.gauss(0, 0.08) for _ in range(4192)]
    assert [p.data for p in GPT(rng=7).parameters()] == want


def test_training_losses_match_the_published_algorithm():
    names, rng = shuffled_names()
    want, published, _ = reference_training(names, 20, rng)
    names, rng = shuffled_names()
    model = GPT(rng=rng)
    got = train(model, names, 20, adam(model, 20))
    # the same formulas, rounded differently in the last bits: Adam's update is written as torch
    # does (lr / (1 - beta1**t) first), the reference as published (m_hat, v_hat); the loss takes
    # log_softmax's target, the reference the log of softmax's
    assert got == pytest.approx(want, rel=1e-12)
    assert [p.data for p in model.parameters()] == pytest.approx([p.data for p in published.params],
                                                                 rel=1e-10, abs=1e-13)


def test_sampled_names_match_the_published_sampling():
    names, rng = shuffled_names()
    _, published, sample = reference_training(names, 3, rng)
    # one difference, on purpose: a name ends after block_size - 1 characters, the most encode() and
    # training take (the published loop draws a 16th that no name of the training set can have)
    published.block_size -= 1
    want = [sample() for _ in range(5)]
    assert max(map(len, want)) == 15   # the limit is reached: an untrained model rarely ends a name
    names, rng = shuffled_names()
    model = GPT(rng=rng)
    train(model, names, 3, adam(model, 3))
    assert [model.sample(rng) for _ in range(5)] == want  # one generator: shuffle, weights, samples


def test_compiled_training_gives_eager_losses_and_weights_bit_for_bit():
    names = ['ava', 'mia', 'olivia', 'zoe', 'ava', 'isabella', 'mia', 'x', 'olivia', 'zoe'] * 2
    eager, fast = GPT(rng=5), GPT(rng=5)
    want = train(eager, names, 20, adam(eager, 20))
    step = compiled_train_step(fast)
    got = train(fast, names, 20, adam(fast, 20), step=step)
    assert got == want
    assert [p.data for p in fast.parameters()] == [p.data for p in eager.parameters()]
    assert step.compiled.recordings == 4  # one per name length: 1, 3, 6 and 8 characters


@pytest.mark.parametrize("n", [1, 5, 27])
def test_softmax_matches_torch(n):
    rng = random.Random(n)
    xs = [rng.uniform(-3, 3) for _ in range(n)]
    weights = [rng.uniform(-1, 1) for _ in range(n)]
    vs, ts = [Value(x) for x in xs], leaf(xs)
    out = sum(w * p for w, p in zip(weights, softmax(vs)))
    out_t = (torch.tensor(weights, dtype=torch.float64) * torch.softmax(ts, 0)).sum()
    out.backward()
    out_t.backward()
    assert out.data == pytest.approx(out_t.item(), rel=1e-12)
    assert [v.grad for v in vs] == pytest.approx(ts.grad.tolist(), rel=1e-11, abs=1e-15)


def test_dot_products_are_one_node_with_the_chains_numbers():
    # where the published code writes sum(wi * xi ...), the model builds one engine.dot node
    rng = random.Random(2)
    x = [Value(rng.gauss(0, 1)) for _ in range(16)]
    w = [[Value(rng.gauss(0, 1)) for _ in range(16)] for _ in range(3)]
    out = linear(x, w)
    assert [y._op for y in out] == ['dot'] * 3
    assert [y.data for y in out] == [sum(wi.data * xi.data for wi, xi in zip(row, x)) for row in w]
    ops = [v._op for v in topological_order(rmsnorm(x)[0])]   # x0 * (dot(x, x) / n + eps) ** -0.5
    assert ops.count('dot') == 1 and ops.count('+') == 1


def test_softmax_survives_huge_logits():
    probs = softmax([Value(1000.0), Value(999.0), Value(-1000.0)])
    want = torch.softmax(torch.tensor([1000.0, 999.0, -1000.0], dtype=torch.float64), 0)
    assert [p.data for p in probs] == pytest.approx(want.tolist(), rel=1e-12, abs=1e-300)


def test_rmsnorm_matches_torch():
    rng = random.Random(3)
    xs = [rng.gauss(0, 1) for _ in range(16)]
    weights = [rng.gauss(0, 1) for _ in range(16)]
    vs, ts = [Value(x) for x in xs], leaf(xs)
    out = sum(w * y for w, y in zip(weights, rmsnorm(vs)))
    out_t = (torch.tensor(weights, dtype=torch.float64)
             * torch.nn.functional.rms_norm(ts, (16,), eps=1e-5)).sum()
    out.backward()
    out_t.backward()
    assert out.data == pytest.approx(out_t.item(), rel=1e-12)
    assert [v.grad for v in vs] == pytest.approx(ts.grad.tolist(), rel=1e-11, abs=1e-14)


def test_attention_on_three_positions_matches_torch():
    rng = random.Random(5)
    T, C, H = 3, 8, 2
    qs, ks, vs = ([[rng.gauss(0, 1) for _ in range(C)] for _ in range(T)] for _ in range(3))
    weights = [[rng.gauss(0, 1) for _ in range(C)] for _ in range(T)]
    q, k, v = ([[Value(x) for x in row] for row in rows] for rows in (qs, ks, vs))
    out = 0
    for t in range(T):  # position t attends to positions 0..t: the cache as it stands then
        out = out + sum(w * y for w, y in zip(weights[t], attention(q[t], k[:t + 1], v[:t + 1], H)))
    qt, kt, vt = (leaf(rows) for rows in (qs, ks, vs))
    heads = [x.view(T, H, C // H).transpose(0, 1) for x in (qt, kt, vt)]
    att = torch.nn.functional.scaled_dot_product_attention(*heads, is_causal=True)
    out_t = (torch.tensor(weights, dtype=torch.float64) * att.transpose(0, 1).reshape(T, C)).sum()
    out.backward()
    out_t.backward()
    assert out.data == pytest.approx(out_t.item(), rel=1e-12)
    for rows, rows_t in ((q, qt), (k, kt), (v, vt)):
        assert [x.grad for row in rows for x in row] == pytest.approx(rows_t.grad.flatten().tolist(),
                                                                      rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("name", ['a', 'emma', 'abcdefghijklmno'])
def test_to_torch_gives_the_same_logits_loss_and_gradients(name):
    model = GPT(rng=1)
    twin = model.to_torch()
    assert all(p.dtype == torch.float64 for p in twin.parameters())
    assert sum(p.numel() for p in twin.parameters()) == 4192
    tokens = model.encode(name)
    cache = [([], []) for _ in model.layers]  # each layer's keys and values, filled position by position
    logits = [x.data for pos, t in enumerate(tokens[:-1]) for x in model.logits(Value(t), pos, cache)]
    assert twin(tokens[:-1]).flatten().tolist() == pytest.approx(logits, rel=1e-12, abs=1e-12)
    loss, loss_t = model.loss(tokens), twin.loss(tokens)
    loss.backward()
    loss_t.backward()
    assert loss.data == pytest.approx(loss_t.item(), rel=1e-12)
    grads_t = [g for p in twin.parameters() for g in p.grad.flatten().tolist()]
    assert [p.grad for p in model.parameters()] == pytest.approx(grads_t, rel=1e-9, abs=1e-13)


def test_sample_is_reproducible_and_in_the_vocabulary():
    model = GPT(rng=0)
    names = [model.sample(random.Random(3)) for _ in range(2)]
    assert names[0] == names[1]
    state = random.getstate()
    batch = [model.sample(random.Random(k)) for k in range(10)]
    assert random.getstate() == state  # a seeded rng leaves the global one alone
    assert all(set(n) <= set(CHARS) and len(n) <= 16 for n in batch)  # at most one per position


@pytest.mark.parametrize("name, message", [
    ('', "a name needs at least one character, got ''"),
    ('ab1', "'1' at position 2 of 'ab1' is not in the vocabulary a-z"),
    ('Emma', "'E' at position 0 of 'Emma' is not in the vocabulary a-z"),
    ('a' * 16, "'aaaaaaaaaaaaaaaa' has 16 characters; a block of 16 positions holds names of at most 15"),
])
def test_bad_names_are_refused_with_a_clear_error(name, message):
    with pytest.raises(ValueError) as info:
        GPT(rng=0).encode(name)
    assert str(info.value) == message


def test_bad_token_sequences_are_refused():
    model = GPT(rng=0)
    with pytest.raises(ValueError, match="loss needs 2 to 17 tokens"):
        model.loss([26])
    with pytest.raises(ValueError, match="loss needs 2 to 17 tokens"):
        model.loss([0] * 18)
    with pytest.raises(ValueError, match="token 27 at position 1 is not a token id in 0..26"):
        model.loss([26, 27])
    with pytest.raises(ValueError, match="token 1.5 at position 0 is not a token id in 0..26"):
        model.loss([1.5, 26])


@pytest.mark.parametrize("kwargs, message", [
    ({'n_embd': 10, 'n_head': 4}, "n_embd (10) must be a multiple of n_head (4)"),
    ({'n_layer': 0}, "n_layer must be a positive int, got 0"),
    ({'chars': 'aab'}, "chars must be a non-empty string of distinct characters"),
])
def test_bad_hyperparameters_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)')):
        GPT(**kwargs)


def test_bad_temperature_is_refused():
    with pytest.raises(ValueError, match="temperature must be a positive number, got 0"):
        GPT(rng=0).sample(temperature=0)


def test_to_torch_without_torch_says_how_to_install_it(tmp_path):
    # None in sys.modules makes `import torch` fail as if torch were not installed
    code = "import sys; sys.modules['torch'] = None\nfrom micrograd.gpt import GPT\nGPT(rng=0).to_torch()"
    env = dict(os.environ, PYTHONPATH=REPO)
    result = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "ImportError: GPT.to_torch needs PyTorch: pip install torch==2.13.0" in result.stderr


def test_every_sampled_name_can_be_encoded():
    model = GPT(rng=3)
    names = [model.sample(rng=k, temperature=3.0) for k in range(40)]   # hot: long names
    assert max(map(len, names)) == model.block_size - 1
    for name in filter(None, names):
        model.encode(name)   # raises if sample made a name training can't take


@pytest.mark.parametrize("temperature", [5e-324, 1e-300])
def test_a_tiny_temperature_samples_the_likeliest_tokens(temperature):
    # 1/5e-324 overflows: softmax's limit as the temperature falls, not an error inside a power
    model = GPT(rng=3)
    assert model.sample(rng=1, temperature=temperature) == model.sample(rng=2, temperature=1e-12)
