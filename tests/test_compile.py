"""compile: the replay against the eager engine, bit for bit (values and gradients), and its refusals."""
import math
import random
import sys
import threading

import pytest
import torch
from hypothesis import given, strategies as st

from micrograd.compile import compile
from micrograd.engine import Value, amax, dot, select
from micrograd.losses import binary_cross_entropy_with_logits, cross_entropy, hinge_loss, l2_penalty, mse_loss
from micrograd.nn import MLP
from micrograd.optim import SGD, Adam


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


def zero(params):
    for p in params:
        p.grad = 0.0


def assert_replays_like_eager(fn, params, xs, param_values=None):
    """fn(x) recorded on xs[0], then replayed on every x (and parameter values): eager's bits"""
    step = compile(fn, params, (xs[0],))
    for k, x in enumerate(xs):
        if param_values:
            for p, v in zip(params, param_values[k % len(param_values)]):
                p.data = v
        zero(params)
        got = replay(step, params, (x,))
        zero(params)
        assert got == eager(fn, params, (x,))   # equal, not close: the same float operations


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
    step = compile(lambda X, y: demo_loss(model, X, y), model, (X, y))
    for k in range(5):
        zero(params)
        zero(twin_params)
        got = replay(step, params, (X, y))
        assert got == eager(lambda X, y: demo_loss(twin, X, y), twin_params, (X, y))
        for p, q in zip(params, twin_params):
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
            q.data -= (1.0 - 0.9 * k / 100) * q.grad


def test_new_inputs_replay_with_their_own_relu_masks():
    X, y = moons(20, seed=1)
    model = MLP(2, [8, 1], rng=2)
    params = model.parameters()
    fn = lambda X, y: demo_loss(model, X, y)
    step = compile(fn, params, (X, y))
    for seed in (2, 3, 4):
        X2, y2 = moons(20, seed)
        zero(params)
        got = replay(step, params, (X2, y2))
        zero(params)
        assert got == eager(fn, params, (X2, y2))


def test_relu_mask_comes_from_the_new_data():
    w = Value(1.0)
    step = compile(lambda x: (w * x).relu() * 3, [w], (2.0,))
    assert step(2.0) == 6.0 and w.grad == 6.0
    w.grad = 0.0
    assert step(-2.0) == 0.0 and w.grad == 0.0   # recorded active, replayed inactive


def every_op(a, b, x):
    """every op and every derived one, on parameters a, b and inputs x (x[2] a class index)"""
    u, v = a * x[0], b * x[1]
    terms = [a + x[0], a - x[1], x[0] - a, u, a / b, 2 / b, b ** 3, a ** 2, (b * b) ** 0.5, (b * b) ** -1.5,
             -a, 1 - a, 3 * a, a / 2, 2 ** a, 0.5 ** v, u.relu(), (b - 9).relu(), u.tanh(),
             (a * 0.3).exp(), (b * b + v * v).log(), u.sigmoid(), (-v).sigmoid(),
             u.abs(), abs(v - 0.5), u.softplus(), (-v * 3).softplus(),
             amax([u, v, u * 0.5]), amax([u.relu(), v.relu(), 0.0]), amax([u, u]),
             select([u, v, a, u * v], x[2]), select([b, 2.0 * b], x[2] * 0 + 1),
             dot([a, u, b], [x[0], v, a]), dot([u], [u]), dot([u, v], [u, v]), dot([a, x[1]], [x[1], a])]
    return sum(terms) * a + (a * b * v).tanh() * terms[3]


FLIPS = [[0.5, -1.2, 0.0], [-1.5, 0.7, 3.0], [2.0, 2.0, 1.0], [0.3, -0.3, 2.0]]


@pytest.mark.parametrize("a, b", [(0.7, 1.3), (-0.4, 2.5)])
def test_every_op_matches_eager_bitwise_as_every_branch_flips(a, b):
    # signs of u = a x0 and v = b x1 flip from call to call: relu masks, abs signs, sigmoid's and
    # softplus's branches, amax's winner (and ties) and select's index all change
    pa, pb = Value(a), Value(b)
    assert_replays_like_eager(lambda x: every_op(pa, pb, x), [pa, pb], FLIPS,
                              param_values=[(a, b), (-a, b), (a, -b), (-a, -b)])


