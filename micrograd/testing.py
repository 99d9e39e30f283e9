"""Checking gradients: against finite differences (gradcheck) and against PyTorch (assert_matches_torch)."""
import math
import numbers

from micrograd.engine import Value, topological_order
from micrograd.floats import as_float


class GradcheckError(RuntimeError):
    """an analytic gradient disagrees with the numeric one (a RuntimeError, as in torch.autograd)"""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """check the gradients backward() gives fn(*inputs) against central finite differences

    fn: called as fn(*inputs), returns one Value (reduce several outputs to one, e.g. with sum).
    inputs: a Value or a list/tuple of Values; every one of them is checked.
    eps: the step of the central difference (f(x + eps) - f(x - eps)) / (2 eps).
    atol, rtol: input i passes when |analytic - numeric| <= atol + rtol * |numeric|,
        the rule and the defaults of torch.autograd.gradcheck. eps, atol and rtol may be any
        real numbers (NumPy ones too); they are used as Python floats.
    raise_exception: True raises GradcheckError naming every input that fails, with both
        gradients; False returns False instead.
    Raises ValueError when fn, which ran at the inputs, raises ValueError or ArithmeticError a
    step of eps away (log near 0, say): the message names the input and suggests a smaller eps.
    Returns True when every input passes. The data and grad of the inputs, and the grad of
    every Value fn reads (model parameters, say), are as they were before the call.
    """
    inputs = _as_list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"input {i} must be a Value, got {type(x).__name__}")
    eps, atol, rtol = _as_tolerances(eps=eps, atol=atol, rtol=rtol)
    analytic = _analytic_grads(fn, inputs)
    numeric = [_numeric_grad(fn, inputs, i, eps) for i in range(len(inputs))]

    failures = []
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        allowed = atol + rtol * abs(n)
        if not (math.isfinite(a) and math.isfinite(n) and abs(a - n) <= allowed):
            failures.append(f"{_input_name(inputs, i)}: analytic {a!r}, numeric {n!r}, "
                            f"|difference| {abs(a - n):.3g} > atol + rtol * |numeric| = {allowed:.3g}")
    if failures and raise_exception:
        raise GradcheckError("gradcheck failed for " + "; ".join(failures)
                             + f" (eps={eps}, atol={atol}, rtol={rtol})")
    return not failures


def assert_matches_torch(fn, inputs, torch_fn=None, rtol=1e-10, atol=1e-12):
    """run fn on Values and torch_fn on float64 tensors, and check value and gradients agree

    fn: called as fn(*values) with a fresh Value per input, returns one Value.
    inputs: numbers or Values (only their data is read; nothing of theirs is changed), in a
        list, a tuple or a 1-d NumPy array; NumPy numbers become Python floats, exactly.
    torch_fn: the same computation on 0-d float64 tensors with requires_grad; by default fn
        itself, which works for anything written with operators and the methods both share
        (relu, tanh, exp, log, sigmoid). Torch's softplus (F.softplus, nn.Softplus) runs in
        it as the exact log(1 + e^(beta x)) / beta at every x, as ours: torch's own returns x
        above its threshold of 20, its gradient about 1e-9 from the exact one there.
    rtol, atol: a number passes when |ours - torch's| <= atol + rtol * |torch's|. Both sides
        compute in double precision, so only rounding separates them; it grows with the
        length of the computation, and 1e-10 leaves room for thousands of ops while any
        wrong derivative is off by far more.
    Raises AssertionError naming the output or input that differs, with both numbers.
    """
    from micrograd.interop import import_torch
    torch = import_torch('assert_matches_torch')
    data = []
    for i, x in enumerate(_as_list(inputs)):
        if isinstance(x, bool) or not isinstance(x, (Value, numbers.Real)):
            raise TypeError(f"input {i} must be a Value or a number, got {type(x).__name__}")
        data.append(x.data if isinstance(x, Value) else as_float(x, f"input {i}"))  # 10**400: refused
    atol, rtol = _as_tolerances(atol=atol, rtol=rtol)
    values = [Value(x) for x in data]
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in data]

    out = _scalar_output(fn, values, 'fn')
    with _exact_softplus(torch):
        out_t = (torch_fn or fn)(*tensors)
    if not isinstance(out_t, torch.Tensor) or out_t.numel() != 1:
        raise TypeError(f"torch_fn must return a tensor with one element, got {_describe(out_t)}")
    out.backward()
    out_t.sum().backward()

    _assert_close(out.data, out_t.item(), "the output", rtol, atol)
    for i, (v, t) in enumerate(zip(values, tensors)):
        expected = 0.0 if t.grad is None else t.grad.item()  # None: torch_fn never read input i
        _assert_close(v.grad, expected, f"the gradient of input {i}", rtol, atol)


