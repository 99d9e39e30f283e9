"""Value against PyTorch in float64: every op, the README example, reuse, random graphs, the edges,
numbers of every kind on either side of every operator, backward() called again and over two losses."""
import copy
import fractions
import gc
import math
import pickle
import random
import re
import subprocess
import sys
import warnings
import weakref

import numpy as np
import pytest
import torch
import mpmath
from hypothesis import given, strategies as st

from micrograd.engine import Value, amax, dot, select, topological_order


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


def test_a_value_takes_any_attribute_as_in_the_original():
    v = Value(2.0)
    v.name, v.note = 'x', [1, 2]
    twin = pickle.loads(pickle.dumps(v * 3))._prev[0]
    assert (v.name, v.note, twin.name, twin.note) == ('x', [1, 2], 'x', [1, 2])


def test_a_subclass_keeps_its_own_attributes_a_and_b_out_of_the_graph():
    """the engine keeps children in slots of its own; a subclass's self._a is its own business"""
    class Interval(Value):
        def __init__(self, lo, hi):
            super().__init__((lo + hi) / 2)
            self._a, self._b = Value(lo), 'upper'

    x = Interval(1.0, 3.0)
    y = x * x
    y.backward()
    assert (y._prev, x._prev, x.grad, x._a.data, x._b) == ((x, x), (), 4.0, 1.0, 'upper')


@pytest.mark.parametrize("children", [(1.0,), ('a', 'b'), (None,)])
def test_prev_keeps_children_that_are_not_values_as_given(children):
    v = Value(1.0)
    v._prev = children
    assert v._prev == children


def test_prev_keeps_a_none_among_values_as_given():
    a = Value(1.0)
    assert (Value(2.0, (a, None))._prev, Value(2.0, (None, a))._prev) == ((a, None), (None, a))


def test_a_value_can_be_referenced_weakly_as_in_the_original():
    v = Value(2.0)
    ref = weakref.ref(v * 3)
    assert (weakref.ref(v)() is v, ref()) == (True, None)  # the product is freed at once


def test_a_subclass_written_the_lectures_way_runs_backward():
    """the lecture's __init__ sets _backward before _op; a subclass may copy it as it is"""
    class LectureValue(Value):
        def __init__(self, data, _children=(), _op='', label=''):
            self.data = data
            self.grad = 0.0
            self._backward = lambda: None
            self._prev = set(_children)
            self._op = _op
            self.label = label

    a, b = LectureValue(2.0), LectureValue(-3.0)
    out = a * b + a
    out.backward()
    assert (out.data, a.grad, b.grad, a._prev, a._op) == (-4.0, -2.0, 2.0, (), '')


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


def apply_steps(leaves, steps, binary, unary):
    """the program's new nodes: each step applies one op of the tables to earlier nodes"""
    nodes = list(leaves)
    for is_binary, op, i, j in steps:
        if is_binary:
            nodes.append(binary[op % len(binary)](nodes[i % len(nodes)], nodes[j % len(nodes)]))
        else:
            nodes.append(unary[op % len(unary)](nodes[i % len(nodes)]))
    return nodes[len(leaves):]


def run_program(leaves, steps):
    nodes = apply_steps(leaves, steps, _BINARY_SAFE, _UNARY_SAFE)
    return sum(nodes, nodes[-1] * 0.0)  # every intermediate reaches the output


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
    # sech²(x), 3.5e-26 at 30 (torch's 1 - 1.0² gives 0 there), 0.0 at ±1000 where it underflows
    assert y._prev[0].grad == pytest.approx(float(mpmath.sech(x)**2), rel=1e-15, abs=0)


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
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert order == [a, b, c, d, e]  # children in creation order, each node once


def _reference_order(root):
    """the original's recursive walk over _prev, written with a stack: each Value once, after its
    children, children in the order of _prev"""
    order, seen, stack = [], {root}, [(root, iter(root._prev))]
    while stack:
        v, children = stack[-1]
        for child in children:
            if child not in seen:
                seen.add(child)
                stack.append((child, iter(child._prev)))
                break
        else:
            stack.pop()
            order.append(v)
    return order


def _random_graph(rng, depth):
    """a random graph of every kind of node: ops of one, two and many children, a custom op, shared
    children; with a chain of depth + ops on top, so its walk goes that deep"""
    nodes = [Value(rng.uniform(-1, 1)) for _ in range(8)]
    for _ in range(300):
        a, b, c = (rng.choice(nodes) for _ in range(3))
        kind = rng.randrange(6)
        nodes.append(a * b if kind == 0 else a.tanh() if kind == 1 else dot([a, b], [c, a]) if kind == 2
                     else amax([a, b, c]) if kind == 3 else Value(a.data, (a, b, c), 'custom') if kind == 4
                     else a / b)
    chain = nodes[-1]
    for _ in range(depth):
        chain = chain + rng.choice(nodes[-50:])
    return sum(nodes[-40:], chain)


@pytest.mark.parametrize("depth", [0, 100, 3000])
def test_topological_order_is_the_original_walk_at_any_depth(depth):
    root = _random_graph(random.Random(depth), depth)
    assert topological_order(root) == _reference_order(root)


def test_topological_order_is_the_same_when_called_near_the_frame_limit():
    # the walk recurses while Python's frame limit allows, then takes a stack of its own
    root = _random_graph(random.Random(1), 200)

    def deep(n):
        return topological_order(root) if n == 0 else deep(n - 1)
    assert deep(sys.getrecursionlimit() - 100) == _reference_order(root)


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


