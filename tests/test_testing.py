"""gradcheck against finite differences and assert_matches_torch against PyTorch, on every built-in op."""
import math
import re
from fractions import Fraction

import numpy as np
import pytest
import torch

import micrograd
from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.testing import GradcheckError, assert_matches_torch, gradcheck

# every built-in op, at points away from its kinks (relu at 0) and edges (log near 0);
# each fn is written with operators and methods Values and tensors share, so torch runs it too
BUILTIN_OPS = {
    'add': (lambda a, b: a + b, [0.7, -1.3]),
    'radd': (lambda a: 2.5 + a, [0.4]),
    'sub': (lambda a, b: a - b, [0.7, -1.3]),
    'rsub': (lambda a: 2.5 - a, [0.4]),
    'neg': (lambda a: -a, [0.4]),
    'mul': (lambda a, b: a * b, [0.7, -1.3]),
    'mul_same_node': (lambda a: a * a, [-0.8]),
    'rmul': (lambda a: 3 * a, [0.4]),
    'div': (lambda a, b: a / b, [0.7, -1.3]),
    'rdiv': (lambda a: 2.0 / a, [-0.6]),
    'pow_int': (lambda a: a ** 3, [-0.9]),
    'pow_negative': (lambda a: a ** -2, [1.7]),
    'pow_fraction': (lambda a: a ** 0.5, [2.3]),
    'rpow': (lambda a: 2 ** a, [0.3]),
    'relu_positive': (lambda a: a.relu(), [0.5]),
    'relu_negative': (lambda a: a.relu(), [-0.5]),
    'tanh': (lambda a: a.tanh(), [0.6]),
    'exp': (lambda a: a.exp(), [1.1]),
    'log': (lambda a: a.log(), [0.35]),
    'sigmoid': (lambda a: a.sigmoid(), [-1.4]),
    # the README's example: every op at once, with reuse and fan-out
    'composite': (lambda a, b: _readme_g(a, b), [-4.0, 2.0]),
}


def _readme_g(a, b):
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    return g + 10.0 / f


@pytest.mark.parametrize("name", BUILTIN_OPS)
def test_gradcheck_passes_on_builtin_op(name):
    fn, xs = BUILTIN_OPS[name]
    assert gradcheck(fn, [Value(x) for x in xs]) is True


@pytest.mark.parametrize("name", BUILTIN_OPS)
def test_builtin_op_matches_torch(name):
    fn, xs = BUILTIN_OPS[name]
    assert_matches_torch(fn, xs, rtol=1e-12, atol=1e-15)  # one op each: only the last bit may differ


def _scaled_sin(x, scale):
    """sin with a derivative off by a factor of scale: a deliberately wrong op to check the checker"""
    out = Value(math.sin(x.data), (x,), 'sin')

    def _backward():
        x.grad += scale * math.cos(x.data) * out.grad
    out._backward = _backward

    return out


def test_gradcheck_error_names_the_input_and_both_gradients():
    a, b = Value(0.3, label='a'), Value(1.2, label='b')
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a * _scaled_sin(b, 2.0), [a, b])
    message = str(info.value)
    assert "input 0" not in message  # a's gradient, sin(b), is right
    assert "input 1 ('b')" in message
    assert f"analytic {2 * 0.3 * math.cos(1.2)!r}" in message  # exactly what the closure computed
    numeric = float(re.search(r"numeric (\S+),", message).group(1))
    assert numeric == pytest.approx(0.3 * math.cos(1.2), rel=1e-8)  # central differences: error ~eps**2
    assert isinstance(info.value, RuntimeError)  # as torch.autograd.gradcheck's GradcheckError


def test_gradcheck_without_label_names_the_index_only():
    with pytest.raises(GradcheckError, match=r"for input 0: analytic"):
        gradcheck(lambda x: _scaled_sin(x, -1.0), [Value(0.5)])


def test_gradcheck_returns_false_when_told_not_to_raise():
    assert gradcheck(lambda x: _scaled_sin(x, 1.5), Value(0.5), raise_exception=False) is False
    assert gradcheck(lambda x: _scaled_sin(x, 1.0), Value(0.5), raise_exception=False) is True