def test_division_replays_exactly_where_the_quotient_is_a_float():
    # the engine divides (a / b, out.grad / b), it does not multiply by 1/b: for a subnormal
    # divisor 1/b is inf while the quotient and most gradients are floats, and the replay must
    # neither raise (as b ** -1 does) nor round twice
    pa, pb = Value(1e-300), Value(1e-155)
    fn = lambda x: pa / (pb * x[0]) + x[1] / pb + (pa / x[1]).relu()
    assert_replays_like_eager(fn, [pa, pb], [[1.0, 3.0], [0.5, 7.0], [-2.0, 1e-310]],
                              param_values=[(1e-300, 1e-155), (3.0, 1e-310), (-1.5, 7.0)])
    (pa.data, pa.grad), (pb.data, pb.grad) = (1e-300, 0.0), (1e-155, 0.0)
    step = compile(lambda x: pa / pb * x[0], [pa, pb], ([1.0],))
    step([1.0])
    pt, bt = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (1e-300, 1e-155))
    (pt / bt).backward()
    assert pb.grad == bt.grad.item() == -1e10   # through b**-2 this was -inf


def test_division_by_zero_is_refused_as_eagerly():
    pa, pb = Value(1.0), Value(2.0)
    step = compile(lambda x: pa / (pb * x[0]), [pa, pb], ([1.0],))
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        step([0.0])


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
    assert got == eager(lambda X, y: loss_fn(model, X, y), params, (X, y))


def logits_model(w, X):
    """3 class scores per sample: scale times a fixed mix of the two features"""
    return [[w[0] * x0 + w[1] * x1, w[2] * x0 - w[1] * x1, w[0] * x1 + w[2]] for x0, x1 in X]


LOGIT_BATCHES = [[[1.0, 2.0], [3.0, -1.0]], [[-500.0, 300.0], [1000.0, 1000.0]],
                 [[1000.0, -1000.0], [-2.0, 0.0]], [[0.0, 0.0], [-1000.0, -1.0]]]


def test_cross_entropy_compiled_over_logits_up_to_1000():
    # recorded on small logits; replayed where other classes win, where exp(logit) would overflow
    # and where scores tie (the amax shift splits its gradient)
    w = [Value(1.0), Value(-0.5), Value(0.25)]

    def fn(X, t):
        return cross_entropy(logits_model(w, X), t)
    step = compile(fn, w, (LOGIT_BATCHES[0], [0, 2]))
    for X in LOGIT_BATCHES:
        for t in ([0, 2], [1, 1], [2, 0]):
            zero(w)
            got = replay(step, w, (X, t))
            zero(w)
            assert got == eager(fn, w, (X, t))
    assert step.recordings == 1