# numbers in, Python floats out: every operand is converted to a float before any arithmetic
INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
FLOAT_DTYPES = [np.float16, np.float32, np.float64]


def numpy_ints(lo=None, hi=None):
    """NumPy integer scalars of every dtype, each within its dtype's range (and within lo..hi)"""
    return st.one_of([st.integers(max(np.iinfo(t).min, lo if lo is not None else -2**64),
                                  min(np.iinfo(t).max, hi if hi is not None else 2**64)).map(t)
                      for t in INT_DTYPES])


def numpy_floats(lo, hi):
    """NumPy float scalars of every dtype, each exactly representable in its dtype (float16 up to 65504)"""
    bound = [float(np.finfo(t).max) for t in FLOAT_DTYPES]
    return st.one_of([st.floats(max(lo, -top), min(hi, top), width=width).map(t)
                      for t, width, top in zip(FLOAT_DTYPES, (16, 32, 64), bound)])


def numbers_in(lo, hi):
    """every kind of real number a user may pass, from lo to hi"""
    return st.one_of(st.integers(int(lo), int(hi)), st.floats(lo, hi), numpy_ints(int(lo), int(hi)),
                     numpy_floats(lo, hi), st.fractions(lo, hi, max_denominator=1000))


def is_python_float(x):
    return type(x) is float


BINARY = {  # the Python-float computation each operator must give, and the same in torch
    '+': (lambda x, y: x + y, lambda x, y: x + y),
    '-': (lambda x, y: x - y, lambda x, y: x - y),
    '*': (lambda x, y: x * y, lambda x, y: x * y),
    '/': (lambda x, y: x / y, lambda x, y: x / y),
}
APPLY = {'+': lambda a, b: a + b, '-': lambda a, b: a - b, '*': lambda a, b: a * b, '/': lambda a, b: a / b}


@given(op=st.sampled_from(sorted(BINARY)), x=st.floats(-1e6, 1e6),
       other=st.one_of(numbers_in(-1e6, 1e6), st.floats(-1e6, 1e6).map(lambda y: ('Value', y))),
       value_on_left=st.booleans())
def test_binary_op_with_any_number_on_either_side_computes_in_python_floats(op, x, other, value_on_left):
    # the operand `other` is any kind of number, or a second Value; the Value is on either side
    on_python, on_torch = BINARY[op]
    y = float(other[1]) if isinstance(other, tuple) else float(other)
    a = Value(x)
    b = Value(y) if isinstance(other, tuple) else other
    lhs, rhs = (a, b) if value_on_left else (b, a)
    xs = (x, y) if value_on_left else (y, x)
    if op == '/' and xs[1] == 0:
        with pytest.raises(ZeroDivisionError):
            APPLY[op](lhs, rhs)
        return
    out = APPLY[op](lhs, rhs)
    assert isinstance(out, Value) and is_python_float(out.data)
    assert out.data == on_python(*xs)
    ts = [leaf(v) for v in xs]
    out_t = on_torch(*ts)
    assert out.data == out_t.item()  # + - * / are correctly rounded, in both
    out.backward()
    out_t.backward()
    values = [(v, t) for v, t in zip((lhs, rhs), ts) if isinstance(v, Value)]
    for v, t in values:
        assert is_python_float(v.grad)
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=0)


def nonzero_or_zero(lo, hi):
    """0 or a number at least lo from zero: x ** -n of a tiny x overflows before any test can look"""
    return st.one_of(st.just(0.0), st.floats(lo, hi), st.floats(-hi, -lo))


@given(x=nonzero_or_zero(1e-3, 10.0),
       n=st.one_of(st.integers(-4, 4), numpy_ints(-4, 4), st.floats(-3, 3), numpy_floats(-3, 3)))
def test_value_to_any_number_power_computes_in_python_floats(x, n):
    exponent = int(n) if isinstance(n, (int, np.integer)) else float(n)
    if x == 0 and exponent < 0:
        with pytest.raises(ZeroDivisionError):
            Value(x) ** n
        return
    if x < 0 and not float(exponent).is_integer():
        with pytest.raises(ValueError, match="fractional"):
            Value(x) ** n
        return
    a, at = Value(x), leaf(x)
    out, out_t = a ** n, at ** exponent
    assert is_python_float(out.data) and out.data == x ** exponent
    assert out.data == pytest.approx(out_t.item(), rel=1e-15, abs=0)
    out.backward()
    out_t.backward()
    assert is_python_float(a.grad)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-12, abs=0)  # inf == inf at 0 ** 0.5, say


@given(base=numbers_in(1 / 64, 100.0).filter(lambda b: b > 0), x=st.floats(-3, 3))
def test_any_positive_number_to_a_value_power_computes_the_power(base, x):
    a, at = Value(x), leaf(x)
    out, out_t = base ** a, float(base) ** at
    assert isinstance(out, Value) and is_python_float(out.data)
    assert out.data == float(base) ** x  # the power itself, not exp(x log(base))
    assert out.data == pytest.approx(out_t.item(), rel=1e-15, abs=0)
    out.backward()
    out_t.backward()
    assert is_python_float(a.grad)
    assert a.grad == pytest.approx(at.grad.item(), rel=1e-12, abs=0)


