import math
import random
from fractions import Fraction

import numpy as np
import pytest
import torch

from micrograd.engine import Value
from micrograd.nn import MLP
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
        # one step differs in the last bit at most (torch fuses multiply-adds, and its sqrt rounds
        # differently: see the reference below); those bits add up over the steps, and stay below
        # 1e-12 relative, or 1e-14 absolute where a parameter crosses 0
        for p, t in zip(params, tensors):
            assert p.data == pytest.approx(t.item(), rel=1e-12, abs=1e-14)
            assert type(p.data) is float  # never a NumPy scalar, whatever the hyperparameters were


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


ADAM_SETTINGS = [
    {},  # torch's defaults: lr=1e-3, betas=(0.9, 0.999), eps=1e-8
    {'lr': 0.05, 'betas': (0.5, 0.9)},  # a lerp weight of 0.5: torch's kernel starts from g, not m
    {'lr': 0.05, 'betas': (0.3, 0.7), 'weight_decay': 0.01},
    {'lr': 0.01, 'betas': (0.85, 0.99), 'eps': 1e-3, 'weight_decay': 0.1},
]
SGD_SETTINGS = [{'lr': 0.1, 'momentum': 0.9}, {'lr': 0.01, 'weight_decay': 0.1},
                {'lr': 0.05, 'momentum': 0.5, 'weight_decay': 0.01}]


@pytest.mark.parametrize("cls, kwargs", [(Adam, k) for k in ADAM_SETTINGS] + [(SGD, k) for k in SGD_SETTINGS])
def test_optimizer_matches_torch_over_200_steps(cls, kwargs):
    params, tensors = pair()
    run_side_by_side(params, tensors, cls(params, **kwargs), getattr(torch.optim, cls.__name__)(tensors, **kwargs),
                     steps=200)


def exact_multiply_add(a, b, c):
    """a * b + c rounded once, as the fused multiply-add of torch's CPU kernels (math.fma from Python 3.13)"""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def separate_multiply_add(a, b, c):
    """a * b + c rounded twice, as Python floats compute it"""
    return a * b + c


def torch_sqrt(x):
    """torch's float64 sqrt on the CPU: not correctly rounded, one in a hundred results a last bit off"""
    return torch.tensor(x, dtype=torch.float64).sqrt().item()


def adam_as_torch_computes_it(init, grads, multiply_add, sqrt, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                              weight_decay=0):
    """torch.optim.Adam's single-tensor update (torch/optim/adam.py), operation by operation, with the
    multiply-adds its CPU kernels fuse and its sqrt given; every parameter after every step"""
    beta1, beta2 = betas
    x, exp_avg, exp_avg_sq, history = list(init), [0.0] * len(init), [0.0] * len(init), []
    for step, g_step in enumerate(grads, 1):
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step)**0.5
        weight = 1 - beta1
        for i, g in enumerate(g_step):
            if weight_decay:
                g = multiply_add(weight_decay, x[i], g)  # grad.add(param, alpha=weight_decay)
            m, diff = exp_avg[i], g - exp_avg[i]  # exp_avg.lerp_(grad, 1 - beta1): ATen's lerp
            exp_avg[i] = multiply_add(weight, diff, m) if weight < 0.5 else multiply_add(-diff, 1 - weight, g)
            # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            exp_avg_sq[i] = multiply_add((1 - beta2) * g, g, beta2 * exp_avg_sq[i])
            denom = sqrt(exp_avg_sq[i]) / bias_correction2_sqrt + eps
            x[i] = x[i] + (-step_size * exp_avg[i]) / denom  # param.addcdiv_(exp_avg, denom, value=-step_size)
        history.append(list(x))
    return history


def sgd_as_torch_computes_it(init, grads, multiply_add, lr, momentum=0, weight_decay=0):
    """torch.optim.SGD's single-tensor update (torch/optim/sgd.py), operation by operation"""
    x, buffers, history = list(init), [None] * len(init), []
    for g_step in grads:
        for i, g in enumerate(g_step):
            if weight_decay:
                g = multiply_add(weight_decay, x[i], g)  # grad.add(param, alpha=weight_decay)
            if momentum:
                # buf.mul_(momentum).add_(grad): two kernels, two roundings
                buffers[i] = g if buffers[i] is None else momentum * buffers[i] + g
                g = buffers[i]
            x[i] = multiply_add(-lr, g, x[i])  # param.add_(grad, alpha=-lr)
        history.append(list(x))
    return history