def test_cross_entropy_compiled_equals_torch_float64():
    w = [Value(1.0), Value(-0.5), Value(0.25)]
    X, t = LOGIT_BATCHES[1], [2, 0]
    step = compile(lambda X, t: cross_entropy(logits_model(w, X), t), w, (LOGIT_BATCHES[0], [0, 1]))
    loss = step(X, t)
    wt = torch.tensor([1.0, -0.5, 0.25], dtype=torch.float64, requires_grad=True)
    Xt = torch.tensor(X, dtype=torch.float64)
    logits = torch.stack([wt[0] * Xt[:, 0] + wt[1] * Xt[:, 1], wt[2] * Xt[:, 0] - wt[1] * Xt[:, 1],
                          wt[0] * Xt[:, 1] + wt[2]], 1)
    lt = torch.nn.functional.cross_entropy(logits, torch.tensor(t))
    lt.backward()
    assert loss == pytest.approx(lt.item(), rel=1e-12)
    assert [p.grad for p in w] == pytest.approx(wt.grad.tolist(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("targets", [[1.0, 0.0, 0.5], [0.0, 1.0, 1.0]])
def test_bce_compiled_over_logits_up_to_1000(targets):
    # recorded on positive logits; replayed on -1000, where a formula chosen by sign would overflow
    w = Value(1.0)

    def fn(x, y):
        return binary_cross_entropy_with_logits([w * xi for xi in x], y)
    step = compile(fn, [w], ([1.0, 2.0, 3.0], targets))
    for x in ([1.0, 2.0, 3.0], [-1000.0, 1000.0, 0.0], [-731.27, -1e-3, 1000.0]):
        zero([w])
        got = replay(step, [w], (x, targets))
        zero([w])
        assert got == eager(fn, [w], (x, targets))
        assert math.isfinite(got[0])


def test_grads_add_up_like_backward():
    X, y = moons(10, seed=5)
    model = MLP(2, [4, 1], rng=4)
    params = model.parameters()
    fn = lambda X, y: demo_loss(model, X, y)
    step = compile(fn, params, (X, y))
    for p in params:
        p.grad = 0.25
    got = replay(step, params, (X, y))
    for p in params:
        p.grad = 0.25
    assert got == eager(fn, params, (X, y))


def test_adam_trains_the_same_compiled_or_not():
    X, y = moons(16, seed=6)
    model, twin = MLP(2, [8, 1], rng=5), MLP(2, [8, 1], rng=5)
    opt, twin_opt = Adam(model.parameters(), lr=0.01), Adam(twin.parameters(), lr=0.01)
    step = compile(lambda X, y: demo_loss(model, X, y), model, (X, y))
    for _ in range(5):
        opt.zero_grad()
        step(X, y)
        opt.step()
        twin_opt.zero_grad()
        demo_loss(twin, [_values(x) for x in X], y).backward()
        twin_opt.step()
    assert [p.data for p in model.parameters()] == [p.data for p in twin.parameters()]


def test_inputs_of_any_shape():
    w = Value(0.5)
    step = compile(lambda s, cube: w * s + sum(v * w for plane in cube for row in plane for v in row),
                   [w], (2.0, [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]))
    assert step(1.0, [[[1, 1], [1, 1]], [[1, 1], [1, 1]]]) == 0.5 + 8 * 0.5
    assert w.grad == 1.0 + 8.0


def test_loss_that_is_a_parameter_gets_grad_one_added():
    w = Value(3.0)
    w.grad = 0.5
    step = compile(lambda: w, [w], ())
    assert step() == 3.0 and w.grad == 1.5   # a leaf accumulates, as backward() does


def test_a_long_sum_chain_and_reused_nodes():
    ps = [Value(0.01 * i - 0.3) for i in range(300)]
    fn = lambda x: sum(p * x for p in ps) * sum(ps[:7]) + ps[3] * ps[3]
    step = compile(fn, ps, (1.5,))
    got = replay(step, ps, (-0.5,))
    zero(ps)
    assert got == eager(fn, ps, (-0.5,))


@pytest.mark.parametrize("n", [1, 3, 64, 65, 300])   # one pair; long dots add by one accumulate
def test_a_vector_dotted_with_itself_and_with_inputs(n):
    ps = [Value(math.sin(i) - 0.2) for i in range(n)]
    fn = lambda x: dot(ps, ps) * dot(ps, [x * p for p in ps]) + dot([x] * n, ps[::-1])
    assert_replays_like_eager(fn, ps, [1.5, -0.5, 0.0, 1e30],
                              param_values=[[-p.data for p in ps], [p.data for p in ps]])


# random graphs: a program of ops over parameters and inputs, replayed on flipped numbers
UNARY = [lambda v: v.relu(), lambda v: v.tanh(), lambda v: v.sigmoid(), lambda v: v.tanh().exp(),
         lambda v: (v * v + 0.5).log(), lambda v: (v * v + 1) ** -0.5, lambda v: v ** 2, lambda v: -v,
         lambda v: v.abs(), lambda v: (v * 300).softplus(), lambda v: 2 ** v.tanh(),
         lambda v: (v * 800).sigmoid()]
BINARY = [lambda u, v: u + v, lambda u, v: u * v, lambda u, v: u - v, lambda u, v: u / (v * v + 1),
          lambda u, v: amax([u, v]), lambda u, v: amax([u, v, u]), lambda u, v: amax([u.relu(), v.relu()])]


def run_program(program, params, xs):
    nodes = list(params) + list(xs[:-1])
    index = xs[-1]   # an input holding 0, 1 or 2: which of three nodes a select picks
    for kind, op, i, j in program:
        u, v = nodes[i % len(nodes)], nodes[j % len(nodes)]
        if kind == 0:
            nodes.append(UNARY[op % len(UNARY)](u))
        elif kind == 1:
            nodes.append(BINARY[op % len(BINARY)](u, v))
        elif kind == 2:   # Python's sum: a chain of + nodes starting from 0
            nodes.append(sum(nodes[k % len(nodes)] for k in range(i, i + 2 + op % 5)))
        elif kind == 3:
            nodes.append(select([u, v, nodes[op % len(nodes)]], index))
        else:   # a dot of two runs of nodes, which may overlap (a node times itself)
            width = 1 + op % 5
            nodes.append(dot([nodes[k % len(nodes)] for k in range(i, i + width)],
                             [nodes[k % len(nodes)] for k in range(j, j + width)]))
    return sum(nodes[len(params) + len(xs) - 1:]) if len(nodes) > len(params) + len(xs) - 1 else nodes[0] * 1


numbers = st.floats(-2, 2).filter(lambda v: abs(v) > 1e-3)   # off the relu kink


@given(program=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 20), st.integers(0, 50),
                                  st.integers(0, 50)), max_size=25),
       params=st.lists(numbers, min_size=1, max_size=4),
       x=st.lists(numbers, min_size=2, max_size=2))