@pytest.mark.parametrize("scale, passes", [(1 + 1e-2, False), (1 - 1e-2, False), (1 + 1e-5, True)])
def test_gradcheck_tolerance_is_atol_plus_rtol_times_numeric(scale, passes):
    # at x = 0.2, cos(x) is about 0.98: a relative error of 1e-2 is beyond atol + rtol * 0.98
    # (about 1e-3), one of 1e-5 is well within it
    assert gradcheck(lambda x: _scaled_sin(x, scale), [Value(0.2)], raise_exception=False) is passes


def test_gradcheck_fails_on_a_nan_gradient():
    assert gradcheck(lambda x: _scaled_sin(x, math.nan), [Value(0.2)], raise_exception=False) is False


def test_gradcheck_leaves_inputs_and_captured_values_as_they_were():
    a, b = Value(0.3), Value(-0.7)
    a.grad, b.grad = 5.0, -2.0  # stale gradients from earlier work must neither leak in nor be lost
    w = Value(1.5)  # read by fn without being an input, like a model's weight
    w.grad = 7.0
    assert gradcheck(lambda a, b: (a * w + b).tanh() * b, [a, b])
    assert (a.data, a.grad, b.data, b.grad, w.data, w.grad) == (0.3, 5.0, -0.7, -2.0, 1.5, 7.0)

    with pytest.raises(GradcheckError):
        gradcheck(lambda a, b: _scaled_sin(a, 3.0) * b * w, [a, b])
    assert (a.data, a.grad, b.data, b.grad, w.data, w.grad) == (0.3, 5.0, -0.7, -2.0, 1.5, 7.0)


def test_gradcheck_restores_data_when_fn_raises_at_a_shifted_point():
    a = Value(1e-7)  # log(a - eps) is log of a negative number
    with pytest.raises(ValueError, match="log needs a positive value"):
        gradcheck(lambda a: a.log(), [a])
    assert a.data == 1e-7 and a.grad == 0.0


def test_a_step_outside_fns_domain_is_named_as_the_central_differences_with_a_smaller_eps_advised():
    a = Value(1e-7)
    stepped = 1e-7 - 1e-6
    with pytest.raises(ValueError) as info:
        gradcheck(lambda a: a.log(), [a], eps=1e-6)
    assert str(info.value) == (
        f"the central difference for input 0 stepped outside fn's domain: at 1e-07 - eps = {stepped!r}, "
        f"fn raised ValueError: log needs a positive value, got {stepped}; pass an eps smaller than 1e-06, "
        f"or check at a point farther from the edge of the domain")
    assert isinstance(info.value.__cause__, ValueError)  # the engine's own error, kept as the cause
    assert gradcheck(lambda a: a.log(), [a], eps=1e-9)  # the smaller eps it advises
    assert a.data == 1e-7 and a.grad == 0.0


@pytest.mark.parametrize("fn, x, eps, side, raised", [
    (lambda x: (1 - x).log(), 1 - 1e-7, 1e-6, '+', 'ValueError'),  # the step past 1 fails, not the one below
    (lambda x: x.exp(), 709.0, 1.0, '+', 'OverflowError'),  # exp(710) is beyond the float range
    (lambda x: x ** -1, 0.5, 0.5, '-', 'ZeroDivisionError'),
])
def test_each_side_of_the_central_difference_names_the_input_its_label_and_the_error(fn, x, eps, side, raised):
    a = Value(x, label='x')
    at = x + eps if side == '+' else x - eps
    expected = (f"the central difference for input 1 ('x') stepped outside fn's domain: at {x!r} {side} eps = "
                f"{at!r}, fn raised {raised}: ")
    with pytest.raises(ValueError, match=re.escape(expected)):
        gradcheck(lambda b, a: b * fn(a), [Value(2.0), a], eps=eps)
    assert a.data == x


def test_an_error_of_fn_at_the_inputs_themselves_is_fns_own():
    with pytest.raises(ValueError, match="^log needs a positive value, got -1.0$"):
        gradcheck(lambda a: a.log(), [Value(-1.0)])


def test_gradcheck_checks_a_model_output_against_its_inputs():
    model = MLP(3, [4, 1], act='tanh', rng=3)
    xs = [Value(0.5), Value(-0.2), Value(0.9)]
    assert gradcheck(lambda *xs: model(xs), xs)
    assert all(p.grad == 0.0 for p in model.parameters())  # the weights' grads were put back


def test_gradcheck_unused_input_has_zero_gradient():
    assert gradcheck(lambda a, b: a * 2, [Value(1.0), Value(3.0)])


