"""Losses over lists of Values and numbers, each returning one Value: mse, hinge, bce, cross-entropy, l2;
and the stable softmax and log_softmax of a row of scores.

Every decision that depends on a number is made inside an engine op (relu, softplus, amax, select),
never by reading .data here, so a compiled replay makes it again from each call's numbers. The only
reads of .data below check labels and class indices: they raise or pass, and never change a number.
"""
import numbers

from micrograd.engine import Value, amax, select
from micrograd.floats import as_float, as_non_negative, is_int

_REDUCTIONS = ('mean', 'sum')


def mse_loss(preds, targets, reduction='mean'):
    """mean (or sum) of (pred - target)**2 over the pairs, as torch.nn.functional.mse_loss"""
    preds, targets = _pairs(preds, targets, 'mse_loss', 'predictions', 'targets', reduction)
    return _reduce([(p - t)**2 for p, t in zip(preds, targets)], reduction)


def hinge_loss(scores, labels, reduction='mean'):
    """the SVM max-margin loss of the original demo: mean of relu(1 - label * score), labels ±1"""
    scores, labels = _pairs(scores, labels, 'hinge_loss', 'scores', 'labels', reduction)
    _check_labels(labels)
    return _reduce([(1 + -y * s).relu() for s, y in zip(scores, labels)], reduction)


def binary_cross_entropy_with_logits(logits, targets, reduction='mean'):
    """-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] from logits x and targets y, as torch's

    Targets are probabilities in [0, 1] (0/1 labels, or soft targets). As torch, it checks no range:
    any real target gives torch's number, eagerly and compiled alike (a replay could not check new
    numbers again), though outside [0, 1] it is no log-loss and has no minimum. For labels -1/+1,
    such as the moons demo's, pass (y + 1) / 2.
    """
    logits, targets = _pairs(logits, targets, 'binary_cross_entropy_with_logits',
                             'logits', 'targets', reduction)
    # -log(1 - sigmoid(x)) = softplus(x), -log sigmoid(x) = softplus(-x); the softplus op never
    # overflows (exp only sees -|x|) and has no kink, so the gradient at 0 is sigmoid(0) - y.
    # (1 - y) x + softplus(-x) rather than softplus(x) - x y: torch's form, whose rounding it shares
    # (at x = 1000, y = 1 - 1e-7 the other form cancels two numbers near 1000 and keeps 7 digits)
    return _reduce([(1 - y) * x + (-x).softplus() for x, y in zip(logits, targets)], reduction)


def softmax(row):
    """exp(x_i) / sum_j exp(x_j) over a row of scores, as a list of Values, as torch.softmax"""
    exps = [s.exp() for s in _shifted(_as_row(row, 'softmax'))]
    scale = sum(exps)**-1  # one reciprocal for the row; the winner's exp(0) = 1 keeps the sum >= 1
    return [e * scale for e in exps]


def log_softmax(row):
    """x_i - log sum_j exp(x_j) over a row of scores, as a list of Values, as torch.log_softmax"""
    shifted, minus_log_sum = _log_softmax_terms(_as_row(row, 'log_softmax'))
    return [s + minus_log_sum for s in shifted]


def cross_entropy(logits, targets, reduction='mean'):
    """softmax cross-entropy of rows of class scores against class indices, as torch's cross_entropy

    A class index is an int (NumPy's too) or a Value holding one, as a compiled replay passes it.
    """
    if is_int(targets) or isinstance(targets, Value):  # one sample: a row and its class, as torch allows
        logits, targets = [logits], [targets]
    rows, targets = _rows_and_classes(logits, targets, reduction)
    return -_reduce([_log_probability(row, t) for row, t in zip(rows, targets)], reduction)


def l2_penalty(params, alpha=1e-4):
    """alpha * sum of p * p over params: the original demo's regularisation, with its alpha"""
    alpha = as_non_negative(alpha, 'alpha')
    params = [_as_value(p, 'l2_penalty', 'params', i)
              for i, p in enumerate(_as_list(params, 'l2_penalty', 'params'))]
    if not params:
        raise ValueError("l2_penalty got an empty parameter list")
    return alpha * sum(p * p for p in params)