@pytest.mark.parametrize("base", [0, 0.0, -2.0, np.float64(-1), np.int8(0)])
def test_rpow_refuses_a_base_that_is_not_positive(base):
    with pytest.raises(ValueError, match="positive base"):
        base ** Value(1.5)


# the cases that issue 15 found, each as it was reported
def test_subtracting_a_numpy_uint8_converts_before_negating():
    out = Value(5.0) - np.uint8(1)  # numpy would negate 1 in uint8 first: 5 + 255
    assert out.data == (leaf(5.0) - 1).item() == 4.0


def test_dividing_by_a_numpy_float32_computes_in_double():
    assert (Value(1.0) / np.float32(3)).data == (Value(1.0) / Value(np.float32(3))).data == 1 / 3


def test_dividing_by_a_numpy_int64_is_not_a_numpy_integer_power():
    assert (Value(2.0) / np.int64(4)).data == 0.5


@pytest.mark.parametrize("zero", [0, 0.0, -0.0, np.float64(0), np.float32(0), np.int64(0), np.uint8(0),
                                  fractions.Fraction(0)])
def test_any_zero_divisor_raises_zero_division_error_without_a_warning(zero):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's RuntimeWarning would be an error here
        with pytest.raises(ZeroDivisionError, match="division by zero"):
            Value(2.0) / zero


def test_a_numpy_scalar_on_the_left_gives_a_value():
    for x in (np.float64(2), np.float32(2), np.int64(2), np.uint8(2)):
        for out in (x * Value(3), x + Value(3), x - Value(3), x / Value(3), x ** Value(3)):
            assert type(out) is Value and is_python_float(out.data)


@pytest.mark.parametrize("array", [np.array(2.0), np.array([2.0, 3.0])])
def test_a_numpy_array_as_a_value_or_right_operand_is_refused_naming_it(array):
    # a 0-d array too: a Value holds one number; the message says how to get an array of Values
    for fn in (Value, lambda a: Value(1.0) * a, lambda a: Value(1.0) / a, lambda a: Value(1.0) ** a):
        with pytest.raises(TypeError, match=r"ndarray.*array \* value"):
            fn(array)


OPS_FROM_THE_LEFT = {'+': lambda a, v: a + v, '-': lambda a, v: a - v, '*': lambda a, v: a * v,
                     '/': lambda a, v: a / v, '**': lambda a, v: a ** v}


@pytest.mark.parametrize("op", sorted(OPS_FROM_THE_LEFT))
@pytest.mark.parametrize("array", [np.array(2.0), np.array([2.0, 3.0]), np.array([[1.0, 2.0], [3.0, 4.0]]),
                                   np.array([1, 2], dtype=np.int64), np.array([1.5, 2.5], dtype=np.float32)])
def test_an_array_on_the_left_gives_an_array_of_values_as_micrograd_0_1_0(op, array):
    # the original's result: numpy applies the op element by element, through the Value's own ops
    fn, v = OPS_FROM_THE_LEFT[op], Value(1.5)
    out = fn(array, v)
    cells = [out] if array.ndim == 0 else list(out.flat)
    assert array.ndim == 0 or (out.dtype == object and out.shape == array.shape)
    for cell, x in zip(cells, array.flat, strict=True):
        assert type(cell) is Value and is_python_float(cell.data)
        assert cell.data == fn(float(x), 1.5)
    sum(cells).backward()
    want = leaf(1.5)
    sum(fn(float(x), want) for x in array.flat).backward()
    assert v.grad == pytest.approx(want.grad.item(), rel=1e-15)


def test_an_object_array_of_values_combines_with_a_value_elementwise():
    xs = [Value(1.0), Value(-2.0), Value(0.5)]
    v = Value(3.0)
    out = np.array(xs, dtype=object) * v + v
    assert out.dtype == object and [y.data for y in out] == [6.0, -3.0, 4.5]
    out.sum().backward()
    assert [x.grad for x in xs] == [3.0, 3.0, 3.0] and v.grad == 1.0 + 1.0 - 2.0 + 1.0 + 0.5 + 1.0


@pytest.mark.parametrize("fn", [lambda: Value(10**400), lambda: Value(1.0) + 10**400,
                                lambda: 10**400 - Value(1.0), lambda: Value(1.0) * 10**400,
                                lambda: Value(1.0) / 10**400, lambda: 10**400 / Value(1.0),
                                lambda: Value(1.0) ** 10**400, lambda: (10**400) ** Value(1.0),
                                lambda: Value(fractions.Fraction(10**400, 3))])
def test_a_number_beyond_the_float_range_is_an_error_naming_it(fn):
    with pytest.raises(OverflowError, match=r"^10000000000.*too large for a float") as error:
        fn()
    assert len(str(error.value)) < 100  # the number is named, not printed in all its 400 digits


def test_two_losses_over_a_shared_node_add_their_gradients_like_torch():
    x, w = Value(1.5), Value(2.0)
    h = x * w
    (h * 2).backward()
    (h * 3).backward()
    xt, wt = leaf(1.5), leaf(2.0)
    ht = xt * wt
    (ht * 2).backward(retain_graph=True)
    (ht * 3).backward()
    assert (x.grad, w.grad) == (xt.grad.item(), wt.grad.item()) == (10.0, 7.5)
    assert h.grad == 3.0  # an interior node holds the last call's gradient: d(h * 3)/dh


