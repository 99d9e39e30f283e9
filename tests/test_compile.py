"""compile: the replay against the eager engine (values and gradients), new inputs, and its refusals."""
import random
import sys

import pytest
from hypothesis import given, strategies as st

from micrograd.compile import compile
from micrograd.engine import Value
from micrograd.losses import hinge_loss, l2_penalty, mse_loss
from micrograd.nn import MLP
from micrograd.optim import Adam


# the replay does eager's float operations in eager's order, so 1e-12 is a loose bound: it
# holds values and gradients to the same rounding as torch comparisons do for single ops
REL = 1e-12


def eager(fn, params, inputs):
    """fn on Values, backpropagated the usual way: the loss and every parameter's gradient"""
    loss = fn(*[_values(x) for x in inputs])
    loss.backward()
    return loss.data, [p.grad for p in params]


def _values(x):
    return [_values(v) for v in x] if isinstance(x, (list, tuple)) else Value(x)


def replay(step, params, inputs):
    loss = step(*inputs)
    return loss, [p.grad for p in params]


def assert_same(got, want):
    (loss, grads), (loss_eager, grads_eager) = got, want
    assert loss == pytest.approx(loss_eager, rel=REL, abs=0)
    assert grads == pytest.approx(grads_eager, rel=REL, abs=0)


def zero(params):
    for p in params:
        p.grad = 0.0


def assert_replays_like_eager(fn, params, xs):
    """fn(x) recorded on xs[0], then replayed on every x: loss and grads as eager gives them"""
    step = compile(fn, params, (xs[0],))
    for x in xs:
        zero(params)
        got = replay(step, params, (x,))
        zero(params)
        assert_same(got, eager(fn, params, (x,)))


def demo_loss(model, X, y):
    """the original demo's loss: mean hinge loss plus 1e-4 times the sum of squared parameters"""
    scores = list(map(model, X))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())


def moons(n, seed):
    rng = random.Random(seed)
    X = [[rng.uniform(-1.5, 2.5), rng.uniform(-1, 1.5)] for _ in range(n)]
    return X, [rng.choice([-1.0, 1.0]) for _ in range(n)]


def test_demo_training_matches_eager_step_by_step():
    X, y = moons(30, seed=0)
    model, twin = MLP(2, [16, 16, 1], rng=1), MLP(2, [16, 16, 1], rng=1)
    params, twin_params = model.parameters(), twin.parameters()
    step = compile(lambda X, y: demo_loss(model, X, y), params, (X, y))
    for k in range(5):
        zero(params)
        zero(twin_params)
        got = replay(step, params, (X, y))
        want = eager(lambda X, y: demo_loss(twin, X, y), twin_params, (X, y))
        assert_same(got, want)
        # same operations in the same order: not just close, equal
        assert got == want
        for p, q in zip(params, twin_params):
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
            q.data -= (1.0 - 0.9 * k / 100) * q.grad


def test_new_inputs_replay_with_their_own_relu_masks():
    X, y = moons(20, seed=1)
    model = MLP(2, [8, 1], rng=2)
    params = model.parameters()
    step = compile(lambda X, y: demo_loss(model, X, y), params, (X, y))
    for seed in (2, 3, 4):
        X2, y2 = moons(20, seed)
        zero(params)
        got = replay(step, params, (X2, y2))
        zero(params)
        assert_same(got, eager(lambda X, y: demo_loss(model, X, y), params, (X2, y2)))


def test_relu_mask_comes_from_the_new_data():
    w = Value(1.0)
    step = compile(lambda x: (w * x).relu() * 3, [w], (2.0,))
    assert step(2.0) == 6.0 and w.grad == 6.0
    w.grad = 0.0
    assert step(-2.0) == 0.0 and w.grad == 0.0   # recorded active, replayed inactive


def every_op(a, b, x):
    """every op and every derived one, on parameters a, b and an input x"""
    terms = [a + x, a - x, x - a, a * x, a / b, 2 / b, b ** 3, a ** 2, (b * b) ** 0.5, b ** -1.5,
             -a, 1 - a, 3 * a, a / 2, 2 ** a, (a * x).relu(), (b - 9).relu(), (a * x).tanh(),
             (a * 0.3).exp(), (b * b + x * x).log(), (a * x).sigmoid(), (-b * x).sigmoid()]
    return sum(terms) * a + (a * b * x).tanh() * terms[3]