def _check_labels(labels):
    # validation only: it reads each label's number to raise or pass, and changes none
    for i, y in enumerate(labels):
        if y.data not in (-1.0, 1.0):
            raise ValueError(f"hinge_loss needs labels -1 or +1, got {y.data} at index {i} "
                             "(map 0/1 labels with 2 * y - 1)")


def _rows_and_classes(logits, targets, reduction):
    """rows of Values of one, non-zero length, and their class indices"""
    rows, targets = _as_list(logits, 'cross_entropy', 'logits'), _as_list(targets, 'cross_entropy', 'targets')
    _check_reduction(reduction)
    if len(rows) != len(targets):
        raise ValueError(f"cross_entropy got {len(rows)} rows of logits and {len(targets)} targets")
    if not rows:
        raise ValueError("cross_entropy needs at least one row of logits")
    rows = [_as_row(row, 'cross_entropy') for row in rows]
    nclasses = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != nclasses:
            raise ValueError(f"cross_entropy needs rows of equal length; "
                             f"row 0 has {nclasses} scores, row {i} has {len(row)}")
    return rows, [_as_class_index(t, nclasses, i) for i, t in enumerate(targets)]


def _log_probability(row, target):
    """log_softmax(row)[target], with the choice made inside an op: a replay picks again from its number"""
    shifted, minus_log_sum = _log_softmax_terms(row)
    # the target's entry only: the same number as select(log_softmax(row), target), n nodes fewer
    return select(shifted, target) + minus_log_sum


def _log_softmax_terms(row):
    """row minus its max, and minus the log of their exps' sum: log_softmax is their sum"""
    shifted = _shifted(row)
    return shifted, -sum(s.exp() for s in shifted).log()  # the sum is >= 1, so log never fails


def _shifted(row):
    """row minus its max, so exp of each is at most 1 and never overflows"""
    # the shift cancels in softmax and log_softmax, and so does the gradient it gets: no detach needed
    minus_max = -amax(row)
    return [v + minus_max for v in row]


def _as_class_index(t, nclasses, i):
    """t as an int, or the Value holding it as it is"""
    # validation only: it reads the target's number to raise or pass; select makes the choice
    if isinstance(t, Value):
        valid = t.data.is_integer() and 0 <= t.data < nclasses
    else:
        valid = is_int(t) and 0 <= t < nclasses
    if not valid:
        raise ValueError(f"cross_entropy needs class indices in 0..{nclasses - 1}, got {t!r} at index {i}")
    return t if isinstance(t, Value) else int(t)


def _as_value(x, who, what, i):
    if isinstance(x, Value):
        return x
    return Value(as_float(x, f"{who}'s {what}[{i}]"))


def _as_row(row, who):
    row = [_as_value(v, who, 'scores', i) for i, v in enumerate(_as_list(row, who, 'scores'))]
    if not row:
        raise ValueError(f"{who} needs at least one score in a row")
    return row


def _as_list(xs, who, what):
    if isinstance(xs, (Value, numbers.Number, str)):
        raise TypeError(f"{who} takes a list of {what}, got a single {type(xs).__name__}")
    return list(xs)  # a generator or an array: read it once


def _pairs(xs, ys, who, xname, yname, reduction):
    """xs and ys as lists of Values of the same, non-zero length"""
    _check_reduction(reduction)
    xs, ys = _as_list(xs, who, xname), _as_list(ys, who, yname)
    if len(xs) != len(ys):
        raise ValueError(f"{who} got {len(xs)} {xname} and {len(ys)} {yname}")
    if not xs:
        raise ValueError(f"{who} needs at least one pair, got none")
    return ([_as_value(x, who, xname, i) for i, x in enumerate(xs)],
            [_as_value(y, who, yname, i) for i, y in enumerate(ys)])


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(terms, reduction):
    if reduction == 'sum':
        return sum(terms)
    return sum(terms) * (1.0 / len(terms))  # the original demo's mean, so its numbers come out bit for bit
