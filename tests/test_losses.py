import math
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
import torch
import torch.nn.functional as F

import micrograd.losses
from micrograd.engine import Value, topological_order
from micrograd.losses import (binary_cross_entropy_with_logits, cross_entropy, hinge_loss, l2_penalty,
                              log_softmax, mse_loss, softmax)


def leaves(xs):
    """the same numbers as micrograd Values and as one float64 torch leaf"""
    return [Value(x) for x in xs], torch.tensor(xs, dtype=torch.float64, requires_grad=True)


def assert_matches(out, out_t, pairs):
    """forward value and the gradient of every (Values, torch leaf) pair agree"""
    out.backward()
    out_t.backward()
    # a handful of terms summed: a few ulps apart at most
    assert out.data == pytest.approx(out_t.item(), rel=1e-12, abs=1e-15)
    for values, t in pairs:
        assert [v.grad for v in values] == pytest.approx(t.grad.flatten().tolist(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_matches_torch(reduction):
    preds, preds_t = leaves([0.5, -1.5, 2.25, 0.0, 3.0])
    targets, targets_t = leaves([1.0, -1.0, 2.0, 0.5, -0.25])
    assert_matches(mse_loss(preds, targets, reduction), F.mse_loss(preds_t, targets_t, reduction=reduction),
                   [(preds, preds_t), (targets, targets_t)])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_hinge_matches_torch(reduction):
    # scores off the kink at label * score = 1
    scores, scores_t = leaves([0.3, -2.0, 1.5, -0.4, 0.9, 2.5])
    labels = [1, 1, -1, -1, 1, 1]
    hinge_t = torch.relu(1 - torch.tensor(labels, dtype=torch.float64) * scores_t)
    out_t = hinge_t.mean() if reduction == "mean" else hinge_t.sum()
    assert_matches(hinge_loss(scores, labels, reduction), out_t, [(scores, scores_t)])


def test_hinge_mean_is_the_original_demo_expression():
    # bit for bit, so the demo retraces the original's numbers
    scores = [Value(x) for x in [0.3, -2.0, 1.5, -0.4]]
    labels = [1, -1, -1, 1]
    original = sum((1 + -yi * si).relu() for yi, si in zip(labels, scores)) * (1.0 / len(scores))
    assert hinge_loss(scores, labels).data == original.data


def test_hinge_at_the_margin_has_zero_gradient():
    # relu'(0) = 0, as torch: a score exactly at the margin is left alone
    s = Value(1.0)
    hinge_loss([s], [1]).backward()
    assert s.grad == 0.0


@pytest.mark.parametrize("logits, targets", [
    ([-3.0, -0.5, 0.25, 2.0, 4.5], [0.0, 1.0, 1.0, 0.0, 0.3]),  # soft targets too
    ([0.0, 0.0], [0.0, 1.0]),  # the branch point: the gradient is sigmoid(0) - y, not -y
    ([-800.0, -40.0, 40.0, 800.0], [1.0, 0.0, 1.0, 0.0]),  # exp(800) would overflow a float
    ([-800.0, -40.0, 40.0, 800.0], [0.0, 1.0, 0.0, 1.0]),
    ([-1000.0, 0.0, 1000.0, -1000.0, 0.0, 1000.0], [0.0, 0.25, 1.0, 1.0, 0.75, 0.0]),
    ([1000.0, -1000.0, 500.0, 35.0], [1 - 1e-7, 1e-7, 1 - 1e-12, 1 - 1e-9]),  # small losses from large terms
])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_with_logits_matches_torch(logits, targets, reduction):
    xs, xs_t = leaves(logits)
    out_t = F.binary_cross_entropy_with_logits(xs_t, torch.tensor(targets, dtype=torch.float64),
                                               reduction=reduction)
    assert_matches(binary_cross_entropy_with_logits(xs, targets, reduction), out_t, [(xs, xs_t)])


@pytest.mark.parametrize("rows, targets", [
    ([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0], [0.25, 0.25, 0.25], [2.0, -2.0, 1.0]], [1, 2, 0, 0]),
    ([[1000.0, 0.0, -1000.0], [-800.0, 750.0, 0.0]], [2, 1]),  # exp(1000) would overflow a float
    ([[1000.0, 999.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.5, -1000.0]], [0, 3]),
    ([[2.0, 2.0, -1.0], [-3.0, 0.5, 0.5], [7.0, 7.0, 7.0]], [1, 0, 2]),  # ties at the max
    ([[0.5, -0.5]], [1]),
])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_matches_torch(rows, targets, reduction):
    values = [[Value(x) for x in row] for row in rows]
    rows_t = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    out_t = F.cross_entropy(rows_t, torch.tensor(targets), reduction=reduction)
    assert_matches(cross_entropy(values, targets, reduction), out_t,
                   [([v for row in values for v in row], rows_t)])


def test_cross_entropy_of_one_sample_matches_torch():
    row, row_t = leaves([0.1, 2.0, -1.0, 0.7])
    assert_matches(cross_entropy(row, 3), F.cross_entropy(row_t, torch.tensor(3)), [(row, row_t)])


def test_l2_penalty_matches_torch():
    params, params_t = leaves([0.5, -1.5, 2.25, -0.75])
    assert_matches(l2_penalty(params, alpha=1e-3), 1e-3 * (params_t * params_t).sum(), [(params, params_t)])


def test_l2_penalty_is_the_original_demo_expression():
    params = [Value(x) for x in [0.5, -1.5, 2.25, -0.75]]
    original = 1e-4 * sum((p * p for p in params))
    assert l2_penalty(params).data == original.data  # alpha defaults to the original's 1e-4


def test_losses_accept_generators_and_plain_numbers():
    out = mse_loss((x for x in [1.0, 2.0]), (t for t in [0.0, 0.0]))
    assert isinstance(out, Value)
    assert out.data == 2.5


def test_losses_return_the_same_value_as_each_term_summed_by_hand():
    # reduction='sum' is sum, 'mean' is that sum over n: independent arithmetic on floats
    preds, targets = [0.5, -1.5, 2.0], [1.0, 1.0, 1.0]
    by_hand = sum((p - t) ** 2 for p, t in zip(preds, targets))
    assert mse_loss(preds, targets, 'sum').data == by_hand
    assert mse_loss(preds, targets).data == pytest.approx(by_hand / 3, rel=1e-15)


@pytest.mark.parametrize("call, message", [
    (lambda: mse_loss([1.0, 2.0], [1.0]), "mse_loss got 2 predictions and 1 targets"),
    (lambda: mse_loss([], []), "at least one"),
    (lambda: mse_loss([1.0], [1.0], reduction='none'), "reduction"),
    (lambda: hinge_loss([0.5, 0.5], [1, 0]), "labels -1 or \\+1, got 0.0 at index 1"),
    (lambda: hinge_loss([0.5], [1, -1]), "1 scores and 2 labels"),
    (lambda: binary_cross_entropy_with_logits([0.5, 1.0], [1.0]), "2 logits and 1 targets"),
    (lambda: cross_entropy([[1.0, 2.0]], [2]), "class indices in 0..1, got 2"),
    (lambda: cross_entropy([[1.0, 2.0]], [-1]), "got -1"),
    (lambda: cross_entropy([[1.0, 2.0]], [1.0]), "got 1.0"),
    (lambda: cross_entropy([[1.0, 2.0]], [True]), "got True"),
    (lambda: cross_entropy([[1.0, 2.0], [1.0]], [0, 0]), "row 0 has 2 scores, row 1 has 1"),
    (lambda: cross_entropy([[1.0, 2.0]], [0, 1]), "1 rows of logits and 2 targets"),
    (lambda: cross_entropy([], []), "at least one row"),
    (lambda: cross_entropy([[]], [0]), "at least one score"),
    (lambda: cross_entropy([[1.0, 2.0]], [Value(2.0)]), "class indices in 0..1, got Value\\(data=2.0"),
    (lambda: cross_entropy([[1.0, 2.0]], [Value(0.5)]), "got Value\\(data=0.5"),
    (lambda: cross_entropy([[1.0, 2.0]], [np.float64(1.0)]), "got np.float64\\(1.0\\)"),
    (lambda: softmax([]), "softmax needs at least one score"),
    (lambda: l2_penalty([Value(1.0)], alpha=np.float32('nan')), "alpha"),
    (lambda: l2_penalty([Value(1.0)], alpha=-1), "alpha"),
    (lambda: l2_penalty([]), "empty"),
])
def test_bad_input_raises_value_error_naming_it(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_single_value_instead_of_a_list_raises_type_error():
    with pytest.raises(TypeError, match="list of predictions, got a single Value"):
        mse_loss(Value(1.0), Value(2.0))


SOFTMAX_ROWS = [
    [1.0, 2.0, 0.5],
    [-1.0, 0.0, 3.0, 0.25],
    [0.25, 0.25, 0.25],  # all tied
    [2.0, 2.0, -1.0],  # tied at the max: amax splits its gradient, which cancels anyway
    [1000.0, 0.0, -1000.0],  # exp(1000) would overflow a float
    [-1000.0, -999.0, -1000.5],  # exp(-1000) would underflow to 0 and the log fail
    [0.7],
]
WEIGHTS = [0.3, -1.2, 2.0, 0.7]  # a weighted sum of the outputs, so every output's gradient matters


@pytest.mark.parametrize("ours, theirs", [(softmax, torch.softmax), (log_softmax, torch.log_softmax)])
@pytest.mark.parametrize("row", SOFTMAX_ROWS)
def test_softmax_and_log_softmax_values_and_grads_match_torch(ours, theirs, row):
    xs, xs_t = leaves(row)
    out, out_t = ours(xs), theirs(xs_t, dim=0)
    assert [v.data for v in out] == pytest.approx(out_t.tolist(), rel=1e-12, abs=1e-15)
    weights = WEIGHTS[:len(row)]
    # gradients that cancel to 0 (a class far below the winner) are a few ulps of 1 on either side:
    # abs=1e-15 is that, the rest match at rel=1e-12
    assert_matches(sum(w * v for w, v in zip(weights, out)),
                   (torch.tensor(weights, dtype=torch.float64) * out_t).sum(), [(xs, xs_t)])


@pytest.mark.parametrize("row", SOFTMAX_ROWS)
def test_softmax_sums_to_one_and_is_exp_of_log_softmax(row):
    probs, log_probs = softmax(row), log_softmax(row)
    assert sum(p.data for p in probs) == pytest.approx(1.0, rel=1e-15)
    assert [p.data for p in probs] == pytest.approx([lp.exp().data for lp in log_probs], rel=1e-14, abs=1e-300)


def test_softmax_accepts_plain_and_numpy_numbers():
    row = [1, np.float32(0.5), Fraction(1, 4), np.int64(-2)]
    out_t = torch.softmax(torch.tensor([float(x) for x in row], dtype=torch.float64), dim=0)
    out = softmax(row)
    assert all(type(v.data) is float for v in out)
    assert [v.data for v in out] == pytest.approx(out_t.tolist(), rel=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_with_class_indices_as_values_equals_plain_ints_bit_for_bit(reduction):
    rows = [[1.0, 2.0, 0.5], [-1000.0, 0.0, 1000.0], [3.0, 3.0, -1.0]]
    targets = [1, 0, 2]
    with_ints = [[Value(x) for x in row] for row in rows]
    with_values = [[Value(x) for x in row] for row in rows]
    a = cross_entropy(with_ints, targets, reduction)
    b = cross_entropy(with_values, [Value(t) for t in targets], reduction)
    a.backward()
    b.backward()
    assert a.data == b.data
    assert [v.grad for row in with_ints for v in row] == [v.grad for row in with_values for v in row]


def test_cross_entropy_of_one_sample_with_a_value_index_matches_torch():
    row, row_t = leaves([0.1, 2.0, -1.0, 0.7])
    index = Value(2)
    assert_matches(cross_entropy(row, index), F.cross_entropy(row_t, torch.tensor(2)), [(row, row_t)])
    assert index.grad == 0.0  # a position, not a quantity


@pytest.mark.parametrize("targets", [
    np.array([1, 2, 0]),
    [np.int8(1), np.uint16(2), np.int64(0)],
    np.array([1, 2, 0], dtype=np.uint8),
])
def test_cross_entropy_with_numpy_class_indices_matches_torch(targets):
    rows = [[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0], [0.25, -0.25, 0.0]]
    values = [[Value(x) for x in row] for row in rows]
    rows_t = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    out_t = F.cross_entropy(rows_t, torch.tensor([int(t) for t in targets]))
    assert_matches(cross_entropy(values, targets), out_t, [([v for row in values for v in row], rows_t)])


NUMBER_KINDS = [np.float16, np.float32, np.float64, np.longdouble, np.int8, np.int64, np.uint8, Fraction, int]


@pytest.mark.parametrize("kind", NUMBER_KINDS)
def test_mse_with_numpy_targets_matches_torch_and_gives_python_floats(kind):
    numbers = [1, 0, 3, 2] if kind in (np.int8, np.int64, np.uint8, int) else [0.1, -0.5, 2.25, 1.0]
    targets = [kind(x) for x in numbers]
    preds, preds_t = leaves([0.5, -1.5, 2.0, 0.0])
    out = mse_loss(preds, targets)
    assert_matches(out, F.mse_loss(preds_t, torch.tensor([float(t) for t in targets], dtype=torch.float64)),
                   [(preds, preds_t)])
    assert all(type(v.data) is float and type(v.grad) is float for v in topological_order(out))


@pytest.mark.parametrize("kind", [np.int8, np.int64, np.float32, np.float64, Fraction, float])
def test_hinge_with_numpy_labels_matches_torch(kind):
    scores, scores_t = leaves([0.3, -2.0, 1.5, -0.4])
    labels = [kind(y) for y in [1, 1, -1, -1]]
    out_t = torch.relu(1 - torch.tensor([float(y) for y in labels], dtype=torch.float64) * scores_t).mean()
    assert_matches(hinge_loss(scores, labels), out_t, [(scores, scores_t)])


@pytest.mark.parametrize("kind", [np.float16, np.float32, np.float64, np.longdouble, Fraction])
def test_bce_with_numpy_targets_matches_torch(kind):
    targets = [kind(0), kind(0.25), kind(1), kind(0.75)]
    xs, xs_t = leaves([-1000.0, 0.0, 3.5, 1000.0])
    out_t = F.binary_cross_entropy_with_logits(xs_t, torch.tensor([float(t) for t in targets], dtype=torch.float64))
    out = binary_cross_entropy_with_logits(xs, targets)
    assert_matches(out, out_t, [(xs, xs_t)])
    assert all(type(v.data) is float and type(v.grad) is float for v in topological_order(out))


@pytest.mark.parametrize("alpha", [np.float32(1e-3), np.float64(1e-3), np.float16(0.5), np.int64(2), Fraction(1, 3)])
def test_l2_penalty_with_a_numpy_alpha_matches_torch(alpha):
    params, params_t = leaves([0.5, -1.5, 2.25, -0.75])
    out = l2_penalty(params, alpha=alpha)
    assert_matches(out, float(alpha) * (params_t * params_t).sum(), [(params, params_t)])
    assert type(out.data) is float


@pytest.mark.parametrize("call, error, message", [
    (lambda: l2_penalty([Value(1.0)], alpha=True), TypeError, "alpha must be a real number, got bool"),
    (lambda: l2_penalty([Value(1.0)], alpha=np.bool_(True)), TypeError, "alpha must be a real number, got bool"),
    (lambda: mse_loss([1.0, 2.0], [1.0, '2']), TypeError, "mse_loss's targets\\[1\\] must be a real number"),
    (lambda: binary_cross_entropy_with_logits([1.0], [np.bool_(True)]), TypeError,
     "binary_cross_entropy_with_logits's targets\\[0\\] must be a real number, got bool"),
    (lambda: hinge_loss([1.0], [True]), TypeError, "hinge_loss's labels\\[0\\] must be a real number, got bool"),
    (lambda: cross_entropy([[1.0, None]], [0]), TypeError, "cross_entropy's scores\\[1\\] must be a real number"),
    (lambda: cross_entropy([[1.0, 2.0]], [np.bool_(True)]), ValueError, "got np.True_ at index 0"),
])
def test_bools_and_non_numbers_are_refused_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


class TracedValue(Value):
    """a Value that records who reads its number: the engine's ops, or code outside them"""
    reads = []

    @property
    def data(self):
        TracedValue.reads.append(sys._getframe(1).f_code.co_filename)
        return Value.data.__get__(self)

    @data.setter
    def data(self, value):
        Value.data.__set__(self, value)


@pytest.mark.parametrize("loss", [
    lambda xs: cross_entropy([xs[:3], xs[3:]], [Value(2), 0]),
    lambda xs: binary_cross_entropy_with_logits(xs, [0.0, 1.0, 0.5, 1.0, 0.0, 0.25]),
    lambda xs: sum(softmax(xs)) + sum(log_softmax(xs)),
    lambda xs: mse_loss(xs, [0.0] * 6) + hinge_loss(xs, [1, -1] * 3) + l2_penalty(xs),
])
def test_losses_leave_every_decision_on_a_logit_to_the_engine_ops(loss):
    # a branch on a logit's number in losses.py would be frozen by a compiled recording
    xs = [TracedValue(x) for x in [-1000.0, 0.0, 3.5, 1000.0, 2.0, 2.0]]
    TracedValue.reads = []
    loss(xs).backward()
    assert TracedValue.reads  # the engine's ops did read them
    assert micrograd.losses.__file__ not in TracedValue.reads


def test_cross_entropy_and_bce_decide_inside_ops():
    ops = {v._op for v in topological_order(cross_entropy([[1.0, 2.0, 0.5]], [1]))}
    assert {'max', 'select'} <= ops
    assert 'softplus' in {v._op for v in topological_order(binary_cross_entropy_with_logits([1.0], [0.0]))}


LOGIT = st.floats(-1000, 1000, allow_nan=False) | st.sampled_from([-1000.0, 0.0, 1000.0])


@given(st.integers(3, 6).flatmap(lambda n: st.tuples(
    st.lists(st.lists(LOGIT, min_size=n, max_size=n), min_size=1, max_size=4),
    st.lists(st.integers(0, n - 1), min_size=4, max_size=4))),
    st.sampled_from(["mean", "sum"]))
def test_cross_entropy_matches_torch_on_random_rows_up_to_1000(rows_and_classes, reduction):
    rows, classes = rows_and_classes
    targets = classes[:len(rows)]
    values = [[Value(x) for x in row] for row in rows]
    rows_t = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    out_t = F.cross_entropy(rows_t, torch.tensor(targets), reduction=reduction)
    # a confident right answer has a loss near 1e-16, where the sum 1 + tiny rounds differently in
    # torch's order: abs=1e-15 is those few ulps of 1, everything else matches at rel=1e-12
    assert_matches(cross_entropy(values, targets, reduction), out_t,
                   [([v for row in values for v in row], rows_t)])


TARGET = st.floats(0, 1) | st.sampled_from([0.0, 1.0]) | st.floats(0, 1e-6).flatmap(lambda e: st.sampled_from([e, 1 - e]))


@given(st.lists(st.tuples(LOGIT, TARGET), min_size=1, max_size=6),
       st.sampled_from(["mean", "sum"]))
def test_bce_with_logits_matches_torch_on_random_logits_up_to_1000(pairs, reduction):
    logits, targets = [x for x, _ in pairs], [y for _, y in pairs]
    xs, xs_t = leaves(logits)
    out_t = F.binary_cross_entropy_with_logits(xs_t, torch.tensor(targets, dtype=torch.float64),
                                               reduction=reduction)
    assert_matches(binary_cross_entropy_with_logits(xs, targets, reduction), out_t, [(xs, xs_t)])


@given(st.integers(1, 6).flatmap(lambda n: st.tuples(st.lists(LOGIT, min_size=n, max_size=n),
                                                     st.lists(st.floats(-2, 2), min_size=n, max_size=n))),
       st.sampled_from([(softmax, torch.softmax), (log_softmax, torch.log_softmax)]))
def test_softmax_and_log_softmax_match_torch_on_random_rows_up_to_1000(row_and_weights, functions):
    row, weights = row_and_weights
    ours, theirs = functions
    xs, xs_t = leaves(row)
    out, out_t = ours(xs), theirs(xs_t, dim=0)
    assert [v.data for v in out] == pytest.approx(out_t.tolist(), rel=1e-12, abs=1e-15)
    # a gradient y_i (w_i - sum_j w_j y_j) near 0 is a difference of numbers up to 2: abs=1e-15 is a few
    # of their ulps, everything else matches at rel=1e-12
    assert_matches(sum(w * v for w, v in zip(weights, out)),
                   (torch.tensor(weights, dtype=torch.float64) * out_t).sum(), [(xs, xs_t)])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_is_minus_the_picked_log_softmax_bit_for_bit(reduction):
    rows = [[1.0, 2.0, 0.5, -3.0], [-1000.0, 0.0, 1000.0, 999.0], [3.0, 3.0, -1.0, 3.0]]
    targets = [1, 3, 0]
    ours = [[Value(x) for x in row] for row in rows]
    by_hand = [[Value(x) for x in row] for row in rows]
    picked = [log_softmax(row)[t] for row, t in zip(by_hand, targets)]
    expected = -sum(picked) if reduction == 'sum' else -(sum(picked) * (1.0 / len(picked)))
    loss = cross_entropy(ours, targets, reduction)
    loss.backward()
    expected.backward()
    assert loss.data == expected.data
    assert [v.grad for row in ours for v in row] == [v.grad for row in by_hand for v in row]


def test_bce_takes_targets_computed_by_ops_eagerly_and_compiled_as_torch():
    # soft targets computed from parameters: the check of given targets must not read them (under
    # compile that read was refused as the user's branch on a parameter's number)
    from micrograd.compile import compile
    w, t = Value(0.8), Value(1.5)
    fn = lambda x: binary_cross_entropy_with_logits([w * xi for xi in x], [(t * xi).sigmoid() for xi in x])
    step = compile(fn, [w, t], ([0.5, -2.0],))
    got = step([0.5, -2.0])
    grads = (w.grad, t.grad)
    wt, tt = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (0.8, 1.5))
    x = torch.tensor([0.5, -2.0], dtype=torch.float64)
    loss_t = torch.nn.functional.binary_cross_entropy_with_logits(wt * x, torch.sigmoid(tt * x))
    loss_t.backward()
    assert got == pytest.approx(loss_t.item(), rel=1e-12)
    assert grads == pytest.approx((wt.grad.item(), tt.grad.item()), rel=1e-12)


@pytest.mark.parametrize("target", [5.0, -1.0, 0.3])
@pytest.mark.parametrize("given_as", [float, Value], ids=["number", "Value"])
def test_bce_gives_torchs_number_for_any_real_target_eagerly_and_compiled(target, given_as):
    # torch checks no range. A check of the given targets' numbers ran when a compiled step recorded,
    # never at its calls: recorded on 1.0, a step called with 5.0 gave a number where eager raised
    from micrograd.compile import compile
    x, y = [1.5, -0.5, 3.0], [target, 0.0, 1.0]
    w = Value(0.7)
    fn = lambda x, y: binary_cross_entropy_with_logits([w * xi for xi in x], y)  # noqa: E731
    step = compile(fn, [w], (x, [1.0, 0.0, 1.0]))
    compiled = step(x, y), w.grad
    w.grad = 0.0
    loss = fn(x, [given_as(yi) for yi in y])
    loss.backward()
    wt = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    loss_t = F.binary_cross_entropy_with_logits(wt * torch.tensor(x, dtype=torch.float64),
                                                torch.tensor(y, dtype=torch.float64))
    loss_t.backward()
    assert compiled == (loss.data, w.grad)  # compile's promise: the eager numbers, bit for bit
    assert loss.data == pytest.approx(loss_t.item(), rel=1e-12)
    assert w.grad == pytest.approx(wt.grad.item(), rel=1e-12)


def test_bce_gives_torchs_nan_and_infinities_for_such_targets():
    # no check refuses them, eagerly or compiled: the formula gives IEEE's answers, as torch's
    for target in [math.nan, math.inf, -math.inf]:
        loss = binary_cross_entropy_with_logits([Value(1.5), Value(-0.5)], [target, 0.0])
        loss_t = F.binary_cross_entropy_with_logits(torch.tensor([1.5, -0.5], dtype=torch.float64),
                                                    torch.tensor([target, 0.0], dtype=torch.float64))
        assert loss.data == loss_t.item() or (math.isnan(loss.data) and math.isnan(loss_t.item()))
