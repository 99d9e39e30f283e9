"""SGD and Adam: torch.optim's names, defaults and update rules, for lists of Values."""
import math
import numbers

from micrograd.engine import Value


class Optimizer:
    """holds the parameters, a learning rate or schedule, and the step count"""

    def __init__(self, params, lr):
        self.params = _as_params(params)
        if not (callable(lr) or _is_nonnegative(lr)):
            raise ValueError(f"lr must be a non-negative number or a schedule (a callable), got {lr!r}")
        self.lr = lr
        self.steps = 0  # completed step() calls; a schedule is called with this number

    def zero_grad(self):
        """set every parameter's grad to 0.0, before the next backward()"""
        for p in self.params:
            p.grad = 0.0

    def step(self):
        """update every parameter from its grad"""
        lr = self.lr
        if callable(lr):
            lr = lr(self.steps)
            if not _is_nonnegative(lr):
                raise ValueError(f"the lr schedule gave {lr!r} at step {self.steps}; "
                                 "a learning rate must be a non-negative number")
        self.steps += 1
        self._update(lr)

    def _update(self, lr):
        raise NotImplementedError


class SGD(Optimizer):
    """stochastic gradient descent, with optional momentum and weight decay, as torch.optim.SGD"""

    def __init__(self, params, lr, momentum=0, weight_decay=0):
        super().__init__(params, lr)
        _check_nonnegative(momentum, 'momentum')
        _check_nonnegative(weight_decay, 'weight_decay')
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.buffers = [None] * len(self.params)  # momentum buffers, aligned with params

    def _update(self, lr):
        for i, p in enumerate(self.params):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            if self.momentum:
                # as torch: the first step starts the buffer at the gradient itself
                b = self.buffers[i]
                self.buffers[i] = g if b is None else self.momentum * b + g
                g = self.buffers[i]
            p.data -= lr * g


class Adam(Optimizer):
    """Adam with bias-corrected moment estimates, as torch.optim.Adam"""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        super().__init__(params, lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not (isinstance(beta, numbers.Real) and 0 <= beta < 1):
                raise ValueError(f"betas[{i}] must be in [0, 1), got {beta!r}")
        _check_nonnegative(eps, 'eps')
        _check_nonnegative(weight_decay, 'weight_decay')
        self.betas = tuple(betas)
        self.eps = eps
        self.weight_decay = weight_decay
        self.m = [0.0] * len(self.params)  # first moment, aligned with params
        self.v = [0.0] * len(self.params)  # second moment

    def _update(self, lr):
        beta1, beta2 = self.betas
        t = self.steps
        # the moments start at zero, so early on they underestimate; dividing by 1 - beta**t undoes that
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = math.sqrt(1 - beta2**t)
        for i, p in enumerate(self.params):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * g
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * g * g
            p.data -= step_size * self.m[i] / (math.sqrt(self.v[i]) / bias_correction2_sqrt + self.eps)


def _as_params(params):
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


def _is_nonnegative(x):
    # `not x >= 0` would let NaN through; bool is a number to Python but never a rate
    return not isinstance(x, bool) and isinstance(x, numbers.Real) and x >= 0


def _check_nonnegative(x, name):
    if not _is_nonnegative(x):
        raise ValueError(f"{name} must be a non-negative number, got {x!r}")
