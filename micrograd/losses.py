"""Losses over lists of Values and numbers, each returning one Value: mse, hinge, bce, cross-entropy, l2."""
import numbers

from micrograd.engine import Value

_REDUCTIONS = ('mean', 'sum')


def mse_loss(preds, targets, reduction='mean'):
    """mean (or sum) of (pred - target)**2 over the pairs, as torch.nn.functional.mse_loss"""
    preds, targets = _pairs(preds, targets, 'mse_loss', 'predictions', 'targets', reduction)
    return _reduce([(p - t)**2 for p, t in zip(preds, targets)], reduction)


def hinge_loss(scores, labels, reduction='mean'):
    """the SVM max-margin loss of the original demo: mean of relu(1 - label * score), labels ±1"""
    scores, labels = _pairs(scores, labels, 'hinge_loss', 'scores', 'labels', reduction)
    for i, y in enumerate(labels):
        if y.data not in (-1.0, 1.0):
            raise ValueError(f"hinge_loss needs labels -1 or +1, got {y.data} at index {i} "
                             "(map 0/1 labels with 2 * y - 1)")
    return _reduce([(1 + -y * s).relu() for s, y in zip(scores, labels)], reduction)


def binary_cross_entropy_with_logits(logits, targets, reduction='mean'):
    """-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] from logits x, targets y in [0, 1]"""
    logits, targets = _pairs(logits, targets, 'binary_cross_entropy_with_logits',
                             'logits', 'targets', reduction)
    terms = []
    for i, (x, y) in enumerate(zip(logits, targets)):
        if not 0 <= y.data <= 1:
            raise ValueError(f"binary_cross_entropy_with_logits needs targets in [0, 1], "
                             f"got {y.data} at index {i}")
        # max(x, 0) + log(1 + exp(-|x|)) = log(1 + exp(x)), but exp only ever sees -|x| <= 0,
        # so a logit above 709 cannot overflow. One branch per sign rather than relu and |x|:
        # their kinks at 0 would give the gradient -y there instead of sigmoid(0) - y
        if x.data >= 0:
            softplus = x + (1 + (-x).exp()).log()
        else:
            softplus = (1 + x.exp()).log()
        terms.append(softplus - x * y)
    return _reduce(terms, reduction)


def cross_entropy(logits, targets, reduction='mean'):
    """softmax cross-entropy of rows of class scores against class indices, as torch's cross_entropy"""
    if _is_index(targets):  # one sample: a row of scores and its class, as torch allows
        logits, targets = [logits], [targets]
    rows, targets = _as_list(logits, 'cross_entropy', 'logits'), _as_list(targets, 'cross_entropy', 'targets')
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if len(rows) != len(targets):
        raise ValueError(f"cross_entropy got {len(rows)} rows of logits and {len(targets)} targets")
    if not rows:
        raise ValueError("cross_entropy needs at least one row of logits")
    rows = [[_as_value(v) for v in _as_list(row, 'cross_entropy', 'each row of logits')] for row in rows]
    nclasses = len(rows[0])
    terms = []
    for i, (row, t) in enumerate(zip(rows, targets)):
        if len(row) != nclasses or not row:
            raise ValueError(f"cross_entropy needs rows of equal, non-zero length; "
                             f"row 0 has {nclasses} scores, row {i} has {len(row)}")
        if not _is_index(t) or not 0 <= t < nclasses:
            raise ValueError(f"cross_entropy needs class indices in 0..{nclasses - 1}, "
                             f"got {t!r} at index {i}")
        # log-sum-exp shifted by the row's max: exp(v - m) <= 1 cannot overflow and the sum is >= 1,
        # so log cannot fail. m is a plain number: the shift cancels, so it needs no gradient
        m = max(v.data for v in row)
        lse = sum((v - m).exp() for v in row).log() + m
        terms.append(lse - row[t])
    return _reduce(terms, reduction)


def l2_penalty(params, alpha=1e-4):
    """alpha * sum of p * p over params: the original demo's regularisation, with its alpha"""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha >= 0:
        raise ValueError(f"alpha must be a non-negative number, got {alpha!r}")
    params = [_as_value(p) for p in _as_list(params, 'l2_penalty', 'params')]
    if not params:
        raise ValueError("l2_penalty got an empty parameter list")
    return alpha * sum(p * p for p in params)


def _as_value(x):
    return x if isinstance(x, Value) else Value(x)


def _as_list(xs, who, what):
    if isinstance(xs, (Value, numbers.Number, str)):
        raise TypeError(f"{who} takes a list of {what}, got a single {type(xs).__name__}")
    return list(xs)  # a generator or an array: read it once


def _is_index(t):
    return isinstance(t, numbers.Integral) and not isinstance(t, bool)


def _pairs(xs, ys, who, xname, yname, reduction):
    """xs and ys as lists of Values of the same, non-zero length"""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    xs, ys = _as_list(xs, who, xname), _as_list(ys, who, yname)
    if len(xs) != len(ys):
        raise ValueError(f"{who} got {len(xs)} {xname} and {len(ys)} {yname}")
    if not xs:
        raise ValueError(f"{who} needs at least one pair, got none")
    return [_as_value(x) for x in xs], [_as_value(y) for y in ys]


def _reduce(terms, reduction):
    if reduction == 'sum':
        return sum(terms)
    return sum(terms) * (1.0 / len(terms))  # the original demo's mean, so its numbers come out bit for bit
