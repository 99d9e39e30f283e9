"""Moving an MLP to PyTorch and back: to_torch, from_torch (torch imported on first use)."""
import math
import random

from micrograd.floats import as_float
from micrograd.nn import ACTIVATIONS, MLP
from micrograd.serialize import architecture

# torch.nn names its activation classes as our neuron reprs do (ReLU, Tanh, Sigmoid): one table serves both


def to_torch(model):
    """an equivalent torch.nn.Sequential in float64: Linear, then ReLU/Tanh/Sigmoid where model has one

    model: an MLP. The result holds copies of its weights (Linear.weight[j, k] is
    model.layers[i].neurons[j].w[k]); training one does not change the other.
    """
    torch = import_torch('to_torch')
    config = architecture(model)  # refuses a model whose layers MLP(**config) would not rebuild
    sizes = [config['nin']] + config['nouts']
    acts = [config['act']] * (len(sizes) - 2) + [config['out_act']]
    modules = []
    for i, (layer, act) in enumerate(zip(model.layers, acts)):
        weights, biases = _layer_floats(layer, i)
        # skip_init: no random initialisation, which would advance torch's global generator
        linear = torch.nn.utils.skip_init(torch.nn.Linear, sizes[i], sizes[i + 1], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weights, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
        modules.append(linear)
        if act is not None:
            modules.append(getattr(torch.nn, ACTIVATIONS[act])())
    return torch.nn.Sequential(*modules)


def _layer_floats(layer, i):
    """a layer's weights and biases as Python floats: whatever was assigned to a .data (True,
    10**400, a numpy.longdouble) is converted as the engine converts it, or refused by its name"""
    weights = [[as_float(w.data, f"parameter layers.{i}.neurons.{j}.w.{k}") for k, w in enumerate(n.w)]
               for j, n in enumerate(layer.neurons)]
    biases = [as_float(n.b.data, f"parameter layers.{i}.neurons.{j}.b") for j, n in enumerate(layer.neurons)]
    return weights, biases


def from_torch(seq):
    """an MLP with the weights of seq, a torch.nn.Sequential of Linear layers each followed by
    ReLU, Tanh, Sigmoid or nothing

    A module with hooks (forward, pre-forward, backward, or global ones), a parametrization
    or pruning is refused naming it: the MLP would compute without them. Every hidden Linear
    must be followed by the same activation (the MLP's act); the last one may have any or none
    (out_act). Floating weights of any dtype become Python floats (float32
    ones exactly). Anything an MLP cannot represent raises ValueError naming the module,
    subclasses of Linear and of the activations included: they may compute something else.
    """
    torch = import_torch('from_torch')
    if not isinstance(seq, torch.nn.Sequential):
        raise TypeError(f"from_torch takes a torch.nn.Sequential, got {type(seq).__name__}")
    activations = {getattr(torch.nn, name): act for act, name in ACTIVATIONS.items()}
    _check_no_hooks(torch, seq, "the Sequential", every_module=True)
    layers = []  # [index in seq, Linear, the activation after it or None]
    for i, m in enumerate(seq):
        where = f"module {i} ({m!r})"
        _check_no_hooks(torch, m, where)
        if type(m) is torch.nn.Linear:  # the exact class, as for activations below
            _check_linear(m, where)
            if layers and m.in_features != layers[-1][1].out_features:
                raise ValueError(f"{where} takes {m.in_features} inputs but the layer before it "
                                 f"gives {layers[-1][1].out_features}")
            layers.append([i, m, None])
        elif type(m) in activations:
            if not layers or layers[-1][2] is not None:
                raise ValueError(f"{where} does not follow a Linear; an MLP applies one activation per layer")
            layers[-1][2] = activations[type(m)]
        elif base := next((c for c in (torch.nn.Linear, *activations) if isinstance(m, c)), None):
            raise ValueError(f"{where} subclasses {base.__name__} and may compute something else; "
                             f"from_torch reads exactly Linear, ReLU, Tanh and Sigmoid")
        else:
            raise ValueError(f"{where} has no micrograd equivalent; from_torch reads Linear, ReLU, Tanh, Sigmoid")
    if not layers:
        raise ValueError("the Sequential has no Linear layer")
    act = layers[0][2] if len(layers) > 1 else (layers[0][2] or 'relu')
    for i, m, a in layers[:-1]:
        if a is None:
            raise ValueError(f"module {i} ({m!r}) is a hidden layer with no activation after it; "
                             f"every hidden layer of an MLP has one")
        if a != act:
            raise ValueError(f"module {i} ({m!r}) is followed by {a} but the first layer by {act}; "
                             f"the hidden layers of an MLP share one activation")

    weights = []
    for i, m, _ in layers:
        w = m.weight.detach().cpu().double().tolist()
        b = m.bias.detach().cpu().double().tolist()
        if not all(math.isfinite(x) for row in w + [b] for x in row):
            raise ValueError(f"module {i} ({m!r}) has a weight that is nan or infinite")
        weights.append((w, b))

    # a private generator: the weights are overwritten anyway, and Python's global random state stays as it was
    model = MLP(layers[0][1].in_features, [m.out_features for _, m, _ in layers], act=act,
                out_act=layers[-1][2], rng=random.Random(0))
    for layer, (w, b) in zip(model.layers, weights):
        for neuron, row, bias in zip(layer.neurons, w, b):
            for wi, x in zip(neuron.w, row):
                wi.data = x
            neuron.b.data = bias
    return model


def _check_no_hooks(torch, m, where, every_module=False):
    """refuse what changes a module's numbers outside its weights: hooks, parametrizations, pruning;
    the MLP would compute without them, or read a weight that is not the one used"""
    from torch.nn.utils import parametrize, prune  # submodules torch does not import itself
    if parametrize.is_parametrized(m):
        names = ', '.join(m.parametrizations.keys())
        raise ValueError(f"{where} has a parametrization of {names}: its weights are computed on each call; "
                         f"torch.nn.utils.parametrize.remove_parametrizations(module, name) fixes them first")
    # torch keeps a module's hooks in these dicts (no public way to list them)
    kinds = [('forward pre-hook', m._forward_pre_hooks), ('forward hook', m._forward_hooks),
             ('backward hook', m._backward_hooks), ('backward pre-hook', m._backward_pre_hooks)]
    if every_module:  # hooks registered for every module apply to each of them
        registry = torch.nn.modules.module
        kinds += [('global forward pre-hook', registry._global_forward_pre_hooks),
                  ('global forward hook', registry._global_forward_hooks),
                  ('global backward hook', registry._global_backward_hooks),
                  ('global backward pre-hook', registry._global_backward_pre_hooks)]
    for kind, hooks in kinds:
        for hook in hooks.values():
            if isinstance(hook, prune.BasePruningMethod):
                raise ValueError(f"{where} is pruned ({type(hook).__name__} of {hook._tensor_name}): its "
                                 f".{hook._tensor_name} is recomputed on each call from "
                                 f"{hook._tensor_name}_orig and a mask; torch.nn.utils.prune.remove(module, "
                                 f"{hook._tensor_name!r}) makes the pruning permanent first")
            raise ValueError(f"{where} has a {kind} ({getattr(hook, '__name__', type(hook).__name__)}), which "
                             f"an MLP cannot run: remove it (handle.remove()) before from_torch")


def _check_linear(m, where):
    """refuse a Linear whose numbers an MLP layer cannot hold, before any is read"""
    if m.bias is None:
        raise ValueError(f"{where} has no bias; every micrograd neuron has one")
    if m.in_features < 1 or m.out_features < 1:  # MLP's own error would not say which module
        raise ValueError(f"{where} has no {'inputs' if m.in_features < 1 else 'outputs'}; "
                         f"every micrograd layer has at least one of each")
    for name, p in (('weight', m.weight), ('bias', m.bias)):
        if p.is_meta:  # reading one raises torch's NotImplementedError about copying
            raise ValueError(f"{where} is on the meta device: its {name} has a shape but no numbers; "
                             f"build it on the cpu, or give it weights (to_empty, then load_state_dict)")
        if not p.is_floating_point():  # complex ones too: .double() would drop the imaginary part
            raise ValueError(f"{where} has a {p.dtype} {name}; micrograd needs real numbers")
    shapes = tuple(m.weight.shape), tuple(m.bias.shape)
    if shapes != ((m.out_features, m.in_features), (m.out_features,)):  # a Parameter assigned by hand
        raise ValueError(f"{where} has a weight of shape {shapes[0]} and a bias of shape {shapes[1]}; "
                         f"its in_features and out_features ask for {(m.out_features, m.in_features)} "
                         f"and {(m.out_features,)}")


def import_torch(who):
    """the torch module, imported on first use; who (the function that needs it) is named in the
    ImportError raised when torch is not installed, which says how to install it"""
    try:
        import torch
    except ImportError:
        raise ImportError(f"{who} needs PyTorch: pip install torch==2.13.0 (the CPU build micrograd is "
                          f"tested with)") from None
    return torch