@pytest.mark.parametrize("fn, inputs, error, match", [
    (lambda a: 2.0, [Value(1.0)], TypeError, "must return one Value"),
    (lambda a: [a, a], [Value(1.0)], TypeError, "must return one Value"),
    (lambda a: a, [1.0], TypeError, "input 0 must be a Value, got float"),
    (lambda a: a, [], TypeError, "non-empty"),
    (lambda a: a, {1.0}, TypeError, "inputs must be"),
])
def test_gradcheck_rejects_bad_arguments(fn, inputs, error, match):
    with pytest.raises(error, match=match):
        gradcheck(fn, inputs)


@pytest.mark.parametrize("kwargs", [{'eps': 0}, {'eps': -1e-6}, {'atol': -1.0}, {'rtol': math.nan},
                                    {'eps': True}, {'atol': '1e-5'},
                                    {'eps': Fraction(1, 10**400)},  # > 0, but 0.0 as a float: no step at all
                                    {'atol': Fraction(-1, 10**400)}])  # < 0, though -0.0 as a float
def test_gradcheck_rejects_bad_tolerances(kwargs):
    with pytest.raises(ValueError):
        gradcheck(lambda a: a * 2, [Value(1.0)], **kwargs)


def test_gradcheck_is_exported_from_the_package():
    assert micrograd.gradcheck is gradcheck


def test_assert_matches_torch_with_a_separate_torch_fn():
    assert_matches_torch(lambda x: _scaled_sin(x, 1.0), [0.4], torch_fn=torch.sin)


def test_assert_matches_torch_catches_a_wrong_gradient():
    with pytest.raises(AssertionError, match=r"gradient of input 0 differs from torch"):
        assert_matches_torch(lambda x: _scaled_sin(x, 1.001), [0.4], torch_fn=torch.sin)


def test_assert_matches_torch_catches_a_wrong_value():
    with pytest.raises(AssertionError, match=r"the output differs from torch: micrograd 1.4"):
        assert_matches_torch(lambda x: x + 1, [0.4], torch_fn=lambda t: t + 1.0000001)


def test_assert_matches_torch_leaves_its_inputs_alone():
    a = Value(0.4)
    assert_matches_torch(lambda x: x.tanh() * x, [a])
    assert (a.data, a.grad) == (0.4, 0.0)


def test_assert_matches_torch_input_torch_never_reads_counts_as_zero_gradient():
    assert_matches_torch(lambda a, b: a * 3 + b * 0, [1.0, 2.0], torch_fn=lambda a, b: a * 3)


@pytest.mark.parametrize("x", [20.5, 21.0, 25.0, -30.0])
@pytest.mark.parametrize("torch_fn", [
    torch.nn.functional.softplus,
    lambda t: torch.nn.functional.softplus(t, 1.0, 20.0),  # the threshold given, as nn.Softplus gives it
    torch.nn.Softplus(),
], ids=["F.softplus", "threshold=20", "nn.Softplus"])
def test_assert_matches_torch_compares_softplus_with_torchs_exact_form(x, torch_fn):
    # F.softplus returns x itself above threshold=20, where ours is log(1 + e^x): at 21 its gradient
    # is 1.0, ours 0.99999999924, beyond the default rtol=1e-10 (at 25, beyond a single op's 1e-12);
    # the exact form is ours to the last bits
    assert_matches_torch(lambda a: a.softplus(), [x], torch_fn=torch_fn)
    assert_matches_torch(lambda a: a.softplus(), [x], torch_fn=torch_fn, rtol=1e-12, atol=1e-15)


def test_assert_matches_torch_takes_softplus_exactly_inside_a_torch_fn_with_beta():
    # 2 softplus(x) at beta 1/2 is the same log(1 + e^x) as ours: 10.5 * 1/2 is past the threshold
    assert_matches_torch(lambda a, b: (a * b).softplus() + b, [10.5, 2.0],
                         torch_fn=lambda a, b: torch.nn.functional.softplus(a * b * 2, beta=0.5) / 2 + b)


def test_assert_matches_torch_still_catches_a_softplus_gradient_1e_9_off():
    # only torch's softplus changes: its identity above the threshold, written out, still fails
    with pytest.raises(AssertionError, match=r"gradient of input 0 differs from torch: micrograd 0.99999999924"):
        assert_matches_torch(lambda a: a.softplus(), [21.0], torch_fn=lambda t: t)