def test_random_graphs_match_eager_bitwise_as_every_branch_flips(program, params, x):
    ps = [Value(v) for v in params]
    flipped = [-v for v in params]
    xs = [x + [0.0], [-v for v in x] + [1.0], [x[1], x[0]] + [2.0], [-x[1], x[0]] + [0.0]]
    assert_replays_like_eager(lambda x: run_program(program, ps, x), ps, xs,
                              param_values=[params, flipped, params[::-1], flipped[::-1]])


# refusals: a number read in Python, a changed model, a changed constant


def test_a_branch_on_a_parameters_number_is_refused_with_file_and_line():
    w0 = Value(0.5)

    def fn(x):
        loss = (w0 * x) ** 2
        return loss * 2 if w0.data > 0 else loss   # the read this test expects to be named
    line = fn.__code__.co_firstlineno + 2
    with pytest.raises(ValueError, match=rf"test_compile.py:{line}: .*\.data.* a parameter.*amax"):
        compile(fn, [w0], (1.0,))
    assert Value(2.0).data == 2.0 and type(Value.__dict__['data']).__name__ == 'member_descriptor'


@pytest.mark.parametrize("read", [
    lambda w, x: w * x if x.data > 0 else w,              # a branch on an input's number
    lambda w, x: w * float((w * x).data),                 # a number computed from .data
    lambda w, x: w * max(v.data for v in [w * x, x]),     # a max over .data: use amax
    lambda w, x: select([w, x], int(x.data > 0)),         # an index from .data: make it an input
], ids=["input", "computed", "max", "index"])
def test_reads_of_watched_numbers_are_refused(read):
    w = Value(1.5)
    with pytest.raises(ValueError, match=r"test_compile.py:\d+: fn reads the number"):
        compile(lambda x: read(w, x), [w], (1.0,))


def test_a_refusal_fn_catches_is_raised_anyway():
    w = Value(1.5)

    def fn(x):
        try:
            scale = 2.0 if x.data > 0 else 1.0
        except ValueError:
            scale = 1.0
        return w * x * scale
    with pytest.raises(ValueError, match="fn reads the number"):
        compile(fn, [w], (1.0,))


