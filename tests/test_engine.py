"""Value against PyTorch in float64: every op, the README example, reuse, random graphs, the edges."""
import fractions
import gc
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

from micrograd.engine import Value


def leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def both(fn, *xs):
    """fn applied to Values and to torch leaves, both backpropagated: (values, leaves, out, out_t)"""
    vs, ts = [Value(x) for x in xs], [leaf(x) for x in xs]
    out, out_t = fn(*vs), fn(*ts)
    out.backward()
    out_t.backward()
    return vs, ts, out, out_t


def assert_matches(vs, ts, out, out_t, rel=1e-12, abs=1e-15):
    assert out.data == pytest.approx(out_t.item(), rel=rel, abs=abs)
    for v, t in zip(vs, ts, strict=True):
        t_grad = 0.0 if t.grad is None else t.grad.item()  # torch leaves unused leaves at None
        assert v.grad == pytest.approx(t_grad, rel=rel, abs=abs)


# each op alone, at points away from its kinks and poles
UNARY = {
    'neg': lambda a: -a,
    'relu': lambda a: a.relu(),
    'tanh': lambda a: a.tanh(),
    'exp': lambda a: a.exp(),
    'sigmoid': lambda a: a.sigmoid(),
    'square': lambda a: a**2,
    'cube': lambda a: a**3,
    'inverse': lambda a: a**-1,
    'radd': lambda a: 3.5 + a,
    'rsub': lambda a: 3.5 - a,
    'rmul': lambda a: 3.5 * a,
    'rdiv': lambda a: 3.5 / a,
    'add_num': lambda a: a + 1.5,
    'sub_num': lambda a: a - 1.5,
    'div_num': lambda a: a / 2.5,
}


@pytest.mark.parametrize("x", [-1.7, -0.3, 0.4, 2.2])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_matches_torch(name, x):
    assert_matches(*both(UNARY[name], x))


@pytest.mark.parametrize("x", [0.3, 1.0, 4.5])
@pytest.mark.parametrize("name, fn", [
    ('log', lambda a: a.log()),
    ('sqrt', lambda a: a**0.5),
    ('pow_frac', lambda a: a**1.7),
    ('pow_neg_frac', lambda a: a**-0.5),
])
def test_positive_domain_op_matches_torch(name, fn, x):
    assert_matches(*both(fn, x))


@pytest.mark.parametrize("x, y", [(-1.5, 0.7), (2.0, -3.0), (0.25, 4.0)])
@pytest.mark.parametrize("name, fn", [
    ('add', lambda a, b: a + b),
    ('sub', lambda a, b: a - b),
    ('mul', lambda a, b: a * b),
    ('div', lambda a, b: a / b),
])
def test_binary_op_matches_torch(name, fn, x, y):
    assert_matches(*both(fn, x, y))


@pytest.mark.parametrize("x", [-1.2, 0.5, 2.0])
def test_rpow_matches_torch(x):
    assert_matches(*both(lambda a: 2.5 ** a, x))


def test_readme_example_matches_torch_and_documented_numbers():
    def readme(a, b):
        c = a + b
        d = a * b + b**3
        c = c + (c + 1)
        c = c + (1 + c + (-a))
        d = d + (d * 2 + (b + a).relu())
        d = d + (3 * d + (b - a).relu())
        e = c - d
        f = e**2
        g = f / 2.0
        return g + 10.0 / f

    vs, ts, g, gt = both(readme, -4.0, 2.0)
    assert_matches(vs, ts, g, gt)
    assert (round(g.data, 4), round(vs[0].grad, 4), round(vs[1].grad, 4)) == (24.7041, 138.8338, 645.5773)


def test_lecture_neuron_matches_torch():
    def neuron(x1, x2, w1, w2, b):
        return (x1 * w1 + x2 * w2 + b).tanh()

    vs, ts, o, ot = both(neuron, 2.0, 0.0, -3.0, 1.0, 6.8813735870195432)
    assert_matches(vs, ts, o, ot)
    assert o.data == pytest.approx(math.sqrt(0.5), rel=1e-9)  # the lecture picks b so that o = 1/sqrt(2)


def test_lecture_neuron_by_exp_formula_matches_tanh():
    # the lecture's second version spells tanh out: (e^2x - 1) / (e^2x + 1)
    x1, x2, w1, w2, b = (Value(v) for v in (2.0, 0.0, -3.0, 1.0, 6.8813735870195432))
    e = (2 * (x1 * w1 + x2 * w2 + b)).exp()
    o = (e - 1) / (e + 1)
    o.backward()
    assert o.data == pytest.approx(math.sqrt(0.5), rel=1e-12)
    assert (x1.grad, x2.grad, w1.grad, w2.grad) == pytest.approx((-1.5, 0.5, 1.0, 0.0), rel=1e-9, abs=1e-12)


