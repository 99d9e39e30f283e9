import math
import random

import pytest
import torch

from micrograd.engine import Value
from micrograd.optim import SGD, Adam

INIT = [0.5, -1.25, 2.0, 0.0, -0.3]


def pair(init=INIT):
    """the same starting parameters as micrograd Values and as float64 torch leaves"""
    params = [Value(x) for x in init]
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in init]
    return params, tensors


def run_side_by_side(params, tensors, opt, opt_t, steps, sched_t=None):
    # the same gradients on both sides each step, drawn independently of the parameters,
    # so any gap comes from the update rule alone
    rng = random.Random(7)
    for _ in range(steps):
        grads = [rng.uniform(-2, 2) for _ in params]
        opt.zero_grad()
        opt_t.zero_grad()
        for p, t, g in zip(params, tensors, grads):
            p.grad += g
            t.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        opt_t.step()
        if sched_t is not None:
            sched_t.step()
        # one step differs in the last bit at most (torch's lerp for Adam's first moment);
        # those bits add up over the steps but stay far below 1e-12 relative
        for p, t in zip(params, tensors):
            assert p.data == pytest.approx(t.item(), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("momentum, weight_decay", [(0, 0), (0.9, 0), (0, 0.1), (0.5, 0.01)])
def test_sgd_matches_torch(momentum, weight_decay):
    params, tensors = pair()
    opt = SGD(params, lr=0.1, momentum=momentum, weight_decay=weight_decay)
    opt_t = torch.optim.SGD(tensors, lr=0.1, momentum=momentum, weight_decay=weight_decay)
    run_side_by_side(params, tensors, opt, opt_t, steps=6)


@pytest.mark.parametrize("kwargs", [
    {},  # torch's defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-8
    {'lr': 0.05},
    {'lr': 0.05, 'betas': (0.5, 0.9)},  # small betas: the bias correction matters early
    {'lr': 0.01, 'eps': 1e-3, 'weight_decay': 0.1},
])
def test_adam_matches_torch(kwargs):
    params, tensors = pair()
    run_side_by_side(params, tensors, Adam(params, **kwargs), torch.optim.Adam(tensors, **kwargs), steps=8)


@pytest.mark.parametrize("make, make_t, base", [
    (lambda ps, lr: SGD(ps, lr=lr, momentum=0.9), lambda ts: torch.optim.SGD(ts, lr=1.0, momentum=0.9), 1.0),
    (lambda ps, lr: Adam(ps, lr=lr), lambda ts: torch.optim.Adam(ts, lr=0.1), 0.1),
])
def test_lr_schedule_matches_torch_lambdalr(make, make_t, base):
    params, tensors = pair()
    decay = lambda k: 1.0 - 0.9 * k / 10  # the original demo's schedule over 10 steps  # noqa: E731
    opt = make(params, lambda k: base * decay(k))
    opt_t = make_t(tensors)
    sched_t = torch.optim.lr_scheduler.LambdaLR(opt_t, decay)
    run_side_by_side(params, tensors, opt, opt_t, steps=10, sched_t=sched_t)


def test_momentum_buffer_starts_at_first_gradient():
    # torch's rule: the first step moves by lr * g, not lr * (1 - momentum) * g
    p = Value(1.0)
    opt = SGD([p], lr=0.5, momentum=0.9)
    p.grad = 2.0
    opt.step()
    assert p.data == 1.0 - 0.5 * 2.0
    p.grad = 2.0
    opt.step()
    assert p.data == pytest.approx(0.0 - 0.5 * (0.9 * 2.0 + 2.0), rel=1e-15)


def test_adam_first_step_moves_by_lr_times_sign():
    # after bias correction m / sqrt(v) = g / |g| on step 1, whatever the gradient's size
    params = [Value(1.0), Value(1.0)]
    opt = Adam(params, lr=0.01, eps=0)
    params[0].grad, params[1].grad = 1e-6, -300.0
    opt.step()
    assert params[0].data == pytest.approx(1.0 - 0.01, rel=1e-14)
    assert params[1].data == pytest.approx(1.0 + 0.01, rel=1e-14)


def test_step_count_advances_once_per_step_not_per_parameter():
    seen = []
    params = [Value(1.0) for _ in range(4)]
    opt = SGD(params, lr=lambda k: seen.append(k) or 0.1)
    for _ in range(3):
        opt.step()
    assert seen == [0, 1, 2]
    assert opt.steps == 3


def test_params_from_a_generator_are_all_updated():
    params = [Value(1.0), Value(2.0), Value(3.0)]
    opt = SGD((p for p in params), lr=0.5)
    for p in params:
        p.grad = 1.0
    opt.step()
    opt.step()  # a generator read lazily would be empty on the second step
    assert [p.data for p in params] == [0.0, 1.0, 2.0]


def test_zero_grad_clears_every_parameter():
    params = [Value(1.0), Value(2.0)]
    (params[0] * params[1]).backward()
    opt = Adam(params)
    opt.zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


@pytest.mark.parametrize("cls, kwargs", [
    (SGD, {'lr': -0.1}),
    (SGD, {'lr': 0.1, 'momentum': -0.5}),
    (SGD, {'lr': 0.1, 'weight_decay': -1e-4}),
    (Adam, {'lr': -1e-3}),
    (Adam, {'betas': (1.0, 0.999)}),
    (Adam, {'betas': (0.9, -0.1)}),
    (Adam, {'eps': -1e-8}),
    (Adam, {'weight_decay': -0.1}),
])
def test_bad_arguments_raise_like_torch(cls, kwargs):
    with pytest.raises(ValueError):
        getattr(torch.optim, cls.__name__)([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as info:
        cls([Value(0.0)], **kwargs)
    assert list(kwargs)[-1] in str(info.value)  # the message names the bad argument


def test_nan_lr_is_rejected():
    with pytest.raises(ValueError, match="lr"):
        SGD([Value(0.0)], lr=math.nan)


def test_empty_params_rejected():
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)


def test_non_value_param_rejected():
    with pytest.raises(TypeError, match="float at index 1"):
        Adam([Value(1.0), 2.0])


def test_duplicate_param_rejected():
    p = Value(1.0)
    with pytest.raises(ValueError, match="index 1 appears more than once"):
        SGD([p, p], lr=0.1)


def test_schedule_going_negative_raises_at_that_step():
    p = Value(1.0)
    opt = SGD([p], lr=lambda k: 1.0 - 0.5 * k)
    for _ in range(3):
        opt.step()
    with pytest.raises(ValueError, match="at step 3"):
        opt.step()