def test_the_data_slot_is_restored_whatever_fn_does():
    w = Value(1.5)
    slot = Value.__dict__['data']

    def fails(x):
        raise KeyError("fn's own error")
    with pytest.raises(KeyError):
        compile(fails, [w], (1.0,))
    assert Value.__dict__['data'] is slot

    def records_inside(x):
        compile(lambda y: w * y, [w], (1.0,))
        return w * x
    with pytest.raises(RuntimeError, match="can't record inside"):
        compile(records_inside, [w], (1.0,))
    inner = compile(lambda y: w * y, [w], (1.0,))
    with pytest.raises(RuntimeError, match="can't be called while compile\\(\\) records"):
        compile(lambda x: w * inner(2.0), [w], (1.0,))   # its float would be frozen in this recording
    assert Value.__dict__['data'] is slot and Value(2.0).data == 2.0


def test_numbers_that_are_not_watched_may_be_read():
    w, c = Value(1.5), Value(3.0)   # c: a constant fn does not compute from params or inputs

    def fn(x, y):
        k = Value(2.0)
        return hinge_loss([w * x * k.data], [y]) + c.data   # hinge_loss reads the label y
    step = compile(fn, [w], (1.0, 1.0))
    assert step(0.5, -1.0) == (1 + 1.0 * (1.5 * 0.5 * 2.0)) + 3.0


def test_the_losses_may_check_labels_computed_from_the_inputs():
    # hinge_loss's own error advises 2 * y - 1 for 0/1 labels: its check of them is validation
    w = Value(0.5)
    step = compile(lambda x, y: hinge_loss([w * xi for xi in x], [2 * yi - 1 for yi in y]),
                   [w], ([1.0, 2.0], [1.0, 0.0]))
    # relu(1 - 0.5) and relu(1 + 1.0), averaged
    assert step([1.0, 2.0], [1.0, 0.0]) == (0.5 + 2.0) / 2


def test_the_losses_may_not_read_a_number_computed_from_the_parameters():
    w = Value(0.5)
    # the line of fn that called the loss, and the library function that read it: not the user's code
    with pytest.raises(ValueError, match=r"test_compile\.py:\d+: fn reads the number .* parameters "
                                         r"\(in micrograd\.losses\._check_labels, which can't run inside"):
        compile(lambda x: hinge_loss([w * x], [w * x]), [w], (1.0,))


def test_a_replaced_parameter_in_a_module_is_refused():
    model = MLP(2, [3, 1], rng=7)
    step = compile(lambda x: model(x), model, ([1.0, 2.0],))
    model.layers[0].neurons[1].w[0] = Value(0.25)   # as load() into a new model or a user might
    with pytest.raises(ValueError, match=r"model's parameters\(\) changed"):
        step([1.0, 2.0])


def test_an_added_parameter_or_a_changed_list_is_refused():
    model = MLP(2, [3, 1], rng=7)
    step = compile(lambda x: model(x), model, ([1.0, 2.0],))
    model.layers[0].neurons[1].w.append(Value(0.25))
    with pytest.raises(ValueError, match=r"model's parameters\(\) changed"):
        step([1.0, 2.0])
    params = MLP(2, [3, 1], rng=7).parameters()
    step = compile(lambda x: params[0] * x, params, (1.0,))
    params.append(Value(1.0))
    with pytest.raises(ValueError, match="params list changed"):
        step(1.0)


def test_parameters_updated_in_place_are_read_at_each_call():
    model = MLP(2, [3, 1], rng=7)
    step = compile(lambda x: model(x), model, ([1.0, 2.0],))
    model.load_state_dict({name: 0.5 for name in model.state_dict()})
    assert step([1.0, 2.0]) == model([1.0, 2.0]).data


def test_a_forgotten_parameter_that_changes_is_refused():
    w, forgotten = Value(2.0), Value(3.0)
    step = compile(lambda x: w * x + forgotten, [w], (1.0,))
    assert step(1.0) == 5.0
    forgotten.data -= 0.1   # an optimizer updated it, but the recording holds it as a constant
    with pytest.raises(ValueError, match="pass it in params"):
        step(1.0)


def test_a_constant_whose_zero_changes_sign_is_refused():
    # -0.0 == 0.0, yet w * -0.0 is -0.0 in eager: a constant is compared by its bits
    w, zero_ = Value(2.0), Value(0.0)
    step = compile(lambda x: w * x + w * zero_, [w], (1.0,))
    zero_.data = -0.0
    with pytest.raises(ValueError, match=r"0\.0 -> -0\.0\): pass it in params"):
        step(1.0)