def test_backward_twice_gives_leaves_exactly_twice_one_call():
    x, w = Value(0.7), Value(-1.3)
    y = ((x * w).tanh() * x + w.exp()).sigmoid() ** 2  # several levels: stale interior grads would compound
    y.backward()
    once = (x.grad, w.grad)
    y.backward()
    assert (x.grad, w.grad) == (2 * once[0], 2 * once[1])


def test_backward_restarts_every_interior_grad_from_plus_zero():
    # whatever an interior node's grad was (-0.0 and nan set by hand included), backward() gives what
    # a fresh graph gives: 0.0 + (-0.0) is 0.0, while a -0.0 kept would give -0.0
    def graph():
        a = Value(2.0)
        b = a * 1.0
        return b, b * -0.0
    fresh_b, fresh = graph()
    fresh.backward()
    for left in (-0.0, math.nan, 5.0):
        b, out = graph()
        b.grad = left
        out.backward()
        assert math.copysign(1.0, b.grad) == math.copysign(1.0, fresh_b.grad) == 1.0 and b.grad == 0.0


def test_backward_of_a_leaf_accumulates_like_torch():
    a, at = Value(3.0), leaf(3.0)
    a.backward()
    a.backward()
    at.backward()
    at.backward()
    assert a.grad == at.grad.item() == 2.0


def test_lecture_manual_backward_walk_gives_its_numbers():
    # the lecture's first backward: set o.grad, then call each node's _backward() by hand, root first
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    o.grad = 1.0
    for v in (o, n, b, x1w1x2w2, x2w2, x1w1):
        v._backward()
    assert (n.grad, b.grad, x1w1.grad) == pytest.approx((0.5, 0.5, 0.5), rel=1e-9)
    assert (x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0), rel=1e-9, abs=1e-12)


def test_polynomial_at_zero_has_torch_gradient():
    def poly(x):
        return sum(c * x**k for k, c in enumerate([3.0, 2.0, 1.0]))  # x**0 at 0 must not divide by zero

    vs, ts, out, out_t = both(poly, 0.0)
    assert vs[0].grad == ts[0].grad.item() == 2.0


@pytest.mark.parametrize("n, expected", [(0, 0.0), (1, 1.0), (2, 0.0), (3, 0.0), (0.0, 0.0), (1.0, 1.0),
                                         (1.5, 0.0), (0.5, math.inf), (0.25, math.inf)])
def test_power_at_zero_has_torch_gradient(n, expected):
    vs, ts, out, out_t = both(lambda a: a**n, 0.0)
    assert vs[0].grad == ts[0].grad.item() == expected


@pytest.mark.parametrize("x, n", [(1e-200, -1), (-1e-200, -1), (1e-120, -2), (-1e-120, -2), (-1e-100, -3),
                                  (1e-250, -0.5)])
def test_power_gradient_overflow_is_signed_inf_like_torch(x, n):
    vs, ts, out, out_t = both(lambda a: a**n, x)
    assert math.isinf(vs[0].grad) and vs[0].grad == ts[0].grad.item()


def test_reciprocal_of_a_tiny_number_backprops_minus_inf_like_torch():
    vs, ts, out, out_t = both(lambda a: 1 / a, 1e-200)
    assert out.data == out_t.item() == 1e200
    assert vs[0].grad == ts[0].grad.item() == -math.inf


def test_number_to_a_value_power_is_the_power_itself():
    vs, ts, out, out_t = both(lambda a: 2 ** a, 3.0)
    assert out.data == 8.0  # exp(3 log 2) is 7.999999999999998
    assert vs[0].grad == pytest.approx(8 * math.log(2), rel=1e-15) == ts[0].grad.item()
    assert out._op == '2**'


# backward as torch does it: each call adds this call's gradient to the leaves, interior grads start at 0
def softplus(a):
    # torch's own softplus is linear above its threshold 20; log(e^x + e^0) is the exact function
    return a.softplus() if isinstance(a, Value) else torch.logaddexp(a, torch.zeros((), dtype=torch.float64))


def amax_of(*xs):
    return amax(xs) if isinstance(xs[0], Value) else torch.stack(xs).amax()


def select_of(xs, i):
    return select(xs, i) if isinstance(xs[0], Value) else torch.stack(xs)[i]


def select_by_first(a, b):
    """one of a, b, a * b, chosen by a's number: an index the data picks, as a token id"""
    number = a.data if isinstance(a, Value) else a.item()
    return select_of([a, b, a * b], int(abs(number)) % 3)


_UNARY_ALL = _UNARY_SAFE + [lambda a: a.abs(), softplus, lambda a: a.relu()]
_BINARY_ALL = _BINARY_SAFE + [amax_of, select_by_first]


def build(leaves, steps):
    """the program's nodes, over every op: the same steps give the same graph on Values and on tensors"""
    return apply_steps(leaves, steps, _BINARY_ALL, _UNARY_ALL)