def random_grads(steps, n=len(INIT), seed=7):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(n)] for _ in range(steps)]


def history_of(opt, params, grads):
    history = []
    for g_step in grads:
        for p, g in zip(params, g_step):
            p.grad = g
        opt.step()
        history.append([p.data for p in params])
    return history


def torch_history(cls, grads, **kwargs):
    """every parameter after every step of torch.optim's cls, by its default path and by its single-tensor one"""
    histories = []
    for foreach in (None, False):
        tensors = pair()[1]
        opt = getattr(torch.optim, cls.__name__)(tensors, foreach=foreach, **kwargs)
        history = []
        for g_step in grads:
            for t, g in zip(tensors, g_step):
                t.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
            history.append([t.item() for t in tensors])
        histories.append(history)
    assert histories[0] == histories[1]  # on the CPU the default is the single-tensor update
    return histories[0]


@pytest.mark.parametrize("kwargs", ADAM_SETTINGS)
def test_adam_is_torchs_update_bit_for_bit_but_for_fused_multiply_adds_and_sqrt(kwargs):
    # what the optimizer docs say: torch's update with its three fused multiply-adds and its sqrt
    # gives torch's every bit; ours makes the same operations in the same order, each rounded once
    grads = random_grads(200)
    assert adam_as_torch_computes_it(INIT, grads, exact_multiply_add, torch_sqrt, **kwargs) == \
        torch_history(Adam, grads, **kwargs)
    params = pair()[0]
    assert history_of(Adam(params, **kwargs), params, grads) == \
        adam_as_torch_computes_it(INIT, grads, separate_multiply_add, math.sqrt, **kwargs)


@pytest.mark.parametrize("kwargs", SGD_SETTINGS)
def test_sgd_is_torchs_update_bit_for_bit_but_for_fused_multiply_adds(kwargs):
    grads = random_grads(200)
    assert sgd_as_torch_computes_it(INIT, grads, exact_multiply_add, **kwargs) == torch_history(SGD, grads, **kwargs)
    params = pair()[0]
    assert history_of(SGD(params, **kwargs), params, grads) == \
        sgd_as_torch_computes_it(INIT, grads, separate_multiply_add, **kwargs)


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


FLOAT_KINDS = [np.float16, np.float32, np.float64, np.longdouble, lambda x: Fraction(x).limit_denominator(1000)]
INT_KINDS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, int]


def as_python(kwargs):
    """the same hyperparameters as torch gets them: Python floats of the very same numbers"""
    return {k: tuple(float(b) for b in v) if k == 'betas' else float(v) for k, v in kwargs.items()}


@pytest.mark.parametrize("kind", FLOAT_KINDS + INT_KINDS)
def test_sgd_with_numpy_hyperparameters_matches_torch_on_their_float64_values(kind):
    # integers: lr 1, momentum 1 and weight decay 1 still train sanely for six steps
    numbers = (0.1, 0.9, 0.01) if kind in FLOAT_KINDS else (1, 1, 1)
    kwargs = dict(zip(('lr', 'momentum', 'weight_decay'), map(kind, numbers)))
    params, tensors = pair()
    opt = SGD(params, **kwargs)
    assert all(type(getattr(opt, k)) is float for k in kwargs)
    run_side_by_side(params, tensors, opt, torch.optim.SGD(tensors, **as_python(kwargs)), steps=6)
    assert all(type(b) is float for b in opt.buffers)


@pytest.mark.parametrize("kind", FLOAT_KINDS + INT_KINDS)
def test_adam_with_numpy_hyperparameters_matches_torch_on_their_float64_values(kind):
    if kind in FLOAT_KINDS:
        kwargs = {'lr': kind(0.05), 'betas': (kind(0.5), kind(0.9)), 'eps': kind(1e-3), 'weight_decay': kind(0.1)}
    else:  # betas of 0: the moments are the last gradient and its square
        kwargs = {'lr': kind(1), 'betas': (kind(0), kind(0)), 'eps': kind(1), 'weight_decay': kind(0)}
    params, tensors = pair()
    opt = Adam(params, **kwargs)
    run_side_by_side(params, tensors, opt, torch.optim.Adam(tensors, **as_python(kwargs)), steps=8)
    assert all(type(x) is float for x in (opt.lr, opt.eps, opt.weight_decay, *opt.betas, *opt.m, *opt.v))