# one recording per shape, threads


def test_each_input_shape_records_once_and_replays_after():
    X, y = moons(10, seed=7)
    model = MLP(2, [4, 1], rng=6)
    fn = lambda X, y: demo_loss(model, X, y)
    step = compile(fn, model, (X, y))
    params = model.parameters()
    for n in (10, 9, 3, 9, 10, 1):
        zero(params)
        got = replay(step, params, (X[:n], y[:n]))
        zero(params)
        assert got == eager(fn, params, (X[:n], y[:n]))
    assert step.recordings == 4
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        step(X)   # fn's own error, from the recording of a new shape


def test_the_cache_keeps_max_recordings_shapes():
    w = Value(0.5)
    step = compile(lambda x: w * sum(x), [w], None, max_recordings=2)
    assert step.recordings == 0
    for n in (1, 2, 3, 2, 4):
        assert step([1.0] * n) == 0.5 * n
    assert step.recordings == 2
    with pytest.raises(ValueError, match="max_recordings"):
        compile(lambda x: w * x, [w], None, max_recordings=0)


def test_threads_calling_one_step_each_get_their_own_numbers():
    w = Value(0.5)
    step = compile(lambda x: (w * sum(x)).tanh() * 3, [w], ([1.0, 2.0],))
    results, errors = {}, []

    def worker(k):
        try:
            for _ in range(50):
                x = [0.01 * k, 0.02 * k] if k % 2 else [0.01 * k] * (1 + k % 3)   # several shapes
                results.setdefault(k, set()).add(step(x))
        except Exception as e:   # noqa: BLE001  reported below
            errors.append(e)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 9)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors
    for k, got in results.items():
        x = [0.01 * k, 0.02 * k] if k % 2 else [0.01 * k] * (1 + k % 3)
        assert got == {(Value(0.5) * sum(map(Value, x))).tanh().data * 3}


def test_recording_in_one_thread_leaves_another_threads_reads_alone():
    w = Value(0.5)
    started, done = threading.Event(), threading.Event()
    seen = []

    def fn(x):
        started.set()
        done.wait(5)
        return w * x

    def reader():
        started.wait(5)
        seen.append((w * 3.0).data > 0)   # a read of a parameter's number, outside the recording
        done.set()
    t = threading.Thread(target=reader)
    t.start()
    compile(fn, [w], (1.0,))
    t.join()
    assert seen == [True]


def test_amax_of_a_nan_replays_as_eager():
    # amax is nan if any value is, and then every value's gradient is nan, as torch.amax
    w = Value(1.0)
    fn = lambda x: amax([w * x[0], w * x[1], w]) * 2 + w
    step = compile(fn, [w], ([1.0, 2.0],))
    for x in ([float('nan'), 2.0], [3.0, float('nan')], [0.5, 0.25], [-0.0, 0.0]):
        zero([w])
        got = replay(step, [w], (x,))
        zero([w])
        assert repr(got) == repr(eager(fn, [w], (x,)))   # repr: nan == nan is False


@pytest.mark.parametrize("make, x", [
    # sqrt at 0 sends an inf gradient into a dead relu: torch and eager give 0 there, not 0 * inf
    (lambda w, x: (w[0] * x[0]).relu() ** 0.5 + w[1] * x[1], [1.0, 1.0]),
    # a nan input to relu passes its gradient, as torch's threshold_backward
    (lambda w, x: (w[0] * x[0]).relu() * w[1], [float('nan'), 1.0]),
    # an inf gradient into amax: the loser gets 0 * inf = nan, as torch.amax
    (lambda w, x: (amax([w[0] * x[0], w[1] * x[1]]) - 2.0) ** 0.5, [1.0, 1.0]),
], ids=["relu_dead_inf", "relu_nan", "amax_loser_inf"])
def test_inf_and_nan_gradients_through_relu_and_amax_replay_as_eager(make, x):
    w = [Value(-1.0), Value(2.0)]
    step = compile(lambda xs: make(w, xs), w, (x,))
    zero(w)
    got = replay(step, w, (x,))
    zero(w)
    assert repr(got) == repr(eager(lambda xs: make(w, xs), w, (x,)))   # repr: nan == nan is False


