"""SGD and Adam: torch.optim's names, defaults and update rules, for lists of Values."""
import math

from micrograd.engine import Value
from micrograd.floats import as_float, as_non_negative


class _Hyperparameter:
    """an optimizer setting, checked and converted to Python floats whenever it is assigned

    `opt.lr = np.float32(0.01)` between steps is converted like the constructor's argument,
    so no update ever runs in NumPy's arithmetic.
    """

    def __init__(self, convert):
        self.convert = convert  # convert(value, name) -> the stored value, or raise naming name

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, opt, owner=None):
        return self if opt is None else opt.__dict__[self.name]

    def __set__(self, opt, value):
        opt.__dict__[self.name] = self.convert(value, self.name)


# the settings are converted when assigned, so they come before the classes that use them
def _as_lr(lr, name):
    # a schedule's values are converted at each step
    return lr if callable(lr) else as_non_negative(lr, name)


def _as_betas(betas, name):
    try:
        betas = tuple(betas)  # a list or a NumPy array of two too
    except TypeError:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {type(betas).__name__}") from None
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {len(betas)} numbers")
    return tuple(_as_beta(beta, i) for i, beta in enumerate(betas))


def _as_beta(beta, i):
    value = as_float(beta, f'betas[{i}]')
    if not 0 <= value < 1:  # refuses NaN too
        raise ValueError(f"betas[{i}] must be in [0, 1), got {beta!r}")
    return value


class Optimizer:
    """holds the parameters, a learning rate or schedule, and the step count"""
    lr = _Hyperparameter(_as_lr)

    def __init__(self, params, lr):
        self.params = _as_params(params)
        self.lr = lr
        self.steps = 0  # completed step() calls; a schedule is called with this number

    def zero_grad(self):
        """set every parameter's grad to 0.0, before the next backward()"""
        for p in self.params:
            p.grad = 0.0

    def step(self):
        """update every parameter from its grad: all of them, or, if one can't be, none"""
        lr = self.lr
        if callable(lr):
            lr = as_non_negative(lr(self.steps), f"lr (the schedule's value at step {self.steps})")
        # every new number is computed before any is stored: a grad that raises changes nothing
        self._update(lr, self.steps + 1)
        self.steps += 1

    def _update(self, lr, t):
        raise NotImplementedError


class SGD(Optimizer):
    """stochastic gradient descent, with optional momentum and weight decay, as torch.optim.SGD"""
    momentum = _Hyperparameter(as_non_negative)
    weight_decay = _Hyperparameter(as_non_negative)

    def __init__(self, params, lr, momentum=0, weight_decay=0):
        super().__init__(params, lr)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.buffers = [None] * len(self.params)  # momentum buffers, aligned with params

    def _update(self, lr, t):
        # locals, not attributes, in the loop: each setting is read through _Hyperparameter.__get__
        momentum, weight_decay = self.momentum, self.weight_decay
        buffers, data = list(self.buffers), []
        for i, p in enumerate(self.params):
            x, g = _current(p)
            if weight_decay:
                g = g + weight_decay * x
            if momentum:
                # as torch: the first step starts the buffer at the gradient itself
                b = buffers[i]
                buffers[i] = g if b is None else momentum * b + g
                g = buffers[i]
            data.append(x - lr * g)
        self.buffers = buffers
        _store(self.params, data)


class Adam(Optimizer):
    """Adam with bias-corrected moment estimates, as torch.optim.Adam"""
    betas = _Hyperparameter(_as_betas)
    eps = _Hyperparameter(as_non_negative)
    weight_decay = _Hyperparameter(as_non_negative)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        super().__init__(params, lr)
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.m = [0.0] * len(self.params)  # first moment, aligned with params
        self.v = [0.0] * len(self.params)  # second moment

    def _update(self, lr, t):
        # torch's single-tensor update, operation by operation, each rounded once in Python floats;
        # torch's CPU kernels fuse three multiply-adds into one rounding and its sqrt is not correctly
        # rounded, so the last bits may differ (docs/training.md says which ops and how often)
        beta1, beta2 = self.betas
        # the moments start at zero, so early on they underestimate; dividing by 1 - beta**t undoes that
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = (1 - beta2**t)**0.5  # torch's: C's pow, a last bit off math.sqrt at times
        # locals, not attributes, in the loop: a GPT step updates thousands of parameters (3x faster)
        m, v, eps, weight_decay = list(self.m), list(self.v), self.eps, self.weight_decay
        weight = 1 - beta1  # torch's m.lerp_(g, 1 - beta1)
        small_weight, one_minus_weight, one_minus_beta2 = weight < 0.5, 1 - weight, 1 - beta2
        data = []
        for i, p in enumerate(self.params):
            x, g = _current(p)
            if weight_decay:
                g = g + weight_decay * x  # torch's grad.add(param, alpha=weight_decay), fused there
            # torch's lerp kernel: from m for a weight under 0.5, else from g, so both ends are exact (fused there)
            m[i] = m[i] + weight * (g - m[i]) if small_weight else g - (g - m[i]) * one_minus_weight
            # torch's v.mul_(beta2).addcmul_(g, g, value=1 - beta2), fused there
            v[i] = beta2 * v[i] + one_minus_beta2 * g * g
            # torch's param.addcdiv_(m, sqrt(v) / bias_correction2_sqrt + eps, value=-step_size): not fused
            data.append(x - _divide(step_size * m[i], math.sqrt(v[i]) / bias_correction2_sqrt + eps))
        self.m, self.v = m, v
        _store(self.params, data)


def _as_params(params):
    if hasattr(params, 'parameters') and not isinstance(params, (list, tuple)):
        # torch.optim refuses a module too (its parameters are a choice: all, or one layer's)
        raise TypeError(f"an optimizer takes a list of Values, got the {type(params).__name__} itself: "
                        "pass model.parameters()")
    params = list(params)  # a generator such as model.parameters() elsewhere: read it once
    if not params:
        raise ValueError("optimizer got an empty parameter list")
    seen = set()
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"parameters must be Values, got {type(p).__name__} at index {i}")
        if id(p) in seen:
            # it would be updated twice per step
            raise ValueError(f"parameter at index {i} appears more than once")
        seen.add(id(p))
    return params


def _current(p):
    # a data or grad set by hand may be a NumPy scalar: its arithmetic would make the model float32
    return float(p.data), float(p.grad)


def _divide(x, y):
    """x / y with IEEE's answer where Python raises: 0 / 0 is nan and x / 0 is ±inf, as torch's
    Adam gives for eps=0 and an all-zero gradient history"""
    if y == 0:
        return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
    return x / y


def _store(params, data):
    for p, x in zip(params, data):
        p.data = x