@given(programs(), st.integers(0, 99))
def test_repeated_and_multi_loss_backward_match_torch_retain_graph(program, pick):
    xs, steps = program
    vs, ts = [Value(x) for x in xs], [leaf(x) for x in xs]
    nodes, nodes_t = build(vs, steps), build(ts, steps)
    first, first_t = sum(nodes, nodes[-1] * 0.0), sum(nodes_t, nodes_t[-1] * 0.0)
    k = pick % len(nodes)
    second, second_t = nodes[k] * nodes[-1] + 1, nodes_t[k] * nodes_t[-1] + 1  # shares part of first's graph
    first.backward()
    first.backward()
    second.backward()
    first_t.backward(retain_graph=True)
    first_t.backward(retain_graph=True)
    second_t.backward(retain_graph=True)
    # up to 25 ops deep, as test_random_graph_matches_torch: a few hundred ulps
    for v, t in zip(vs, ts):
        assert v.grad == pytest.approx(0.0 if t.grad is None else t.grad.item(), rel=1e-10, abs=1e-12)
    # an interior node of the last loss's graph holds that loss's gradient only
    in_second = set(topological_order(second))
    pairs = [(v, t) for v, t in zip(nodes, nodes_t) if v in in_second and t.requires_grad]
    grads_t = torch.autograd.grad(second_t, [t for _, t in pairs], allow_unused=True)
    for (v, _), g in zip(pairs, grads_t):
        assert v.grad == pytest.approx(0.0 if g is None else g.item(), rel=1e-10, abs=1e-12)


# the ops stable code needs without reading .data in Python: abs, softplus, amax, select
@pytest.mark.parametrize("x", [-2.5, -0.3, 0.0, 0.7, 4.0])
def test_abs_matches_torch_with_zero_gradient_at_the_kink(x):
    vs, ts, out, out_t = both(lambda a: (a * 1.5).abs() * a, x)
    assert_matches(vs, ts, out, out_t)
    assert abs(Value(x)).data == abs(x) and Value(x).abs()._op == 'abs'


def test_abs_gradient_at_zero_is_zero_as_in_torch():
    vs, ts, out, out_t = both(lambda a: a.abs(), 0.0)
    assert vs[0].grad == ts[0].grad.item() == 0.0


@pytest.mark.parametrize("x", [-1000.0, -50.0, -19.5, -1.0, 0.0, 0.3, 5.0, 19.5, 20.5, 50.0, 1000.0])
def test_softplus_matches_torch_logaddexp_everywhere(x):
    vs, ts, out, out_t = both(softplus, x)
    assert_matches(vs, ts, out, out_t)
    assert out._op == 'softplus'


@pytest.mark.parametrize("x", [-19.5, -3.0, 0.0, 0.3, 5.0, 19.5])
def test_softplus_matches_torch_softplus_below_its_threshold(x):
    # torch.nn.functional.softplus returns x itself above threshold=20; below it, the same function
    def fn(a):
        return a.softplus() if isinstance(a, Value) else torch.nn.functional.softplus(a)
    vs, ts, out, out_t = both(fn, x)
    assert_matches(vs, ts, out, out_t)


@pytest.mark.parametrize("x", [-1000.0, 1000.0])
def test_softplus_does_not_overflow(x):
    a = Value(x)
    y = a.softplus()
    y.backward()
    assert (y.data, a.grad) == (max(x, 0.0), 1.0 if x > 0 else 0.0)


@pytest.mark.parametrize("xs", [[0.3, -1.2, 2.5], [2.0, 2.0, -1.0], [1.0, 1.0, 1.0], [-4.0],
                                [0.5, -0.5, 0.5, 0.1]])
def test_amax_matches_torch_amax_and_splits_ties_evenly(xs):
    vs, ts = [Value(x) for x in xs], [leaf(x) for x in xs]
    out, out_t = amax(vs) * 3, torch.stack(ts).amax() * 3
    out.backward()
    out_t.backward()
    assert_matches(vs, ts, out, out_t)
    assert out._prev[0]._op == 'max'


def test_amax_accepts_numbers_and_refuses_an_empty_list():
    assert amax([1, np.float32(2.5), Value(-1.0)]).data == 2.5
    with pytest.raises(ValueError, match="amax needs at least one value"):
        amax([])


def test_logsumexp_shifted_by_amax_matches_torch_without_detaching():
    # the stable form: the shift's gradient cancels, so amax needs no detach
    def logsumexp(*xs):
        if isinstance(xs[0], Value):
            m = amax(xs)
            return m + sum((x - m).exp() for x in xs).log()
        return torch.logsumexp(torch.stack(xs), dim=0)

    assert_matches(*both(logsumexp, 800.0, 799.0, -3.0, 800.0))


@pytest.mark.parametrize("index", [0, 2, np.int64(1), 2.0])
def test_select_gives_gradient_to_the_chosen_value_only(index):
    xs = [0.5, -1.5, 2.0]
    vs, ts = [Value(x) for x in xs], [leaf(x) for x in xs]
    for i in (index, Value(index)):  # the index as a number or as a Value holding it (a token id)
        out, out_t = select(vs, i) * 2, torch.stack(ts)[int(index)] * 2
        out.backward()
        out_t.backward()
        assert_matches(vs, ts, out, out_t)  # leaves accumulate: both calls, on both sides
        if isinstance(i, Value):
            assert i.grad == 0.0  # a position, not a quantity
    assert select(vs, index)._op == 'select'


@pytest.mark.parametrize("index, shown", [(3, "3"), (-1, "-1"), (1.5, "1.5"), (float('nan'), "nan"),
                                          (Value(7.0), "7"), (Value(0.25), "0.25")])
def test_select_refuses_an_index_out_of_range_or_not_an_integer_naming_it(index, shown):
    with pytest.raises(IndexError, match=rf"index in 0\.\.2, got {shown}$"):
        select([Value(1.0), Value(2.0), Value(3.0)], index)