def test_adam_betas_may_be_a_numpy_array():
    params, tensors = pair()
    opt = Adam(params, lr=0.05, betas=np.array([0.5, 0.9], dtype=np.float32))
    opt_t = torch.optim.Adam(tensors, lr=0.05, betas=(float(np.float32(0.5)), float(np.float32(0.9))))
    run_side_by_side(params, tensors, opt, opt_t, steps=4)


def test_sgd_with_float32_lr_keeps_the_model_in_python_floats():
    # the example: 1.0 - 3 * 0.1 * 0.2 in float32 arithmetic is 0.94000006
    p, t = Value(1.0), torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    opt, opt_t = SGD([p], lr=np.float32(0.1)), torch.optim.SGD([t], lr=float(np.float32(0.1)))
    for _ in range(3):
        p.grad, t.grad = 0.2, torch.tensor(0.2, dtype=torch.float64)
        opt.step()
        opt_t.step()
    assert type(p.data) is float
    assert p.data == t.item()


def test_schedule_returning_numpy_scalars_matches_torch_lambdalr():
    params, tensors = pair()
    decay = lambda k: float(np.float32(1.0 - 0.9 * k / 10))  # noqa: E731
    opt = SGD(params, lr=lambda k: np.float32(1.0 - 0.9 * k / 10), momentum=0.9)
    opt_t = torch.optim.SGD(tensors, lr=1.0, momentum=0.9)
    run_side_by_side(params, tensors, opt, opt_t, steps=10,
                     sched_t=torch.optim.lr_scheduler.LambdaLR(opt_t, decay))