def test_select_index_out_of_range_raises_selects_error():
    w = Value(1.0)
    step = compile(lambda x, i: select([w * x, w], i), [w], (2.0, 0))
    assert step(2.0, 1) == 1.0 and w.grad == 1.0
    with pytest.raises(IndexError, match="0..1, got 2"):
        step(2.0, 2)
    with pytest.raises(IndexError, match="got 0.5"):
        step(2.0, 0.5)


@pytest.mark.parametrize("make, x, error", [
    (lambda w, x: (w * x).log(), -1.0, ValueError),
    (lambda w, x: (w * x).exp(), 800.0, OverflowError),
    (lambda w, x: (w * x) ** -1, 0.0, ZeroDivisionError),
    (lambda w, x: (w * x) ** 0.5, -4.0, ValueError),
    (lambda w, x: (w * x) ** 200, 1e5, OverflowError),
])
def test_domain_errors_raise_like_eager(make, x, error):
    w = Value(1.0)
    step = compile(lambda x: make(w, x), [w], (1.0,))
    with pytest.raises(error):
        make(w, Value(x)).backward()
    with pytest.raises(error):
        step(x)


def test_powers_at_zero_give_eagers_ieee_gradients():
    w = Value(0.0)
    for make in (lambda x: w ** 0.5 * x, lambda x: (w ** 1.5 + w ** 0) * x, lambda x: 2 ** w * x):
        step = compile(make, [w], (1.0,))
        zero([w])
        got = replay(step, [w], (3.0,))
        zero([w])
        assert got == eager(make, [w], (3.0,))   # d/dw w ** 0.5 at 0: inf, as torch


def test_unknown_ops_and_bad_arguments_are_refused():
    w = Value(1.0)

    def custom(v):  # an op written the lecture's way, with a name compile does not know
        out = Value(0.0, (v,), 'cube')
        out._backward = lambda: None
        return out
    with pytest.raises(ValueError, match="can't replay the op 'cube'"):
        compile(lambda x: custom(w * x), [w], (1.0,))
    with pytest.raises(ValueError, match="fn reads the number"):   # its forward reads .data
        compile(lambda x: Value((w * x).data ** 3, (w * x,), 'cube'), [w], (1.0,))
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
    assert loss == loss_eager.data
    assert scores == [s.data for s in scores_eager]
    assert grads == [p.grad for p in params]


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


def steps_that_write_or_read_grads(model, opt):
    """the habits of an eager training step, each of which a recording would run once only"""
    def loss(x):
        return sum((model(xi) - 1.0) ** 2 for xi in x)

    def calls_backward(x):
        out = loss(x)
        out.backward()
        return out

    def zeroes_grads(x):
        model.zero_grad()
        return loss(x)

    def updates_weights(x):
        for p in model.parameters():
            p.data -= 0.01
        return loss(x)

    def steps_the_optimizer(x):
        out = loss(x)
        opt.step()
        return out

    def clips_grads(x):
        out = loss(x)
        return out * (1.0 if max(abs(p.grad) for p in model.parameters()) < 1 else 0.5)

    return {"backward": calls_backward, "zero_grad": zeroes_grads, "p.data -=": updates_weights,
            "opt.step()": steps_the_optimizer, "reads p.grad": clips_grads}


@pytest.mark.parametrize("habit, message", [
    ("backward", r"fn calls backward\(\).*return the loss from fn instead"),
    ("zero_grad", r"fn writes the gradient \(\.grad\) of a parameter"),
    ("p.data -=", r"fn reads the number \(\.data\) of a parameter"),   # -= reads before it writes
    ("opt.step()", r"fn reads the number \(\.data\) of a parameter \(in micrograd.optim\.\w+, which can't run "
                   r"inside a compiled fn\)"),
    ("reads p.grad", r"fn reads the gradient \(\.grad\) of a parameter"),
])
def test_a_step_that_writes_what_a_replay_would_not_write_again_is_refused(habit, message):
    # each ran once while a shape recorded and never again: a doubled first gradient, or grads
    # that piled up from the second call, with no error
    model = MLP(2, [3, 1], rng=0)
    before = [(p.data, p.grad) for p in model.parameters()]
    fn = steps_that_write_or_read_grads(model, SGD(model.parameters(), lr=0.1))[habit]
    with pytest.raises(ValueError, match=r"test_compile.py:\d+: " + message):
        compile(fn, model, ([[0.5, -1.0], [1.0, 2.0]],))
    assert [(p.data, p.grad) for p in model.parameters()] == before   # nothing was written