@pytest.mark.parametrize("a, b, xs", [(0.7, 1.3, [0.5, -1.2, 2.0]), (-0.4, 2.5, [1.5, 0.1, -3.0])])
def test_every_op_matches_eager_on_new_inputs(a, b, xs):
    pa, pb = Value(a), Value(b)
    assert_replays_like_eager(lambda x: every_op(pa, pb, x), [pa, pb], xs)


@pytest.mark.parametrize("loss_fn", [
    lambda m, X, y: mse_loss([m(x) for x in X], y),
    lambda m, X, y: hinge_loss([m(x) for x in X], [1.0, -1.0, 1.0, -1.0]),
    lambda m, X, y: mse_loss([m(x) for x in X], y, reduction='sum') + l2_penalty(m.parameters()),
], ids=["mse", "hinge", "mse_sum_l2"])
def test_losses_match_eager(loss_fn):
    X = [[0.5, -1.0, 2.0], [1.5, 0.2, -0.3], [-0.7, 0.9, 0.4], [0.1, 0.1, -2.0]]
    y = [1.0, -0.5, 0.25, 2.0]
    model = MLP(3, [4, 4, 1], act='tanh', rng=3)
    params = model.parameters()
    step = compile(lambda X, y: loss_fn(model, X, y), params, (X, y))
    got = replay(step, params, (X, y))
    zero(params)
    assert_same(got, eager(lambda X, y: loss_fn(model, X, y), params, (X, y)))


def test_grads_add_up_like_backward():
    X, y = moons(10, seed=5)
    model = MLP(2, [4, 1], rng=4)
    params = model.parameters()
    step = compile(lambda X, y: demo_loss(model, X, y), params, (X, y))
    for p in params:
        p.grad = 0.25
    got = replay(step, params, (X, y))
    for p in params:
        p.grad = 0.25
    assert_same(got, eager(lambda X, y: demo_loss(model, X, y), params, (X, y)))


def test_adam_trains_the_same_compiled_or_not():
    X, y = moons(16, seed=6)
    model, twin = MLP(2, [8, 1], rng=5), MLP(2, [8, 1], rng=5)
    opt, twin_opt = Adam(model.parameters(), lr=0.01), Adam(twin.parameters(), lr=0.01)
    step = compile(lambda X, y: demo_loss(model, X, y), model.parameters(), (X, y))
    for _ in range(5):
        opt.zero_grad()
        step(X, y)
        opt.step()
        twin_opt.zero_grad()
        demo_loss(twin, [_values(x) for x in X], y).backward()
        twin_opt.step()
    assert [p.data for p in model.parameters()] == pytest.approx([p.data for p in twin.parameters()],
                                                                 rel=REL, abs=0)


def test_inputs_of_any_shape():
    w = Value(0.5)
    step = compile(lambda s, cube: w * s + sum(v * w for plane in cube for row in plane for v in row),
                   [w], (2.0, [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]))
    assert step(1.0, [[[1, 1], [1, 1]], [[1, 1], [1, 1]]]) == pytest.approx(0.5 + 8 * 0.5, rel=REL)
    assert w.grad == pytest.approx(1.0 + 8.0, rel=REL)


def test_loss_that_is_a_parameter_gets_grad_one():
    w = Value(3.0)
    step = compile(lambda: w, [w], ())
    assert step() == 3.0 and w.grad == 1.0


def test_a_long_sum_chain_and_reused_nodes():
    ps = [Value(0.01 * i - 0.3) for i in range(300)]
    fn = lambda x: sum(p * x for p in ps) * sum(ps[:7]) + ps[3] * ps[3]
    step = compile(fn, ps, (1.5,))
    got = replay(step, ps, (-0.5,))
    zero(ps)
    assert_same(got, eager(fn, ps, (-0.5,)))


# random graphs: a program of ops over parameters and inputs, replayed on new inputs
UNARY = [lambda v: v.relu(), lambda v: v.tanh(), lambda v: v.sigmoid(), lambda v: v.tanh().exp(),
         lambda v: (v * v + 0.5).log(), lambda v: (v * v + 1) ** -0.5, lambda v: v ** 2, lambda v: -v]
BINARY = [lambda u, v: u + v, lambda u, v: u * v, lambda u, v: u - v, lambda u, v: u / (v * v + 1)]


