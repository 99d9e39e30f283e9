"""Neurons, layers and multi-layer perceptrons made of Values."""
import collections.abc
import math
import numbers
import random

from micrograd.engine import Value
from micrograd.floats import as_float, is_int

# a Value method -> its name in reprs, which is also torch.nn's class; serialize and interop read it too
ACTIVATIONS = {'relu': 'ReLU', 'tanh': 'Tanh', 'sigmoid': 'Sigmoid'}


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
        known = dict(self.named_parameters())
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of name -> number, got {type(state).__name__}")
        missing = [name for name in known if name not in state]
        unexpected = [key for key in state if key not in known]
        if missing or unexpected:
            raise ValueError(f"state does not fit this {type(self).__name__}: {len(missing)} missing "
                             f"{missing[:3]}, {len(unexpected)} unexpected {unexpected[:3]}")
        for name in known:
            x = state[name]
            try:
                finite = not isinstance(x, bool) and isinstance(x, numbers.Real) and math.isfinite(x)
            except OverflowError:  # an int too large for a float (10**400)
                finite = False
            if not finite:
                huge = is_int(x)  # its repr may be 4000 digits
                raise ValueError(f"state[{name!r}] must be a finite number, got "
                                 + ('an int too large for a float' if huge else f"{x!r:.60}"))
        for name, p in known.items():
            p.data = float(state[name])


class Neuron(Module):
    """a weighted sum of the inputs plus a bias, then an activation when nonlin"""

    def __init__(self, nin, nonlin=True, act='relu', rng=None):
        nin = as_size(nin, 'nin')
        _check_act(act)
        rng = as_rng(rng)
        # one draw per weight, in order, so random.seed(1337) rebuilds the original's model
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin
        self.act = act

    def __call__(self, x):
        return self._forward(_as_inputs(x, len(self.w), 'Neuron'))

    def _forward(self, x):  # x: checked by the module that was called
        out = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return getattr(out, self.act)() if self.nonlin else out

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        kind = ACTIVATIONS[self.act] if self.nonlin else 'Linear'
        return f"{kind}Neuron({len(self.w)})"


