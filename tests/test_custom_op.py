"""A user's own op, written the way engine.py writes its ops, works like a built-in one.

The recipe (docs/testing.md, custom ops): compute the forward value from .data, make
out = Value(value, children, 'name'), give it a _backward closure that adds
local derivative * out.grad to each child's grad with +=, and return out.
"""
import math

import pytest
import torch

from micrograd.engine import Value
from micrograd.testing import GradcheckError, assert_matches_torch, gradcheck
from micrograd.viz import draw_dot, trace


def softplus(x):
    """log(1 + e^x), a smooth relu"""
    x = x if isinstance(x, Value) else Value(x)
    # max(x, 0) + log1p(e^-|x|): exp of a number <= 0 only, so no overflow for large x
    out = Value(max(x.data, 0.0) + math.log1p(math.exp(-abs(x.data))), (x,), 'softplus')

    def _backward():
        x.grad += -math.expm1(-out.data) * out.grad  # softplus' = sigmoid(x) = 1 - e^-softplus(x)
    out._backward = _backward

    return out


def logaddexp(a, b):
    """log(e^a + e^b), a smooth max of two Values"""
    a = a if isinstance(a, Value) else Value(a)
    b = b if isinstance(b, Value) else Value(b)
    m = max(a.data, b.data)  # shift by the larger one so exp never overflows
    out = Value(m + math.log1p(math.exp(-abs(a.data - b.data))), (a, b), 'logaddexp')

    def _backward():
        a.grad += math.exp(a.data - out.data) * out.grad  # d/da = e^a / (e^a + e^b)
        b.grad += math.exp(b.data - out.data) * out.grad
    out._backward = _backward

    return out


def leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("x", [-30.0, -2.5, -0.3, 0.0, 0.7, 4.0, 30.0])
def test_softplus_value_and_grad_match_torch(x):
    a, at = Value(x), leaf(x)
    y, yt = softplus(a), torch.logaddexp(at, torch.zeros((), dtype=torch.float64))  # log(e^x + e^0)
    y.backward()
    yt.backward()
    assert y.data == pytest.approx(yt.item(), rel=1e-12, abs=1e-15)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("x", [-800.0, 800.0])
def test_softplus_does_not_overflow(x):
    a = Value(x)
    y = softplus(a)
    y.backward()
    assert y.data == max(x, 0.0)  # log1p(e^-800) is below the last bit of 800
    assert a.grad == (1.0 if x > 0 else 0.0)


@pytest.mark.parametrize("x, y", [(0.3, -1.1), (2.0, 2.0), (-40.0, 5.0), (700.0, 710.0)])
def test_logaddexp_value_and_grads_match_torch(x, y):
    a, b, at, bt = Value(x), Value(y), leaf(x), leaf(y)
    out, out_t = logaddexp(a, b), torch.logaddexp(at, bt)
    out.backward()
    out_t.backward()
    assert out.data == pytest.approx(out_t.item(), rel=1e-12, abs=1e-15)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-12, abs=1e-15)
    assert b.grad == pytest.approx(bt.grad.item(), rel=1e-12, abs=1e-15)


def test_custom_ops_pass_gradcheck_inside_a_larger_graph():
    # reuse (x twice, through softplus and directly) and a chain through built-ins on both sides
    def f(x, y):
        return logaddexp(softplus(x * y) * x, (y - 1).tanh()) ** 2
    assert gradcheck(f, [Value(0.8), Value(-1.3)])


def test_custom_ops_match_the_same_graph_in_torch():
    def f(x, y):
        return logaddexp(softplus(x * y) * x, (y - 1).tanh()) ** 2

    def f_torch(x, y):
        return torch.logaddexp(torch.nn.functional.softplus(x * y) * x, (y - 1).tanh()) ** 2
    # a dozen ops: rounding can reach a few units in the last place, far below rtol=1e-12
    assert_matches_torch(f, [0.8, -1.3], torch_fn=f_torch, rtol=1e-12, atol=1e-15)


def test_custom_op_closure_scales_by_out_grad():
    x = Value(0.5)
    y = softplus(x)
    y.grad = 0.0  # what a zero upstream gradient must give the child: nothing
    y._backward()
    assert x.grad == 0.0
    y.grad = 3.0
    y._backward()
    assert x.grad == pytest.approx(3.0 / (1 + math.exp(-0.5)), rel=1e-15)


def test_custom_op_is_a_node_like_any_other():
    x = Value(0.5, label='x')
    y = softplus(x) * 2
    nodes, edges = trace(y)
    op = [v for v in nodes if v._op == 'softplus']
    assert len(op) == 1 and op[0]._prev == (x,)
    assert nodes.index(x) < nodes.index(op[0]) < nodes.index(y)  # the order backward() runs in reverse
    op = op[0]
    assert (x, op) in edges
    source = draw_dot(y).source  # the DOT text; no dot program needed
    assert 'label=softplus' in source