def run_program(program, params, xs):
    nodes = list(params) + list(xs)
    for kind, op, i, j in program:
        u, v = nodes[i % len(nodes)], nodes[j % len(nodes)]
        if kind == 0:
            nodes.append(UNARY[op % len(UNARY)](u))
        elif kind == 1:
            nodes.append(BINARY[op % len(BINARY)](u, v))
        else:  # Python's sum: a chain of + nodes starting from 0
            nodes.append(sum(nodes[k % len(nodes)] for k in range(i, i + 2 + op % 5)))
    return sum(nodes[len(params) + len(xs):]) if len(nodes) > len(params) + len(xs) else nodes[0] * 1


numbers = st.floats(-2, 2).filter(lambda v: abs(v) > 1e-3)   # off the relu kink


@given(program=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 20), st.integers(0, 50),
                                  st.integers(0, 50)), max_size=25),
       params=st.lists(numbers, min_size=1, max_size=4),
       xs=st.lists(st.lists(numbers, min_size=2, max_size=2), min_size=2, max_size=3))
def test_random_graphs_match_eager(program, params, xs):
    ps = [Value(v) for v in params]
    assert_replays_like_eager(lambda x: run_program(program, ps, x), ps, xs)


# refusals: each names the problem instead of returning wrong numbers

def test_a_different_batch_size_is_refused():
    X, y = moons(10, seed=7)
    model = MLP(2, [4, 1], rng=6)
    step = compile(lambda X, y: demo_loss(model, X, y), model.parameters(), (X, y))
    with pytest.raises(ValueError, match=r"shape \(9, 2\).*\(10, 2\)"):
        step(X[:9], y[:9])
    with pytest.raises(TypeError, match="takes 2 inputs, got 1"):
        step(X)


def test_a_changed_params_list_is_refused():
    model = MLP(2, [3, 1], rng=7)
    params = model.parameters()
    step = compile(lambda x: model(x), params, ([1.0, 2.0],))
    params.append(Value(1.0))
    with pytest.raises(ValueError, match="params list changed"):
        step([1.0, 2.0])


def test_a_forgotten_parameter_that_changes_is_refused():
    w, forgotten = Value(2.0), Value(3.0)
    step = compile(lambda x: w * x + forgotten, [w], (1.0,))
    assert step(1.0) == 5.0
    forgotten.data -= 0.1   # an optimizer updated it, but the recording holds it as a constant
    with pytest.raises(ValueError, match="pass it in params"):
        step(1.0)


def test_a_number_computed_from_parameter_data_is_refused():
    w = Value(2.0)
    with pytest.raises(ValueError, match="slightly changed parameters.*depends on the numbers"):
        compile(lambda x: w * x + Value(w.data ** 2), [w], (1.0,))


def test_a_branch_on_data_is_caught_by_check_every():
    w = Value(1.0)
    fn = lambda x: (w * x).tanh() if x.data > 0 else (w * x).exp()
    step = compile(fn, [w], (1.0,), check_every=1)
    step(2.0)
    with pytest.raises(ValueError, match="on these inputs.*depends on the numbers"):
        step(-1.0)


@pytest.mark.parametrize("make, x, error", [
    (lambda w, x: (w * x).log(), -1.0, ValueError),
    (lambda w, x: (w * x).exp(), 800.0, OverflowError),
    (lambda w, x: (w * x) ** -1, 0.0, ZeroDivisionError),
    (lambda w, x: (w * x) ** 0.5, -4.0, ValueError),
    (lambda w, x: (w * x) ** 0.5, 0.0, ZeroDivisionError),   # the backward pass: 0.5 * 0 ** -0.5
    (lambda w, x: (w * x) ** 200, 1e5, OverflowError),
])
def test_domain_errors_raise_like_eager(make, x, error):
    w = Value(1.0)
    step = compile(lambda x: make(w, x), [w], (1.0,))
    with pytest.raises(error):
        make(w, Value(x)).backward()
    with pytest.raises(error):
        step(x)


def test_unknown_ops_and_bad_arguments_are_refused():
    w = Value(1.0)

    def custom(v):  # an op written the lecture's way, with a name compile does not know
        out = Value(v.data ** 3, (v,), 'cube')
        out._backward = lambda: None
        return out
    with pytest.raises(ValueError, match="can't replay the op 'cube'"):
        compile(lambda x: custom(w * x), [w], (1.0,))
    with pytest.raises(TypeError, match="must return a Value"):
        compile(lambda x: 3.0, [w], (1.0,))
    with pytest.raises(TypeError, match="real numbers"):
        compile(lambda x: w * x, [w], (True,))
    with pytest.raises(ValueError, match="ragged"):
        compile(lambda x: w, [w], ([[1.0, 2.0], [3.0]],))
    with pytest.raises(ValueError, match="more than once"):
        compile(lambda x: w * x, [w, w], (1.0,))