def _exact_softplus(torch):
    """a torch function mode in which F.softplus is log(1 + e^(beta x)) / beta at every x, as ours

    F.softplus returns x itself where beta x > threshold (20 by default): at 21 its gradient is 1.0,
    the exact one 0.99999999924. torch.logaddexp(beta x, 0) is the exact form without overflow (a
    higher threshold overflows past x = 709), and gives our softplus's numbers.
    """
    softplus = torch.nn.functional.softplus

    class ExactSoftplus(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func is softplus:
                return _logaddexp_softplus(torch, *args, **(kwargs or {}))
            return func(*args, **(kwargs or {}))
    return ExactSoftplus()


def _logaddexp_softplus(torch, input, beta=1.0, threshold=None):
    # threshold is torch's switch to the identity, which the exact form has no need of
    return torch.logaddexp(input * beta, torch.zeros_like(input)) / beta


def _analytic_grads(fn, inputs):
    out = _scalar_output(fn, inputs, 'fn')
    nodes = topological_order(out)
    # the graph may reach Values that outlive the call (inputs, weights): zero their grads so
    # stale ones don't add in, and put them back afterwards
    saved = [v.grad for v in nodes]
    try:
        for v in nodes:
            v.grad = 0.0
        out.backward()
        return [x.grad for x in inputs]
    finally:
        for v, g in zip(nodes, saved):
            v.grad = g


def _numeric_grad(fn, inputs, i, eps):
    x = inputs[i]
    saved = x.data
    try:
        plus = _output_at(fn, inputs, i, saved, '+', eps)
        minus = _output_at(fn, inputs, i, saved, '-', eps)
    finally:
        x.data = saved
    return (plus - minus) / (2 * eps)


def _output_at(fn, inputs, i, x, sign, eps):
    """fn's output with input i moved to x + eps or x - eps, one side of the central difference"""
    inputs[i].data = x + eps if sign == '+' else x - eps
    try:
        return _scalar_output(fn, inputs, 'fn').data
    except (ValueError, ArithmeticError) as e:  # fn ran at x itself: the step took it off its domain
        raise ValueError(f"the central difference for {_input_name(inputs, i)} stepped outside fn's domain: "
                         f"at {x!r} {sign} eps = {inputs[i].data!r}, fn raised {type(e).__name__}: {e}; "
                         f"pass an eps smaller than {eps}, or check at a point farther from the edge "
                         f"of the domain") from e


def _input_name(inputs, i):
    return f"input {i} ({inputs[i].label!r})" if inputs[i].label else f"input {i}"


def _scalar_output(fn, args, who):
    out = fn(*args)
    if not isinstance(out, Value):
        raise TypeError(f"{who} must return one Value (sum several outputs into one), got {_describe(out)}")
    return out


def _as_list(inputs):
    if isinstance(inputs, (Value, numbers.Real)):
        return [inputs]  # one input, as torch.autograd.gradcheck takes a lone tensor
    is_vector = getattr(inputs, 'ndim', None) == 1  # a 1-d NumPy array, without importing numpy
    if not (isinstance(inputs, (list, tuple)) or is_vector) or len(inputs) == 0:
        raise TypeError(f"inputs must be a Value, a number or a non-empty list, tuple or 1-d NumPy array, "
                        f"got {inputs!r:.60}")
    return list(inputs)


def _as_tolerances(**tolerances):
    """the tolerances as Python floats: x + numpy.float32(eps) would compute in float32"""
    floats = []
    for name, x in tolerances.items():
        positive = name == 'eps'
        f = None if isinstance(x, bool) or not isinstance(x, numbers.Real) else as_float(x, name)
        # f == 0, not x == 0: a tiny Fraction eps rounds to 0.0 and would divide by zero
        if f is None or not math.isfinite(f) or x < 0 or (positive and f == 0):
            raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {x!r}")
        floats.append(f)
    return floats


def _assert_close(ours, theirs, what, rtol, atol):
    if ours == theirs or (math.isnan(ours) and math.isnan(theirs)):
        return  # equal infinities, or nan on both sides, as torch.testing.assert_close
    if not abs(ours - theirs) <= atol + rtol * abs(theirs):
        raise AssertionError(f"{what} differs from torch: micrograd {ours!r}, torch {theirs!r} "
                             f"(|difference| {abs(ours - theirs):.3g}, rtol={rtol}, atol={atol})")


def _describe(x):
    return type(x).__name__ if not isinstance(x, (list, tuple)) else f"a {type(x).__name__} of {len(x)}"