def test_select_refuses_an_empty_list():
    with pytest.raises(ValueError, match="select needs at least one value"):
        select([], 0)


@pytest.mark.parametrize("base, op", [(2, '2**'), (np.int64(3), '3**'), (2.5, '2.5**'),
                                      (np.float32(0.1), '0.10000000149011612**'),
                                      (fractions.Fraction(1, 3), '0.3333333333333333**')])
def test_rpow_op_names_the_base_it_computed_with(base, op):
    # viz and compile read the base back from the op's name: it must be the float the power used
    out = base ** Value(1.0)
    assert out._op == op and float(op[:-2]) == out.data


@pytest.mark.parametrize("xs", [[1.0, math.nan, 2.0], [math.nan, 1.0], [1.0, math.nan], [math.nan, math.nan]])
def test_amax_propagates_nan_like_torch_in_any_order(xs):
    vs, ts = [Value(x) for x in xs], [leaf(x) for x in xs]
    out, out_t = amax(vs), torch.stack(ts).amax()
    out.backward()
    out_t.backward()
    assert math.isnan(out.data) and math.isnan(out_t.item())
    assert all(math.isnan(v.grad) and math.isnan(t.grad.item()) for v, t in zip(vs, ts))


def test_a_longdouble_beyond_the_float_range_is_refused_not_made_inf():
    # float() of numpy.longdouble('1e400') is inf without an error: that would be a silent change
    with pytest.raises(OverflowError, match="too large for a float"):
        Value(np.longdouble('1e400'))
    assert Value(np.longdouble('inf')).data == math.inf  # an infinity stays one


def test_dot_matches_torch_and_the_chain_of_mul_and_add():
    ws, xs = [0.3, -1.2, 2.5, 0.7], [1.1, 0.4, -0.9, 3.0]
    w, x = [Value(v) for v in ws], [Value(v) for v in xs]
    wt, xt = leaf(ws), leaf(xs)
    out, out_t = dot(w, x).tanh(), torch.dot(wt, xt).tanh()
    out.backward()
    out_t.backward()
    chain = w[0] * x[0]
    for wi, xi in zip(w[1:], x[1:]):
        chain = chain + wi * xi
    assert dot(w, x).data == chain.data  # the same additions in the same order
    assert out.data == pytest.approx(out_t.item(), rel=1e-12)
    for v, g in zip(w + x, [*wt.grad.tolist(), *xt.grad.tolist()]):
        assert v.grad == pytest.approx(g, rel=1e-12)


def test_dot_of_a_vector_with_itself_counts_both_sides():
    x = [Value(1.5), Value(-2.0)]
    dot(x, x).backward()  # d/dx sum x_i^2 = 2 x_i
    assert [v.grad for v in x] == [3.0, -4.0]


def test_dot_refuses_lists_of_different_lengths():
    with pytest.raises(ValueError, match="dot needs two lists of the same length, got 2 and 3"):
        dot([1.0, 2.0], [1.0, 2.0, 3.0])


def test_select_names_its_index_when_the_index_is_not_a_number():
    with pytest.raises(TypeError, match="select's index must be a real number, got bool"):
        select([1.0, 2.0], True)