def test_missing_numpy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)   # import numpy now raises ImportError
    w = Value(1.0)
    with pytest.raises(ImportError, match=r"pip install 'micrograd\[fast\]'"):
        compile(lambda x: w * x, [w], (1.0,))


def test_aux_values_come_back_as_eager_computes_them():
    model = MLP(2, [8, 8, 1], rng=4)
    params = model.parameters()
    X, y = moons(12, seed=5)

    def loss_and_scores(X, y):
        scores = [model(x) for x in X]
        # the score of a one-neuron layer is the top of a + chain: it must keep its own slot
        return hinge_loss(scores, y) + l2_penalty(params), scores

    step = compile(loss_and_scores, params, (X, y), has_aux=True)
    X2, y2 = moons(12, seed=6)
    zero(params)
    loss, scores = step(X2, y2)
    grads = [p.grad for p in params]
    zero(params)
    loss_eager, scores_eager = loss_and_scores(_values(X2), _values(y2))
    loss_eager.backward()
    assert loss == pytest.approx(loss_eager.data, rel=REL, abs=0)
    assert scores == pytest.approx([s.data for s in scores_eager], rel=REL, abs=0)
    assert grads == pytest.approx([p.grad for p in params], rel=REL, abs=0)


def test_aux_must_be_part_of_the_graph_and_a_pair():
    p = Value(1.0)
    with pytest.raises(ValueError, match="computed from"):
        compile(lambda x: (p * x, [Value(3.0)]), [p], (2.0,), has_aux=True)
    with pytest.raises(TypeError, match=r"\(loss, values\)"):
        compile(lambda x: p * x, [p], (2.0,), has_aux=True)


def test_aux_inside_a_sum_chain_is_not_folded_away():
    p, q = Value(0.5), Value(-2.0)

    def fn(x):
        partial = p * x[0] + q   # a + node whose only user is the next +: foldable but for aux
        total = partial + x[1]
        return total * total, [partial]

    step = compile(fn, [p, q], ([1.5, 3.0],), has_aux=True)
    loss, (partial,) = step([4.0, 1.0])
    assert partial == 0.5 * 4.0 - 2.0 and loss == (partial + 1.0) ** 2


def test_a_sum_in_the_second_operand_keeps_eager_rounding():
    p = Value(1.0)
    # the inner sums are folded into the outer one: (1 + 1e-16) + 1e-16 rounds to 1.0 where
    # 1 + (1e-16 + 1e-16) does not, so the fold must add the innermost terms first
    fn = lambda x: (p + (x[0] + (x[1] + x[2]))) * p
    step = compile(fn, [p], ([0.0, 0.0, 0.0],))
    assert step([0.0, 1e-16, 1e-16]) == 1.0 + (0.0 + (1e-16 + 1e-16)) > 1.0
    assert p.grad == 1.0 + (0.0 + (1e-16 + 1e-16)) + 1.0
    zero([p])
    got = replay(step, [p], ([3e-16, 1e-16, 1e-16],))
    zero([p])
    assert got == eager(fn, [p], ([3e-16, 1e-16, 1e-16],))


def test_aux_may_hold_the_loss_a_parameter_and_an_input():
    p, q = Value(0.5), Value(-2.0)

    def fn(x):
        loss = p * x + q + x
        return loss, [loss, p, loss, x]

    step = compile(fn, [p, q], (1.5,), has_aux=True)
    assert step(2.0) == (0.5 * 2.0 + -2.0 + 2.0, [1.0, 0.5, 1.0, 2.0])
    assert (p.grad, q.grad) == (2.0, 1.0)


def test_a_loss_without_parameters_leaves_their_grads_alone():
    p, c = Value(0.5), Value(4.0)
    p.grad = 0.25
    assert compile(lambda x: x * x, [p], (1.5,))(3.0) == 9.0
    assert compile(lambda x: x, [p], (1.5,))(3.0) == 3.0
    assert compile(lambda: c, [p], ())() == 4.0
    assert p.grad == 0.25