def test_a_step_that_returns_its_loss_records_and_replays():
    model = MLP(2, [3, 1], rng=0)
    fn = lambda x: sum((model(xi) - 1.0) ** 2 for xi in x)
    assert_replays_like_eager(fn, model.parameters(), [[[0.5, -1.0], [1.0, 2.0]], [[2.0, 0.1], [-1.0, 0.3]]])


def test_a_value_computed_from_a_parameter_outside_fn_is_refused():
    # eagerly `scaled` keeps its number from when it was made; a replay would compute it again
    w = Value(0.5)
    scaled = w * 3
    with pytest.raises(ValueError, match=r"computed from the parameters before this call .* by '\*'"):
        compile(lambda x: scaled * x[0] + w, [w], ([2.0],))
    made_inside = compile(lambda x: (w * 3) * x[0] + w, [w], ([2.0],))   # computed inside: fine
    assert made_inside([2.0]) == 3.5


def test_an_op_the_loss_does_not_use_is_refused_where_it_could_raise():
    # eagerly exp(800 * x) raises on a later call; a replay computes only the loss, so it would not
    w = Value(0.5)
    with pytest.raises(ValueError, match=r"fn computes a 'exp' that the loss does not use"):
        compile(lambda x: (w * x[0], (w * x[0] * 800).exp())[0], [w], ([0.1],))
    # an unused op that gives inf or nan rather than raising (tanh, +) is harmless: allowed
    step = compile(lambda x: (w * x[0], (w * x[0]).tanh() + 1)[0], [w], ([0.1],))
    assert step([2.0]) == 1.0


def test_an_int_input_beyond_int64_is_taken_as_eager_takes_it():
    w = Value(0.5)
    step = compile(lambda x: w * x[0], [w], ([1.0],))
    assert step([2**70]) == (w * 2**70).data == 0.5 * float(2**70)
    with pytest.raises(OverflowError, match="too large for a float"):
        step([10**400])


def test_a_gradient_of_negative_zero_replays_with_its_sign():
    # backward()'s += keeps -0.0 where every term is -0.0; a bincount started at +0.0 did not
    w = Value(0.0)
    step = compile(lambda x: w * x[0], [w], ([1.0],))
    w.grad = -0.0
    step([-0.0])
    w_eager = Value(0.0)
    w_eager.grad = -0.0
    (w_eager * -0.0).backward()
    assert math.copysign(1, w.grad) == math.copysign(1, w_eager.grad) == -1.0


def test_a_number_fetched_by_a_c_accessor_is_refused_at_the_line_that_fetched_it():
    # operator.attrgetter and sorted run in C: the read is still made from fn's line
    import operator
    w, v = Value(0.5), Value(-1.0)
    fn = lambda x: sorted([w, v], key=operator.attrgetter('data'))[0] * x[0]
    with pytest.raises(ValueError, match=r"test_compile.py:\d+: fn reads the number \(\.data\) of a parameter"):
        compile(fn, [w, v], ([1.0],))


def test_a_branch_on_a_values_text_is_not_detected_as_the_docs_say():
    # repr() and f-strings are made by the engine, which reads numbers freely: a branch on that
    # text is frozen at recording, like a branch on a global (docs/compile.md, "not detected")
    w = Value(0.5)
    step = compile(lambda x: w * x[0] if f"{w}".startswith("Value(data=0.5") else w * 0.0, [w], ([2.0],))
    w.data = -3.0
    assert step([2.0]) == -6.0   # the branch taken at recording, though the text now says -3.0