# reuse: a node feeding several parents receives every contribution
@pytest.mark.parametrize("name, fn", [
    ('a*a', lambda a: a * a),
    ('a+a', lambda a: a + a),
    ('fan_out', lambda a: (a * 2).tanh() + (a * 3).exp() * a - a.sigmoid()),
    ('diamond', lambda a: (lambda h: h * h + h)(a * a + 1)),
])
def test_reused_node_accumulates_like_torch(name, fn):
    assert_matches(*both(fn, 0.6))


def test_closure_scales_by_out_grad():
    a, b = Value(2.0), Value(-3.0)
    out = a * b
    out.grad = 0.0
    out._backward()  # by hand, as the lecture does
    assert (a.grad, b.grad) == (0.0, 0.0)
    out.grad = 2.0
    out._backward()
    assert (a.grad, b.grad) == (-6.0, 4.0)


def test_leaf_backward_is_a_callable_no_op():
    a = Value(1.0)
    a._backward()
    assert a.grad == 0.0


def test_attributes_and_repr_as_in_the_original():
    a, b = Value(2.0, label='a'), Value(-3.0)
    e = a * b
    e.label = 'e'
    assert (e.data, e.grad, e._op, e.label) == (-6.0, 0.0, '*', 'e')
    assert e._prev == (a, b)
    assert repr(e) == "Value(data=-6.0, grad=0.0)"
    assert [v._op for v in (a + b, a**2, a.relu(), a.tanh(), a.exp(), a.sigmoid())] == \
        ['+', '**2', 'ReLU', 'tanh', 'exp', 'sigmoid']
    assert Value(1.0, (a, b), 'custom')._prev == (a, b)
    assert Value(1.0, {a}, 'from a set')._prev == (a,)  # the lecture passes tuples; sets still work


# random expression graphs, value by value and gradient by gradient
_UNARY_SAFE = [
    lambda a: a.tanh(), lambda a: a.sigmoid(), lambda a: -a, lambda a: a * 0.5,
    lambda a: (a * 0.1).exp(), lambda a: (a * a + 1).log(), lambda a: a**2, lambda a: (a * a + 0.5)**-1,
]
_BINARY_SAFE = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
                lambda a, b: a / (b * b + 1)]


@st.composite
def programs(draw):
    n_leaves = draw(st.integers(1, 4))
    xs = draw(st.lists(st.floats(-2, 2, allow_nan=False), min_size=n_leaves, max_size=n_leaves))
    steps = draw(st.lists(st.tuples(st.booleans(), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)),
                          min_size=1, max_size=25))
    return xs, steps


def run_program(leaves, steps):
    nodes = list(leaves)
    for is_binary, op, i, j in steps:
        if is_binary:
            nodes.append(_BINARY_SAFE[op % len(_BINARY_SAFE)](nodes[i % len(nodes)], nodes[j % len(nodes)]))
        else:
            nodes.append(_UNARY_SAFE[op % len(_UNARY_SAFE)](nodes[i % len(nodes)]))
    return sum(nodes[len(leaves):], nodes[-1] * 0.0)  # every intermediate reaches the output


@given(programs())
def test_random_graph_matches_torch(program):
    xs, steps = program
    vs, ts, out, out_t = both(lambda *leaves: run_program(leaves, steps), *xs)
    # up to 25 ops deep: rounding differences compound, so allow a few hundred ulps
    assert_matches(vs, ts, out, out_t, rel=1e-10, abs=1e-12)


# the edges: kinks, saturation, overflow, domains
def test_relu_grad_at_zero_is_zero_as_in_torch():
    vs, ts, out, out_t = both(lambda a: a.relu(), 0.0)
    assert vs[0].grad == ts[0].grad.item() == 0.0


@pytest.mark.parametrize("x", [1000.0, -1000.0, 30.0])
def test_tanh_saturates_without_overflow(x):
    y = Value(x).tanh()
    y.backward()
    assert y.data == math.copysign(1.0, x)
    assert y._prev[0].grad == 0.0


def test_sigmoid_is_stable_at_both_ends():
    lo, hi = Value(-1000.0).sigmoid(), Value(1000.0).sigmoid()
    assert (lo.data, hi.data) == (0.0, 1.0)
    vs, ts, out, out_t = both(lambda a: a.sigmoid(), -740.0)
    assert_matches(vs, ts, out, out_t)


def test_exp_overflow_names_the_value():
    with pytest.raises(OverflowError, match="1000.0"):
        Value(1000.0).exp()


@pytest.mark.parametrize("x", [0.0, -2.5])
def test_log_of_non_positive_names_the_value(x):
    with pytest.raises(ValueError, match=str(x)):
        Value(x).log()


@pytest.mark.parametrize("fn", [lambda: Value(1.0) / 0, lambda: Value(1.0) / Value(0.0),
                                lambda: Value(0) ** -1, lambda: 1 / Value(0.0)])