@pytest.mark.parametrize("cls", [SGD, Adam])
def test_grads_and_data_set_by_hand_as_numpy_scalars_give_python_floats(cls):
    p, t = Value(1.5), torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    opt, opt_t = cls([p], lr=0.1), getattr(torch.optim, cls.__name__)([t], lr=0.1)
    p.data = np.float32(1.5)
    for g in (np.float32(0.3), np.float16(-0.7), np.int64(2)):
        p.grad, t.grad = g, torch.tensor(float(g), dtype=torch.float64)
        opt.step()
        opt_t.step()
        assert type(p.data) is float
        assert p.data == pytest.approx(t.item(), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("cls, kwargs, error", [
    (SGD, {'lr': True}, TypeError),
    (SGD, {'lr': np.bool_(True)}, TypeError),
    (SGD, {'lr': '0.1'}, TypeError),
    (SGD, {'lr': math.nan}, ValueError),
    (SGD, {'lr': np.float32('nan')}, ValueError),
    (SGD, {'lr': 10**400}, OverflowError),
    (SGD, {'lr': 0.1, 'momentum': np.bool_(False)}, TypeError),
    (SGD, {'lr': 0.1, 'momentum': np.float64('nan')}, ValueError),
    (SGD, {'lr': 0.1, 'weight_decay': False}, TypeError),
    (SGD, {'lr': 0.1, 'weight_decay': np.float16('nan')}, ValueError),
    (Adam, {'betas': (np.bool_(False), 0.999)}, TypeError),
    (Adam, {'betas': (0.9, math.nan)}, ValueError),
    (Adam, {'betas': (0.9, 0.99, 0.999)}, ValueError),
    (Adam, {'betas': 0.9}, TypeError),
    (Adam, {'eps': True}, TypeError),
    (Adam, {'eps': np.float32('nan')}, ValueError),
    (Adam, {'weight_decay': np.bool_(True)}, TypeError),
])
def test_bool_nan_and_non_numbers_are_refused_naming_the_argument(cls, kwargs, error):
    with pytest.raises(error) as info:
        cls([Value(0.0)], **kwargs)
    assert list(kwargs)[-1] in str(info.value)


@pytest.mark.parametrize("bad, error", [
    (math.nan, ValueError), (np.float64('nan'), ValueError), (np.bool_(True), TypeError), (True, TypeError),
])
def test_schedule_returning_nan_or_a_bool_raises_naming_lr_and_the_step(bad, error):
    p = Value(1.0)
    opt = SGD([p], lr=lambda k: 0.1 if k < 2 else bad)
    opt.step()
    opt.step()
    with pytest.raises(error, match="lr .*at step 2"):
        opt.step()
    assert opt.steps == 2  # the failed step neither counts nor moves the parameter


def test_lr_assigned_between_steps_as_numpy_scalar_matches_torch_param_group():
    # a hand-written schedule: `opt.lr = ...` here, `param_groups[0]['lr'] = ...` in torch
    params, tensors = pair()
    opt, opt_t = SGD(params, lr=0.5, momentum=0.9), torch.optim.SGD(tensors, lr=0.5, momentum=0.9)
    rng = random.Random(3)
    for k in range(5):
        opt.lr = np.float32(0.5 / (k + 1))
        opt_t.param_groups[0]['lr'] = float(np.float32(0.5 / (k + 1)))
        assert type(opt.lr) is float
        grads = [rng.uniform(-2, 2) for _ in params]
        for p, t, g in zip(params, tensors, grads):
            p.grad, t.grad = g, torch.tensor(g, dtype=torch.float64)
        opt.step()
        opt_t.step()
        assert [p.data for p in params] == pytest.approx([t.item() for t in tensors], rel=1e-12, abs=1e-14)
        assert all(type(p.data) is float for p in params)


@pytest.mark.parametrize("cls, name, value, stored", [
    (SGD, 'momentum', np.float16(0.5), 0.5),
    (SGD, 'weight_decay', Fraction(1, 4), 0.25),
    (Adam, 'betas', [np.float32(0.5), np.int8(0)], (0.5, 0.0)),
    (Adam, 'eps', np.uint8(1), 1.0),
])
def test_hyperparameters_assigned_later_are_stored_as_python_floats(cls, name, value, stored):
    opt = cls([Value(1.0)], lr=0.1)
    setattr(opt, name, value)
    actual = getattr(opt, name)
    assert actual == stored
    assert all(type(x) is float for x in (actual if name == 'betas' else [actual]))


@pytest.mark.parametrize("name, value, error", [
    ('lr', np.bool_(True), TypeError), ('lr', -0.1, ValueError), ('momentum', math.nan, ValueError),
    ('weight_decay', 'x', TypeError),
])
def test_bad_hyperparameters_assigned_later_raise_naming_them(name, value, error):
    opt = SGD([Value(1.0)], lr=0.1)
    with pytest.raises(error, match=name):
        setattr(opt, name, value)


def test_adam_with_eps_zero_gives_torchs_nan_for_an_all_zero_gradient():
    ps = [Value(1.0), Value(2.0)]
    ps[1].grad = 0.5   # ps[0]'s gradient is exactly 0: torch divides 0 by 0
    pt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    pt.grad = torch.tensor([0.0, 0.5], dtype=torch.float64)
    Adam(ps, lr=0.1, eps=0).step()
    torch.optim.Adam([pt], lr=0.1, eps=0).step()
    assert math.isnan(ps[0].data) and math.isnan(pt[0].item())
    assert ps[1].data == pt[1].item()


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.1)],
                         ids=["SGD", "Adam"])
def test_a_step_that_fails_changes_nothing(make):
    ps = [Value(1.0), Value(2.0), Value(3.0)]
    for p in ps:
        p.grad = 0.5
    opt = make(ps)
    opt.step()
    state = [p.data for p in ps], opt.steps, dict(vars(opt))
    ps[2].grad = None   # a gradient set by hand to something that is not a number
    with pytest.raises((TypeError, ValueError)):
        opt.step()
    assert ([p.data for p in ps], opt.steps, dict(vars(opt))) == state   # no parameter moved, no moment


@pytest.mark.parametrize("opt", [SGD, Adam])
def test_an_optimizer_given_a_model_says_to_pass_its_parameters(opt):
    with pytest.raises(TypeError, match=r"got the MLP itself: pass model.parameters\(\)"):
        opt(MLP(2, [3, 1]), lr=0.1)