class Layer(Module):
    """nout neurons that all read the same nin inputs"""

    def __init__(self, nin, nout, rng=None, **kwargs):
        nout = as_size(nout, 'nout')
        rng = as_rng(rng)
        self.neurons = [Neuron(nin, rng=rng, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = self._forward(_as_inputs(x, len(self.neurons[0].w), 'Layer'))
        return out[0] if len(out) == 1 else Outputs(out)  # one neuron gives a Value, as in the original

    def _forward(self, x):  # x: checked already; a subclass's own Neuron.__call__ runs, as in the original
        return [n._forward(x) if type(n).__call__ is Neuron.__call__ else n(x) for n in self.neurons]

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """layers of act neurons, the last one linear unless out_act names an activation"""

    def __init__(self, nin, nouts, act='relu', out_act=None, rng=None):
        nin, nouts = as_size(nin, 'nin'), _as_sizes(nouts)
        _check_act(act)  # here too: with one layer and an out_act, no neuron is handed act to check
        if out_act is not None and not _is_activation(out_act):
            raise ValueError(f"out_act must be None (a linear last layer) or one of {sorted(ACTIVATIONS)}, "
                             f"got {out_act!r}")
        rng = as_rng(rng)
        self.config = {'nin': nin, 'nouts': nouts, 'act': act, 'out_act': out_act}  # what save() writes
        sizes = [nin] + nouts
        acts = [act] * (len(nouts) - 1) + [out_act]  # None: a linear layer, the original's last
        self.layers = [Layer(sizes[i], sizes[i + 1], rng=rng, nonlin=a is not None, act=a or act)
                       for i, a in enumerate(acts)]

    def __call__(self, x):
        """the outputs for x: nin numbers or Values in any sequence (a 1-d NumPy array too), or
        one number when nin is 1; a 0-d array is refused as Value refuses it: pass x.item()"""
        x = _as_inputs(x, len(self.layers[0].neurons[0].w), 'MLP')
        for layer in self.layers:  # x checked once; a subclass's own Layer.__call__ runs, as in the original
            x = layer._forward(x) if type(layer).__call__ is Layer.__call__ else _outputs_of(layer, x)
        return x[0] if len(x) == 1 else Outputs(x)

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


class Outputs(list):
    """a layer's outputs, one Value per neuron: a list in every way, whose .backward() says what to do"""

    @property
    def backward(self):  # a property, so hasattr(out, 'backward') stays False, as for any list
        raise AttributeError(f"a list of {len(self)} outputs has no backward(): reduce them to one Value "
                             "first, a loss or sum(out), then call loss.backward()")


def _outputs_of(layer, x):
    """what a subclass's own Layer.__call__ gives, as a list the next layer reads without a zip cut short"""
    out = layer(x)
    out = [out] if isinstance(out, Value) else list(out)  # a layer of one neuron gives a Value
    if len(out) != len(layer.neurons):
        raise ValueError(f"{type(layer).__name__}.__call__ gave {len(out)} outputs "
                         f"for its {len(layer.neurons)} neurons")
    return out


def _check_act(act):
    if not _is_activation(act):
        raise ValueError(f"act must be one of {sorted(ACTIVATIONS)}, got {act!r}")


def _is_activation(act):
    return isinstance(act, str) and act in ACTIVATIONS  # isinstance first: a list would fail to hash


def as_size(n, name):
    """n as an int when it is a whole number >= 1 (a NumPy integer too); else a ValueError naming it"""
    if not is_int(n) or n < 1:
        raise ValueError(f"{name} must be a positive int, got {n!r}")
    return int(n)


def _as_sizes(nouts):
    # any one-dimensional sequence: a list, a tuple, a range, a NumPy array (a set has no order)
    if (isinstance(nouts, (str, dict)) or not hasattr(nouts, '__getitem__')
            or getattr(nouts, 'ndim', 1) != 1 or len(nouts) == 0):
        raise ValueError(f"nouts must be a non-empty sequence of layer sizes, got {nouts!r:.80}")
    return [as_size(n, f"nouts[{i}]") for i, n in enumerate(nouts)]


def as_rng(rng):
    """the random source for weights: None is Python's global random state, as the original;
    an int seeds a fresh generator (a NumPy integer too, as sizes are); a random.Random is used as it is"""
    if rng is None or rng is random:
        return random
    if is_int(rng):
        return random.Random(int(rng))  # int(): Random would seed any other object by its hash
    if isinstance(rng, random.Random):
        return rng
    raise TypeError(f"rng must be None, an int seed or a random.Random, got {type(rng).__name__}")


def _as_inputs(x, nin, who):
    """x as a list of nin Values and Python floats, checked once by the module that was called

    x is a sequence or an iterable of numbers and Values; a bare number or Value is one input.
    A 0-d NumPy array is refused, as Value refuses it, rather than guessed at: pass x.item().
    """
    if isinstance(x, (Value, numbers.Real)):
        x = [x]  # a bare number or Value is one input, as a one-neuron layer's output
    elif isinstance(x, (collections.abc.Set, collections.abc.Mapping)):
        # a set's order is its hashes', not yours, so inputs would meet the wrong weights (sizes refuse
        # sets too); so for a dict's keys() and items(); iterating a dict gives its keys
        raise TypeError(f"{who} takes its {nin} inputs in order, got a {type(x).__name__}: "
                        "pass a list or tuple")
    elif getattr(x, 'ndim', None) == 0:  # iter() would only say 'iteration over a 0-d array'
        raise TypeError(f"{who} takes a sequence of {nin} inputs, got a 0-d {type(x).__name__}: "
                        f"pass x.item() for one number")
    try:
        x = iter(x)
    except TypeError:
        raise TypeError(f"{who} takes a sequence of {nin} inputs (numbers or Values), "
                        f"got {type(x).__name__}") from None
    x = list(x)
    if len(x) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(x)}" + _batch_hint(x, nin))
    return [xi if isinstance(xi, Value) else as_float(xi, f"{who}'s inputs[{i}]") for i, xi in enumerate(x)]


def _batch_hint(x, nin):
    """a hint when x looks like a batch of inputs: a module takes one input vector per call"""
    rows = [row for row in x if not isinstance(row, (Value, numbers.Real, str))]
    if not x or len(rows) != len(x) or not all(hasattr(row, '__len__') and len(row) == nin for row in rows):
        return ""
    return (f": this looks like a batch of {len(x)} inputs of {nin}; a module takes one input at a time, "
            "so call it once per row: [model(x) for x in X]")