def test_division_by_zero_raises(fn):
    with pytest.raises(ZeroDivisionError):
        fn()


def test_negative_base_fractional_power_raises():
    with pytest.raises(ValueError, match="fractional"):
        Value(-8.0) ** (1 / 3)
    assert (Value(-2.0) ** 2.0).data == 4.0  # an integral float exponent is fine


def test_pow_overflow_names_the_numbers():
    with pytest.raises(OverflowError, match=r"1e\+200 \*\* 3"):
        Value(1e200) ** 3


def test_value_exponent_is_a_clear_type_error():
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(3.0)


@pytest.mark.parametrize("base", [0, -2.0])
def test_rpow_needs_a_positive_base(base):
    with pytest.raises(ValueError, match="positive base"):
        base ** Value(1.0)


@pytest.mark.parametrize("bad, name", [("3", "str"), (None, "NoneType"), ([1.0], "list"),
                                       (True, "bool"), (1j, "complex"), (np.array([1.0]), "ndarray")])
def test_non_number_raises_type_error_naming_it(bad, name):
    with pytest.raises(TypeError, match=name):
        Value(bad)


@pytest.mark.parametrize("op", [lambda v: v + "a", lambda v: v * None, lambda v: "a" * v, lambda v: v ** "2",
                                lambda v: v - "a", lambda v: v / "a"])
def test_op_with_non_number_raises_type_error_naming_it(op):
    with pytest.raises(TypeError, match="str|NoneType"):
        op(Value(1.0))


@pytest.mark.parametrize("x", [3, np.float64(2.5), np.float32(0.5), np.int64(7), fractions.Fraction(1, 4)])
def test_real_numbers_become_floats(x):
    v = Value(x)
    assert type(v.data) is float and v.data == float(x)
    assert type((Value(1.0) * x).data) is float


# structure: depth, determinism
def test_million_node_chain_backprops_without_recursion_error():
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y + 0.0  # each step adds the Value and a constant leaf
    y.backward()
    assert y.data == 0.5 and x.grad == 1.0


_GRADS_SCRIPT = """
import random
from micrograd.engine import Value
random.seed(0)
xs = [Value(random.uniform(-1, 1)) for _ in range(50)]
nodes = list(xs)
for _ in range(2000):
    a, b = random.choice(nodes), random.choice(nodes)
    nodes.append((a * b + 0.1).tanh() if random.random() < 0.5 else a + b * 0.3)
out = sum(nodes[-300:], Value(0.0))
out.backward()
print(out.data.hex(), *(x.grad.hex() for x in xs))
"""


def test_gradients_are_bitwise_equal_across_processes():
    runs = [subprocess.run([sys.executable, "-c", _GRADS_SCRIPT], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": str(seed), "PATH": ""}, cwd=_repo_root()).stdout
            for seed in (1, 2)]
    assert runs[0] == runs[1] and len(runs[0].split()) == 51


def test_backward_visits_each_node_once_children_first():
    from micrograd.engine import topological_order
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert order == [a, b, c, d, e]  # children in creation order, each node once


def test_import_leaves_interpreter_state_alone():
    script = ("import gc, sys, random, warnings\n"
              "before = (gc.isenabled(), gc.get_threshold(), sys.getrecursionlimit(), random.getstate(), "
              "list(warnings.filters))\n"
              "import micrograd, micrograd.engine, micrograd.nn\n"
              "from micrograd.engine import Value\n"
              "from micrograd.nn import MLP\n"
              "y = MLP(2, [3, 1], rng=0)([1.0, 2.0]); y.backward()\n"
              "after = (gc.isenabled(), gc.get_threshold(), sys.getrecursionlimit(), random.getstate(), "
              "list(warnings.filters))\n"
              "print(before == after)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=_repo_root()).stdout
    assert out.strip() == "True"


def _repo_root():
    import pathlib
    return str(pathlib.Path(__file__).resolve().parent.parent)


def test_a_dropped_graph_is_freed_without_the_cycle_collector():
    # no node refers back to itself through a closure, so reference counting frees a graph at once
    gc.collect()
    x = Value(0.7)
    y = ((x * 2 + 1).tanh() / x - x.exp() + x.sigmoid() * x.relu() + (x ** 2).log() - 3 ** x)
    y.backward()
    del x, y
    assert gc.collect() == 0


@pytest.mark.parametrize("n", [np.float32(0.1), np.int64(3), fractions.Fraction(1, 3)])
def test_pow_with_a_numpy_or_fraction_exponent_is_computed_in_double(n):
    vs, ts, out, out_t = both(lambda a: a ** float(n) if isinstance(a, torch.Tensor) else a ** n, 1.2)
    assert_matches(vs, ts, out, out_t)
    # an integral exponent stays an int, as Python's own x ** 3 writes it
    assert out._op == (f"**{int(n)}" if isinstance(n, np.integer) else f"**{float(n)}")