@pytest.mark.parametrize("upstream", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("x", [0.0, 2.0])
def test_power_zero_passes_no_gradient_even_from_an_infinite_or_nan_one_like_torch(x, upstream):
    vs, ts, out, out_t = both(lambda a: a**0 * upstream, x)
    assert vs[0].grad == ts[0].grad.item() == 0.0


@pytest.mark.parametrize("upstream", [3.0, -math.inf, math.inf, math.nan])
@pytest.mark.parametrize("x", [-1.0, -0.0, 0.0, 2.0, math.nan])
def test_relu_gradient_matches_torch_when_inf_or_nan_flows_in_or_the_input_is_nan(x, upstream):
    vs, ts, out, out_t = both(lambda a: a.relu() * upstream, x)
    assert vs[0].grad == pytest.approx(ts[0].grad.item(), nan_ok=True)


@pytest.mark.parametrize("upstream", [3.0, -math.inf, math.inf, math.nan])
@pytest.mark.parametrize("xs", [[1.0, 2.0], [2.0, 2.0, -1.0], [0.0, -0.0], [math.nan, 1.0]])
def test_amax_gradient_matches_torch_for_winners_and_losers_when_inf_or_nan_flows_in(xs, upstream):
    vs, ts, out, out_t = both(lambda *a: amax_of(*a) * upstream, *xs)
    for v, t in zip(vs, ts, strict=True):
        assert v.grad == pytest.approx(t.grad.item(), nan_ok=True)


# division: the original's graph, the quotient's numbers
def test_division_keeps_the_original_graph_of_a_product_and_a_reciprocal():
    a, b = Value(3.0, label='a'), Value(4.0, label='b')
    q = a / b
    inverse = q._prev[1]
    assert (q._op, q._prev[0], inverse._op, inverse._prev) == ('*', a, '**-1', (b,))
    assert (q.data, inverse.data) == (0.75, 0.25)


@pytest.mark.parametrize("x, y", [(1e-300, 1e-155), (-1e-300, 1e-155), (1e-300, 1e-310), (0.0, 5e-324),
                                  (-0.0, 5e-324), (3.0, -5e-324), (1.0, 1e-310), (5.0, 3.0), (1e300, 1e-10)])
def test_division_is_exact_where_the_quotient_is_a_float(x, y):
    # through b**-1 the gradient overflowed (b**-2 at 1e-155) and a subnormal b raised (1/b too large)
    # a small out.grad too; b's gradient goes through a * out.grad, the **-1 node's, which keeps its
    # digits while it is a normal float (above 2.2e-308): not for a 1e-300 times an out.grad of 1e-20
    for fn in (lambda a, b: a / b, lambda a, b: (a / b) * 1e-5):
        vs, ts, out, out_t = both(fn, x, y)
        assert out.data == out_t.item() and math.copysign(1, out.data) == math.copysign(1, out_t.item())
        assert vs[0].grad == ts[0].grad.item()  # out.grad / b, as torch
        assert vs[1].grad == pytest.approx(ts[1].grad.item(), rel=4e-16, abs=0)  # -(a out.grad / b) / b
    assert (Value(x) / y).data == (x / Value(y)).data == x / y  # Python's quotient, either side a number


def test_division_gradient_is_torchs_bit_for_bit_when_it_is_the_loss():
    for x, y in [(1.0, 3.0), (2.0, 7.0), (-5.3, 0.11), (1e-300, 1e-155)]:
        vs, ts, out, out_t = both(lambda a, b: a / b, x, y)
        assert [v.grad for v in vs] == [t.grad.item() for t in ts]


def test_the_reciprocal_node_of_a_subnormal_divisor_holds_inf():
    # the drawing shows 1e-300 * inf = 1e10: the * node holds the quotient, not the product of its inputs
    q = Value(1e-300) / Value(1e-310)
    assert q._prev[1].data == math.inf and q.data == 1e-300 / 1e-310


def test_a_power_of_minus_one_is_one_over_x_and_raises_where_it_overflows():
    for x in (3.0, 7.0, 1e-100, 2.2250738585072014e-308):
        assert (Value(x) ** -1).data == 1 / x == (1 / leaf(x)).item()
    with pytest.raises(OverflowError, match=r"1e-310 \*\* -1"):
        Value(1e-310) ** -1  # as Python's **; the division's own reciprocal holds inf instead


# sqrt at zero: torch's signs
@pytest.mark.parametrize("x", [0.0, -0.0, 1e-300, 2.0, 1e300])
def test_square_root_matches_torch_at_both_zeros(x):
    vs, ts, out, out_t = both(lambda a: a ** 0.5, x)
    assert out.data == out_t.item() and math.copysign(1, out.data) == math.copysign(1, out_t.item())
    assert vs[0].grad == ts[0].grad.item()  # -inf at -0.0, as 0.5 / sqrt(-0.0)


# pickle and deepcopy: every built-in op
OPS_TO_COPY = {
    '+': lambda a, b: a + b, '-': lambda a, b: a - b, '*': lambda a, b: a * b, '/': lambda a, b: a / b,
    'rdiv': lambda a, b: 2 / b, 'neg': lambda a, b: -a, '**2': lambda a, b: a ** 2, '**-1': lambda a, b: b ** -1,
    '**0.5': lambda a, b: b ** 0.5, '**0': lambda a, b: a ** 0, '**1.5': lambda a, b: b ** 1.5,
    '2**': lambda a, b: 2 ** a, 'relu': lambda a, b: a.relu(), 'abs': lambda a, b: a.abs(),
    'tanh': lambda a, b: a.tanh(), 'exp': lambda a, b: a.exp(), 'log': lambda a, b: b.log(),
    'sigmoid': lambda a, b: a.sigmoid(), 'softplus': lambda a, b: a.softplus(),
    'amax': lambda a, b: amax([a, b, 1.0]), 'dot': lambda a, b: dot([a, b], [b, 3.0]),
    'select': lambda a, b: select([a, b], Value(1)),
}


@pytest.mark.parametrize("copy_graph", [lambda y: pickle.loads(pickle.dumps(y)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
@pytest.mark.parametrize("name", sorted(OPS_TO_COPY))
def test_a_graph_of_every_op_pickles_and_deep_copies(name, copy_graph):
    def build():
        a, b = Value(-0.7, label='a'), Value(1.3, label='b')
        return (OPS_TO_COPY[name](a, b) * a + b) * 1.5

    y, twin = build(), copy_graph(build())
    y.backward()
    twin.backward()
    nodes, twins = topological_order(y), topological_order(twin)
    assert [(v.data, v.grad, v._op, v.label) for v in nodes] == [(v.data, v.grad, v._op, v.label) for v in twins]
    assert [v._grad_fn for v in nodes] == [v._grad_fn for v in twins]  # a power's backward: the shared one
    assert not set(map(id, nodes)) & set(map(id, twins))


def test_a_lecture_style_custom_op_refuses_pickle_and_deepcopy_naming_it():
    x = Value(0.5)
    out = Value(x.data ** 3, (x,), 'cube')

    def _backward():
        x.grad += 3 * x.data ** 2 * out.grad
    out._backward = _backward
    y = out * 2
    for copy_graph in (pickle.dumps, copy.deepcopy):
        with pytest.raises(TypeError, match="custom op 'cube'.*closure"):
            copy_graph(y)


# comparisons are not ops
@pytest.mark.parametrize("compare, shown", [(lambda v: v > 0, "v.data > 0"), (lambda v: v < 1.5, "v.data < 1.5"),
                                            (lambda v: 0 >= v, "v.data <= 0"), (lambda v: v <= v, "v.data <= w.data")])
def test_comparing_a_value_says_to_compare_data_and_why(compare, shown):
    with pytest.raises(TypeError, match=re.escape(shown) + ".*no gradient.*compile"):
        compare(Value(1.0))


def test_values_keep_identity_equality_and_hash_as_in_the_original():
    a, b = Value(1.0), Value(1.0)
    assert a == a and a != b and len({a, b, a}) == 2 and {a: 1}[a] == 1


def test_a_string_shows_what_it_got_and_how_to_convert_it():
    with pytest.raises(TypeError, match=re.escape("got str '3': convert it first, Value(float('3'))")):
        Value('3')


# how close to the exact numbers each op is (docs/api.md's table): ulps of a 200-bit mpmath reference,
# at points across each op's range, where the value and its gradient are normal floats. A 1e-6
# relative error is billions of ulps, so the bounds catch any lost digit anywhere, saturation included
mpmath.mp.prec = 200
M = mpmath.mpf
PRECISION = {  # op, exact value, exact derivative, points, (ulps forward, ulps gradient)
    'tanh': (lambda a: a.tanh(), mpmath.tanh, lambda x: mpmath.sech(x)**2,
             [-25.0, -11.85, -3.3, -0.88, -0.1, 0.2, 0.85, 0.9, 1.7, 11.85, 19.5, 300.0], (2, 4)),
    'sigmoid': (lambda a: a.sigmoid(), lambda x: 1 / (1 + mpmath.exp(-x)),
                lambda x: mpmath.exp(-x) / (1 + mpmath.exp(-x))**2,
                [-700.0, -40.0, -3.1, -0.2, 0.0, 0.3, 2.5, 13.26, 20.0, 30.0, 700.0], (2, 4)),
    'softplus': (lambda a: a.softplus(), lambda x: mpmath.log(1 + mpmath.exp(x)),
                 lambda x: 1 / (1 + mpmath.exp(-x)), [-700.0, -32.0, -2.0, 0.0, 0.4, 5.0, 20.01, 30.0, 1e5], (2, 2)),
    'exp': (lambda a: a.exp(), mpmath.exp, mpmath.exp, [-700.0, -3.2, 0.1, 1.0, 141.1, 700.0], (1, 1)),
    'log': (lambda a: a.log(), mpmath.log, lambda x: 1 / x, [1e-300, 0.3, 0.999, 1.001, 241.5, 1e300], (1, 1)),
    '**3': (lambda a: a**3, lambda x: x**3, lambda x: 3 * x**2, [-725.1, -1.1, 0.3, 7.7, 1e100], (1, 2)),
    '**-2': (lambda a: a**-2, lambda x: x**-2, lambda x: -2 * x**-3, [0.011, 0.7, 711.7, 1e100], (1, 2)),
    '**-1': (lambda a: a**-1, lambda x: 1 / x, lambda x: -1 / x**2, [-3.0, 0.011, 0.7, 736.9, 1e150], (1, 2)),
    '**0.5': (lambda a: a**0.5, mpmath.sqrt, lambda x: 1 / (2 * mpmath.sqrt(x)), [1e-300, 0.5, 2.0, 2.863e5], (1, 2)),
    '**-0.5': (lambda a: a**-0.5, lambda x: 1 / mpmath.sqrt(x), lambda x: -x**M(-1.5) / 2, [0.001, 3.0, 8.7e4], (1, 2)),
    '**1.7': (lambda a: a**1.7, lambda x: x**M(1.7), lambda x: M(1.7) * x**M(0.7), [0.001, 0.9, 436.0], (1, 2)),
    '2**': (lambda a: 2**a, lambda x: 2**x, lambda x: 2**x * mpmath.log(2), [-50.0, -1.3, 1.514, 30.2], (1, 2)),
    '3**': (lambda a: 3**a, lambda x: 3**x, lambda x: 3**x * mpmath.log(3), [-28.58, -0.4, 2.2, 40.0], (1, 2)),
}


def ulps(got, exact):
    """how many units in the last place of the exact number got is off"""
    return float(abs(M(got) - exact) / math.ulp(float(exact)))


@pytest.mark.parametrize("name", sorted(PRECISION))
def test_op_is_within_its_documented_ulps_of_the_exact_value(name):
    fn, value, slope, points, (k_value, k_grad) = PRECISION[name]
    for x in points:
        a = Value(x)
        y = fn(a)
        y.backward()
        if abs(value(M(x))) > 1e-300:
            assert ulps(y.data, value(M(x))) <= k_value, x
        if abs(slope(M(x))) > 1e-300:
            assert ulps(a.grad, slope(M(x))) <= k_grad, x


@pytest.mark.parametrize("x, y", [(1.0, 3.0), (-5.3, 0.11), (1e-300, 1e-155), (7.0, 1e300), (-1e300, 3.0)])
def test_division_is_within_its_documented_ulps_of_the_exact_value(x, y):
    a, b = Value(x), Value(y)
    (a / b * 0.3).backward()  # an out.grad that is not 1
    X, Y = M(x), M(y)
    assert ulps((a / b).data, X / Y) <= 0.5 and ulps(a.grad, M(0.3) / Y) <= 1
    assert ulps(b.grad, -M(0.3) * X / Y**2) <= 2
