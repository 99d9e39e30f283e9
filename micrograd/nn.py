"""Neurons, layers and multi-layer perceptrons made of Values."""
import numbers
import random

from micrograd.engine import Value

_ACTIVATIONS = {'relu': 'ReLU', 'tanh': 'Tanh', 'sigmoid': 'Sigmoid'}  # Value method -> repr name


class Module:
    """anything with parameters"""

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self):
        return []

    def named_parameters(self):
        """(name, Value) pairs in parameters() order, named by attribute path: 'layers.0.neurons.3.w.1'"""
        def walk(obj, name):
            if isinstance(obj, Value):
                yield name, obj
            elif isinstance(obj, Module):
                for key, attr in vars(obj).items():
                    yield from walk(attr, f"{name}.{key}" if name else key)
            elif isinstance(obj, (list, tuple)):
                for i, item in enumerate(obj):
                    yield from walk(item, f"{name}.{i}")
        named = list(walk(self, ''))
        if [id(p) for _, p in named] != [id(p) for p in self.parameters()]:
            raise TypeError(f"the Values in the attributes of {type(self).__name__} are not its "
                            f"parameters(), in order: override named_parameters() to name them")
        return named

    def state_dict(self):
        """{name: float} for every parameter, in parameters() order"""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state):
        """set every parameter from a state_dict(); all of it is checked first, so a bad one changes nothing"""
        named = self.named_parameters()
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of name -> number, got {type(state).__name__}")
        known = dict(named)
        missing = [name for name in known if name not in state]
        unexpected = [key for key in state if key not in known]
        if missing or unexpected:
            raise ValueError(f"state does not fit this {type(self).__name__}: {len(missing)} missing "
                             f"{missing[:3]}, {len(unexpected)} unexpected {unexpected[:3]}")
        for name in known:
            x = state[name]
            # float() first, so a huge int fails here; abs(nan) < inf is False, so nan fails too
            if isinstance(x, bool) or not isinstance(x, numbers.Real) or not abs(float(x)) < float('inf'):
                raise ValueError(f"state[{name!r}] must be a finite number, got {x!r}")
        for name, p in known.items():
            p.data = float(state[name])


class Neuron(Module):
    """a weighted sum of the inputs plus a bias, then an activation when nonlin"""

    def __init__(self, nin, nonlin=True, act='relu', rng=None):
        _check_size(nin, 'nin')
        if act not in _ACTIVATIONS:
            raise ValueError(f"act must be one of {sorted(_ACTIVATIONS)}, got {act!r}")
        rng = _as_rng(rng)
        # one draw per weight, in order, so random.seed(1337) rebuilds the original's model
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin
        self.act = act

    def __call__(self, x):
        x = _as_inputs(x, len(self.w), 'Neuron')
        out = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return getattr(out, self.act)() if self.nonlin else out

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        kind = _ACTIVATIONS[self.act] if self.nonlin else 'Linear'
        return f"{kind}Neuron({len(self.w)})"


class Layer(Module):
    """nout neurons that all read the same nin inputs"""

    def __init__(self, nin, nout, rng=None, **kwargs):
        _check_size(nout, 'nout')
        rng = _as_rng(rng)
        self.neurons = [Neuron(nin, rng=rng, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        x = _as_inputs(x, len(self.neurons[0].w), 'Layer')
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out  # one neuron gives a Value, as in the original

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """layers of act neurons, the last one linear unless out_act names an activation"""

    def __init__(self, nin, nouts, act='relu', out_act=None, rng=None):
        if isinstance(nouts, numbers.Number) or not nouts:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        rng = _as_rng(rng)
        sizes = [nin] + list(nouts)
        acts = [act] * (len(nouts) - 1) + [out_act]  # None: a linear layer, the original's last
        self.layers = [Layer(sizes[i], sizes[i + 1], rng=rng, nonlin=a is not None, act=a or act)
                       for i, a in enumerate(acts)]

    def __call__(self, x):
        x = _as_inputs(x, len(self.layers[0].neurons[0].w), 'MLP')
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def _is_size(n):
    return isinstance(n, int) and not isinstance(n, bool) and n >= 1


def _check_size(n, name):
    if not _is_size(n):
        raise ValueError(f"{name} must be a positive int, got {n!r}")


def _as_rng(rng):
    """None: Python's global random state, as the original; an int: a fresh seeded generator"""
    if rng is None or rng is random:
        return random
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    if isinstance(rng, random.Random):
        return rng
    raise TypeError(f"rng must be None, an int seed or a random.Random, got {type(rng).__name__}")


def _as_inputs(x, nin, who):
    # a bare number or Value is one input: it is what a one-neuron layer hands the next layer
    if isinstance(x, (Value, numbers.Real)):
        x = [x]
    elif not isinstance(x, (list, tuple)):
        x = list(x)  # a generator or an array: read it once
    if len(x) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(x)}")
    return x