# three ways to get a custom op wrong, each a classic; gradcheck must catch every one

def softplus_wrong_derivative(x):
    out = Value(math.log1p(math.exp(x.data)), (x,), 'softplus')

    def _backward():
        x.grad += math.tanh(x.data) * out.grad  # wrong: the derivative is sigmoid, not tanh
    out._backward = _backward

    return out


def softplus_ignores_out_grad(x):
    out = Value(math.log1p(math.exp(x.data)), (x,), 'softplus')

    def _backward():
        x.grad += 1 / (1 + math.exp(-x.data))  # wrong: the chain rule needs * out.grad
    out._backward = _backward

    return out


def softplus_overwrites_grad(x):
    out = Value(math.log1p(math.exp(x.data)), (x,), 'softplus')

    def _backward():
        x.grad = 1 / (1 + math.exp(-x.data)) * out.grad  # wrong: = drops what other uses of x gave
    out._backward = _backward

    return out


@pytest.mark.parametrize("wrong_op", [softplus_wrong_derivative, softplus_ignores_out_grad,
                                      softplus_overwrites_grad])
def test_gradcheck_catches_a_wrong_custom_op(wrong_op):
    # x * op(x): x is used twice and op's output gradient is x, not 1, so each bug shows
    with pytest.raises(GradcheckError, match=r"input 0 \('x'\): analytic"):
        gradcheck(lambda x: x * wrong_op(x), [Value(0.6, label='x')])


@pytest.mark.parametrize("wrong_op", [softplus_wrong_derivative, softplus_ignores_out_grad,
                                      softplus_overwrites_grad])
def test_assert_matches_torch_catches_a_wrong_custom_op(wrong_op):
    with pytest.raises(AssertionError, match="gradient of input 0 differs"):
        assert_matches_torch(lambda x: x * wrong_op(x), [0.6],
                             torch_fn=lambda x: x * torch.nn.functional.softplus(x))


# backward() runs a closure assigned the lecture's way like any built-in op, call after call

def test_custom_op_backward_twice_gives_leaves_exactly_twice_like_torch():
    def f(x, y):
        return logaddexp(softplus(x * y) * x, (y - 1).tanh()) ** 2

    def f_torch(x, y):
        return torch.logaddexp(torch.nn.functional.softplus(x * y) * x, (y - 1).tanh()) ** 2

    x, y, xt, yt = Value(0.8), Value(-1.3), leaf(0.8), leaf(-1.3)
    out, out_t = f(x, y), f_torch(xt, yt)
    out.backward()
    once = (x.grad, y.grad)
    out.backward()
    out_t.backward(retain_graph=True)
    out_t.backward()
    assert (x.grad, y.grad) == (2 * once[0], 2 * once[1])
    assert x.grad == pytest.approx(xt.grad.item(), rel=1e-12, abs=1e-15)
    assert y.grad == pytest.approx(yt.grad.item(), rel=1e-12, abs=1e-15)


def test_two_losses_over_a_custom_op_add_their_gradients_like_torch():
    x, xt = Value(0.4), leaf(0.4)
    h, ht = softplus(x * 3), torch.nn.functional.softplus(xt * 3)
    (h * 2).backward()
    (h.tanh()).backward()
    (ht * 2).backward(retain_graph=True)
    (ht.tanh()).backward()
    assert x.grad == pytest.approx(xt.grad.item(), rel=1e-12, abs=1e-15)
    assert h.grad == pytest.approx(1 - math.tanh(h.data) ** 2, rel=1e-12)  # the last call's gradient only


def test_custom_op_matches_the_built_in_softplus():
    for x in (-30.0, -0.3, 0.0, 2.5, 800.0):
        a, b = Value(x), Value(x)
        y, z = softplus(a) * a, b.softplus() * b
        y.backward()
        z.backward()
        assert y.data == z.data
        assert a.grad == pytest.approx(b.grad, rel=1e-15, abs=1e-300)  # sigmoid written two ways


def sin(x):
    """sin, the shared-function way (docs/testing.md): one backward function for every sin node"""
    out = Value(math.sin(x.data), (x,), 'sin')
    out._grad_fn = _sin_backward
    return out


def _sin_backward(out):  # out = sin(a)
    a, = out._prev
    a.grad += math.cos(a.data) * out.grad  # d/dx sin(x) = cos(x)


def test_shared_function_custom_op_matches_torch_call_after_call():
    x, xt = Value(0.5), leaf(0.5)
    y, yt = sin(x * x) * x, torch.sin(xt * xt) * xt
    for _ in range(2):  # leaves accumulate, as in torch with retain_graph=True
        y.backward()
        yt.backward(retain_graph=True)
        assert x.grad == pytest.approx(xt.grad.item(), rel=1e-12, abs=1e-15)
    y.grad = 1.0
    y._prev[0].grad = 0.0
    y._backward()  # the lecture's closure, made on the spot, runs the shared function
    assert y._prev[0].grad == x.data  # d(s * x)/ds = x
