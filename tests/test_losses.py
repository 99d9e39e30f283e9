import pytest
import torch
import torch.nn.functional as F

from micrograd.engine import Value
from micrograd.losses import (binary_cross_entropy_with_logits, cross_entropy, hinge_loss, l2_penalty,
                              mse_loss)


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
    (lambda: binary_cross_entropy_with_logits([0.5], [1.5]), "targets in \\[0, 1\\], got 1.5"),
    (lambda: binary_cross_entropy_with_logits([0.5, 1.0], [1.0]), "2 logits and 1 targets"),
    (lambda: cross_entropy([[1.0, 2.0]], [2]), "class indices in 0..1, got 2"),
    (lambda: cross_entropy([[1.0, 2.0]], [-1]), "got -1"),
    (lambda: cross_entropy([[1.0, 2.0]], [1.0]), "got 1.0"),
    (lambda: cross_entropy([[1.0, 2.0]], [True]), "got True"),
    (lambda: cross_entropy([[1.0, 2.0], [1.0]], [0, 0]), "row 0 has 2 scores, row 1 has 1"),
    (lambda: cross_entropy([[1.0, 2.0]], [0, 1]), "1 rows of logits and 2 targets"),
    (lambda: cross_entropy([], []), "at least one row"),
    (lambda: l2_penalty([Value(1.0)], alpha=-1), "alpha"),
    (lambda: l2_penalty([]), "empty"),
])
def test_bad_input_raises_value_error_naming_it(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_single_value_instead_of_a_list_raises_type_error():
    with pytest.raises(TypeError, match="list of predictions, got a single Value"):
        mse_loss(Value(1.0), Value(2.0))