@pytest.mark.parametrize("torch_fn, match", [(lambda t: 1.0, "float"), (lambda t: torch.stack([t, t]), "one element")])
def test_assert_matches_torch_rejects_a_torch_fn_of_wrong_shape(torch_fn, match):
    with pytest.raises(TypeError, match=match):
        assert_matches_torch(lambda x: x, [0.4], torch_fn=torch_fn)


def test_gradcheck_takes_numpy_tolerances_and_computes_in_python_floats():
    # x + numpy.float32(eps) is a float32: the central difference would lose all but a few digits
    a = Value(np.float32(0.3))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: _scaled_sin(a, 2.0), [a], eps=np.float32(1e-6), atol=np.float16(0), rtol=np.float64(1e-3))
    eps = float(np.float32(1e-6))
    x = float(np.float32(0.3))
    expected = (math.sin(x + eps) - math.sin(x - eps)) / (2 * eps)  # the same formula in Python floats
    assert f"numeric {expected!r}," in str(info.value)
    assert type(a.data) is float and a.data == x
    assert gradcheck(lambda a: a.tanh() * a, [a], eps=np.float32(1e-6), atol=np.int64(0), rtol=np.float32(1e-6))


@pytest.mark.parametrize("inputs", [
    np.array([0.7, -1.3]), np.array([0.7, -1.3], dtype=np.float32), [np.float16(0.7), np.int8(-1)],
    (Fraction(7, 10), np.uint64(2)),
])
def test_assert_matches_torch_takes_numpy_inputs_as_their_exact_python_floats(inputs):
    seen = []

    def fn(a, b):  # called on Values, then on tensors
        if isinstance(a, Value):
            seen.append((type(a.data), type(b.data)))
        return (a * b).tanh() + a / b

    assert_matches_torch(fn, inputs, rtol=np.float32(1e-12), atol=np.float64(1e-15))
    assert seen == [(float, float)]
    with pytest.raises(AssertionError, match="gradient of input 1 differs from torch"):
        assert_matches_torch(lambda a, b: a * _scaled_sin(b, 1.001), inputs,
                             torch_fn=lambda a, b: a * torch.sin(b), rtol=np.float32(1e-10))


@pytest.mark.parametrize("inputs", [np.array(0.5), np.array([[0.5, 1.0]]), np.array([]), {0.5}])
def test_assert_matches_torch_refuses_inputs_that_are_no_list_of_numbers(inputs):
    with pytest.raises(TypeError, match="inputs must be"):
        assert_matches_torch(lambda a: a, inputs)


@pytest.mark.parametrize("kwargs", [{'rtol': np.float64('nan')}, {'atol': np.bool_(True)}, {'rtol': np.float32(-1)}])
def test_assert_matches_torch_rejects_bad_numpy_tolerances(kwargs):
    with pytest.raises(ValueError, match=list(kwargs)[0]):
        assert_matches_torch(lambda a: a, [0.5], **kwargs)


def test_assert_matches_torch_accepts_equal_infinities():
    # d/dx sqrt(x) at 0 is inf in both: inf - inf is nan, which must not read as a difference
    assert_matches_torch(lambda a: a ** 0.5, [0.0])


@pytest.mark.parametrize("huge", [10**400, -10**400, np.longdouble('1e400')])
def test_assert_matches_torch_refuses_an_input_beyond_the_float_range_naming_it(huge):
    # float() would raise a bare OverflowError for the int, and make the longdouble inf
    with pytest.raises(OverflowError, match=r"^input 1 is -?1.*\.\.\. is too large for a float"):
        assert_matches_torch(lambda a, b: a * b, [1.0, huge])


def test_assert_matches_torch_takes_an_int_within_the_float_range_as_torch_does():
    assert_matches_torch(lambda a, b: a * b + b.tanh(), [2**1000, -3])


@pytest.mark.parametrize("kwargs, name", [({'eps': 10**400}, 'eps'), ({'atol': np.longdouble('1e400')}, 'atol'),
                                          ({'rtol': 10**400}, 'rtol')])
def test_gradcheck_refuses_a_tolerance_beyond_the_float_range_naming_it(kwargs, name):
    with pytest.raises(OverflowError, match=rf"^{name} is 1.*\.\.\. is too large for a float"):
        gradcheck(lambda a: a * 2, [Value(1.0)], **kwargs)
