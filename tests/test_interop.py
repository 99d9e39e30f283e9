"""to_torch / from_torch: same weights, same outputs and gradients, and training carries on where it stopped."""
import math
import random
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrize  # submodules torch does not import itself
import torch.nn.utils.prune

from micrograd.engine import Value
from micrograd.interop import from_torch, import_torch, to_torch
from micrograd.nn import MLP, Neuron
from micrograd.testing import assert_matches_torch

ARCHITECTURES = [
    dict(nin=2, nouts=[16, 16, 1]),
    dict(nin=3, nouts=[4, 4, 1], act='tanh', out_act='tanh'),
    dict(nin=3, nouts=[5, 2], act='sigmoid', out_act='relu'),
    dict(nin=4, nouts=[3]),
    dict(nin=2, nouts=[3, 1], act='tanh', out_act='sigmoid'),
]
INPUTS = [[0.5, -1.2, 0.3, 2.0], [-0.7, 0.1, -0.4, 0.9], [1.5, 0.8, -1.1, -0.2]]


def as_list(out):
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_to_torch_gives_the_same_outputs_and_gradients(architecture):
    model = MLP(rng=11, **architecture)
    seq = to_torch(model)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    for x in INPUTS:
        x = x[:architecture['nin']]
        out = as_list(model(x))
        out_t = seq(torch.tensor(x, dtype=torch.float64))
        # a few dozen ops, summed in another order by torch's matmul: rounding stays near 1e-15
        assert [v.data for v in out] == pytest.approx(out_t.tolist(), rel=1e-12, abs=1e-12)

        model.zero_grad()
        seq.zero_grad()
        sum(v * v for v in out).backward()
        (out_t * out_t).sum().backward()
        grads_t = [g for m in seq if isinstance(m, torch.nn.Linear)
                   for g in _per_neuron(m.weight.grad, m.bias.grad)]
        assert [p.grad for p in model.parameters()] == pytest.approx(grads_t, rel=1e-12, abs=1e-12)


def _per_neuron(weight, bias):
    """a Linear's numbers in micrograd's parameters() order: each neuron's weights, then its bias"""
    return [x for row, b in zip(weight.tolist(), bias.tolist()) for x in row + [b]]


def test_to_torch_builds_linear_and_activation_modules():
    seq = to_torch(MLP(3, [4, 4, 1], act='tanh', out_act='sigmoid', rng=0))
    assert [type(m).__name__ for m in seq] == ['Linear', 'Tanh', 'Linear', 'Tanh', 'Linear', 'Sigmoid']
    assert [type(m).__name__ for m in to_torch(MLP(2, [3, 1], rng=0))] == ['Linear', 'ReLU', 'Linear']


def test_to_torch_copies_the_weights():
    model = MLP(2, [3, 1], rng=0)
    seq = to_torch(model)
    assert seq[0].weight[1, 0].item() == model.layers[0].neurons[1].w[0].data
    assert seq[2].bias[0].item() == model.layers[1].neurons[0].b.data
    before = [p.data for p in model.parameters()]
    with torch.no_grad():
        seq[0].weight.add_(1.0)
    assert [p.data for p in model.parameters()] == before


def test_to_torch_leaves_torch_random_state_alone():
    state = torch.get_rng_state()
    to_torch(MLP(2, [16, 16, 1], rng=0))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_from_torch_of_to_torch_is_the_same_model_bitwise(architecture):
    model = MLP(rng=5, **architecture)
    back = from_torch(to_torch(model))
    assert repr(back) == repr(model)
    assert [p.data.hex() for p in back.parameters()] == [p.data.hex() for p in model.parameters()]


def test_from_torch_reads_a_float32_model_exactly():
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    model = from_torch(seq)
    assert repr(model) == repr(MLP(3, [5, 2], act='tanh', rng=0))
    assert [p.data for p in model.parameters()] == [x for m in (seq[0], seq[2])
                                                    for x in _per_neuron(m.weight.double(), m.bias.double())]
    seq64 = seq.double()  # float32 weights are exact in float64, so this is the same function
    for x in INPUTS:
        out_t = seq64(torch.tensor(x[:3], dtype=torch.float64))
        assert [v.data for v in model(x[:3])] == pytest.approx(out_t.tolist(), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("modules, act, out_act", [
    ([torch.nn.Linear(2, 3)], 'relu', None),
    ([torch.nn.Linear(2, 3), torch.nn.Sigmoid()], 'sigmoid', 'sigmoid'),
    ([torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1), torch.nn.Tanh()], 'relu', 'tanh'),
    ([torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)],
     'tanh', None),
])
def test_from_torch_reads_act_and_out_act(modules, act, out_act):
    model = from_torch(torch.nn.Sequential(*modules))
    sizes = [m.out_features for m in modules if isinstance(m, torch.nn.Linear)]
    assert repr(model) == repr(MLP(2, sizes, act=act, out_act=out_act, rng=0))


def test_from_torch_leaves_python_random_state_alone():
    seq = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    random.seed(3)
    expected = random.random()
    random.seed(3)
    from_torch(seq)
    assert random.random() == expected


def _nan_weight():
    linear = torch.nn.Linear(2, 2)
    with torch.no_grad():
        linear.weight[0, 1] = float('nan')
    return linear


@pytest.mark.parametrize("modules, match", [
    ([torch.nn.Linear(2, 3), torch.nn.Dropout(0.5), torch.nn.Linear(3, 1)],
     r"module 1 \(Dropout.*no micrograd equivalent"),
    ([torch.nn.Linear(2, 3), torch.nn.GELU()], r"module 1 \(GELU.*no micrograd equivalent"),
    ([torch.nn.Linear(2, 3, bias=False)], r"module 0 \(Linear.*has no bias"),
    ([torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(4, 1)], r"module 2 .*takes 4 inputs .* gives 3"),
    ([torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)], r"module 0 .*hidden layer with no activation"),
    ([torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)],
     r"module 2 .*followed by tanh but the first layer by relu"),
    ([torch.nn.ReLU(), torch.nn.Linear(2, 1)], r"module 0 \(ReLU\(\)\) does not follow a Linear"),
    ([torch.nn.Linear(2, 1), torch.nn.ReLU(), torch.nn.Tanh()], r"module 2 \(Tanh\(\)\) does not follow a Linear"),
    ([], "no Linear layer"),
    ([_nan_weight()], r"module 0 .*nan or infinite"),
])
def test_from_torch_names_what_it_cannot_represent(modules, match):
    with pytest.raises(ValueError, match=match):
        from_torch(torch.nn.Sequential(*modules))


def test_from_torch_takes_only_a_sequential():
    with pytest.raises(TypeError, match="takes a torch.nn.Sequential, got Linear"):
        from_torch(torch.nn.Linear(2, 1))


def test_to_torch_takes_only_an_mlp():
    with pytest.raises(TypeError, match="expected an MLP"):
        to_torch(torch.nn.Linear(2, 1))


def test_missing_torch_raises_import_error_with_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, 'torch', None)  # what import sees when torch is not installed
    with pytest.raises(ImportError, match=r"to_torch needs PyTorch: pip install torch==2\.13\.0"):
        to_torch(MLP(2, [1], rng=0))


def test_importing_micrograd_does_not_import_torch():
    code = ("import sys, micrograd, micrograd.interop, micrograd.testing, micrograd.serialize\n"
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, '-c', code], check=True)


def test_training_continues_in_torch_exactly_as_in_micrograd():
    rng = random.Random(7)
    xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(8)]
    ys = [1.0 if x0 * x1 > 0 else -1.0 for x0, x1 in xs]
    lr = 0.05

    def loss_of(model):
        return sum((model(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)

    def sgd_step(model):
        loss = loss_of(model)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        return loss.data

    model = MLP(2, [8, 8, 1], act='tanh', rng=1)
    for _ in range(4):
        sgd_step(model)

    seq = to_torch(model)  # exported after 4 steps; both now go on for 5 more
    X, Y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    optimizer = torch.optim.SGD(seq.parameters(), lr=lr)
    torch_losses = []
    for _ in range(5):
        loss = ((seq(X).squeeze(1) - Y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        torch_losses.append(loss.item())
    ours = [sgd_step(model) for _ in range(5)]

    assert ours[0] != ours[-1]  # the loss moves, so agreement is not a constant compared with itself
    # each step feeds rounding of the last into the next; 9 steps stay far below 1e-10
    assert ours == pytest.approx(torch_losses, rel=1e-10)
    final = [x for m in seq if isinstance(m, torch.nn.Linear) for x in _per_neuron(m.weight, m.bias)]
    assert [p.data for p in model.parameters()] == pytest.approx(final, rel=1e-10, abs=1e-12)


class DoubledLinear(torch.nn.Linear):
    """a Linear that computes something else: what from_torch cannot see from the weights"""

    def forward(self, x):
        return 2 * super().forward(x)


class LeakyReLU(torch.nn.ReLU):
    def forward(self, x):
        return torch.nn.functional.leaky_relu(x, 0.1)


@pytest.mark.parametrize("make, match", [
    (lambda: [DoubledLinear(2, 1)], r"module 0 \(DoubledLinear.* subclasses Linear and may compute something else"),
    (lambda: [torch.nn.Linear(2, 3), torch.nn.ReLU(), DoubledLinear(3, 1)],
     r"module 2 \(DoubledLinear.* subclasses Linear"),
    (lambda: [torch.nn.Linear(2, 3), LeakyReLU(), torch.nn.Linear(3, 1)], r"module 1 \(LeakyReLU.* subclasses ReLU"),
])
def test_from_torch_refuses_subclasses_of_linear_and_activations(make, match):
    torch.manual_seed(0)
    seq = torch.nn.Sequential(*make())
    plain = torch.nn.Sequential(*[torch.nn.Linear(m.in_features, m.out_features) if isinstance(m, torch.nn.Linear)
                                  else torch.nn.ReLU() for m in seq])
    plain.load_state_dict(seq.state_dict())
    x = torch.tensor([[0.5, -1.0], [-2.0, 3.0], [3.0, 1.0], [-1.0, -2.0]])
    assert not torch.equal(seq(x), plain(x))  # the same weights, another function
    with pytest.raises(ValueError, match=match):
        from_torch(seq)


def test_to_torch_reads_the_models_config():
    model = MLP(np.int64(3), np.array([4, 2]), act='sigmoid', out_act='tanh', rng=2)
    seq = to_torch(model)
    assert [type(m).__name__ for m in seq] == ['Linear', 'Sigmoid', 'Linear', 'Tanh']
    assert from_torch(seq).config == {'nin': 3, 'nouts': [4, 2], 'act': 'sigmoid', 'out_act': 'tanh'}


def test_to_torch_refuses_a_model_whose_layers_no_longer_match_its_config():
    model = MLP(2, [3, 1], rng=0)
    model.layers[0].neurons[2].nonlin = False  # one hidden neuron made linear
    with pytest.raises(ValueError, match="differ from what its config"):
        to_torch(model)


def test_import_torch_is_public_and_names_who_needs_it(monkeypatch):
    assert import_torch('anything') is torch
    monkeypatch.setitem(sys.modules, 'torch', None)
    for call, who in [(lambda: from_torch(None), 'from_torch'), (lambda: import_torch('GPT.to_torch'), 'GPT.to_torch'),
                      (lambda: assert_matches_torch(lambda x: x, [1.0]), 'assert_matches_torch')]:
        with pytest.raises(ImportError, match=rf"^{re.escape(who)} needs PyTorch: pip install torch==2\.13\.0"):
            call()


def test_from_torch_refuses_a_meta_linear_whose_weights_have_no_numbers():
    seq = torch.nn.Sequential(torch.nn.Linear(2, 3, device='meta'), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    with pytest.raises(ValueError, match=r"^module 0 \(Linear.*\) is on the meta device: its weight has a "
                                         r"shape but no numbers; build it on the cpu"):
        from_torch(seq)


def test_a_meta_linear_given_weights_as_the_error_advises_reads_as_torch_computes():
    source = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    seq = torch.nn.Sequential(torch.nn.Linear(2, 3, device='meta'), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    seq = seq.to_empty(device='cpu').double()
    seq.load_state_dict(source.state_dict())
    model = from_torch(seq)
    for x in ([0.5, -1.0], [2.0, 0.25]):
        assert model(x).data == pytest.approx(source(torch.tensor(x, dtype=torch.float64)).item(), rel=1e-12)


def _with_parameter(name, tensor):
    linear = torch.nn.Linear(2, 3)
    setattr(linear, name, torch.nn.Parameter(tensor, requires_grad=False))
    return linear


@pytest.mark.parametrize("linear, match", [
    (_with_parameter('bias', torch.zeros(3, dtype=torch.complex128)), "has a torch.complex128 bias; micrograd "
                                                                      "needs real numbers"),
    (_with_parameter('weight', torch.ones(3, 2, dtype=torch.int64)), "has a torch.int64 weight"),
    (_with_parameter('weight', torch.ones(3, 5)), r"has a weight of shape \(3, 5\) and a bias of shape \(3,\); "
                                                  r"its in_features and out_features ask for \(3, 2\) and \(3,\)"),
    (_with_parameter('bias', torch.ones(4)), r"has a weight of shape \(3, 2\) and a bias of shape \(4,\)"),
])
def test_from_torch_refuses_parameters_an_mlp_layer_cannot_hold(linear, match):
    # read silently, the bias would lose its imaginary part, the weight its last inputs (zip stops)
    with pytest.raises(ValueError, match=r"^module 0 \(Linear.*\) " + match):
        from_torch(torch.nn.Sequential(linear))


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
@pytest.mark.parametrize("modules, match", [
    (lambda: [torch.nn.Linear(0, 3)], r"^module 0 \(Linear\(in_features=0.*\) has no inputs; every micrograd layer"),
    (lambda: [torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 0)],
     r"^module 2 \(Linear.*\) has no outputs"),
])
def test_from_torch_names_a_linear_with_no_inputs_or_no_outputs(modules, match):
    with pytest.raises(ValueError, match=match):
        from_torch(torch.nn.Sequential(*modules()))  # built here, where the warning filter holds


@pytest.mark.parametrize("bad, error, match", [
    (True, TypeError, "must be a real number, got bool"),
    (10**400, OverflowError, r"is 1000+\.\.\. is too large for a float"),
    (np.longdouble('1e400'), OverflowError, r"is 1e\+400\.\.\. is too large for a float"),
])
def test_to_torch_refuses_a_parameter_that_is_no_float_naming_it(bad, error, match):
    model = MLP(2, [3, 1], rng=0)
    model.layers[0].neurons[2].b.data = bad  # numbers assigned to .data are stored as they are
    with pytest.raises(error, match=r"^parameter layers\.0\.neurons\.2\.b " + match):
        to_torch(model)


def test_to_torch_copies_numpy_and_nan_parameters_as_the_engine_reads_them():
    model = MLP(2, [3, 1], rng=0)
    model.layers[0].neurons[1].w[0].data = np.float32(0.1)
    model.layers[1].neurons[0].b.data = float('nan')
    seq = to_torch(model)
    assert seq[0].weight[1, 0].item() == float(np.float32(0.1))
    assert seq[2].bias.isnan().item()
    assert seq(torch.tensor([0.5, -1.0], dtype=torch.float64)).isnan().item() and math.isnan(model([0.5, -1.0]).data)


def _small_net():
    return torch.nn.Sequential(torch.nn.Linear(2, 3, dtype=torch.float64), torch.nn.Tanh(),
                               torch.nn.Linear(3, 1, dtype=torch.float64))


class _Abs(torch.nn.Module):
    def forward(self, X):
        return X.abs()


@pytest.mark.parametrize("attach, match", [
    (lambda net: net[2].register_forward_hook(lambda m, i, o: o * 100),
     r"^module 2 \(Linear.*\) has a forward hook \(<lambda>\)"),
    (lambda net: net[1].register_forward_pre_hook(lambda m, i: (i[0] * 2,)),
     r"^module 1 \(Tanh\(\)\) has a forward pre-hook \(<lambda>\)"),
    (lambda net: net.register_forward_hook(lambda m, i, o: o * 100), r"^the Sequential has a forward hook"),
    (lambda net: net[0].register_full_backward_hook(lambda m, gi, go: gi),
     r"^module 0 \(Linear.*\) has a backward hook"),
    (lambda net: torch.nn.utils.prune.l1_unstructured(net[0], 'weight', amount=0.5),
     r"^module 0 \(Linear.*\) is pruned \(L1Unstructured of weight\).*prune\.remove\(module, 'weight'\)"),
    (lambda net: torch.nn.utils.parametrize.register_parametrization(net[0], 'weight', _Abs()),
     r"^module 0 \(ParametrizedLinear\(.*\) has a parametrization of weight.*remove_parametrizations"),
])
def test_from_torch_refuses_hooks_pruning_and_parametrizations_naming_them(attach, match):
    net = _small_net()
    attach(net)
    # each changes what torch computes (or differentiates) beyond the weights an MLP would read
    with pytest.raises(ValueError, match=re.compile(match, re.S)):
        from_torch(net)


def test_from_torch_refuses_a_hook_registered_for_every_module():
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, i, o: o * 100)
    try:
        with pytest.raises(ValueError, match=r"^the Sequential has a global forward hook"):
            from_torch(_small_net())
    finally:
        handle.remove()
    from_torch(_small_net())  # removed: read as usual


def test_from_torch_reads_a_net_whose_pruning_was_made_permanent():
    net = _small_net()
    torch.nn.utils.prune.l1_unstructured(net[0], 'weight', amount=0.5)
    torch.nn.utils.prune.remove(net[0], 'weight')
    x = [0.5, -1.0]
    assert from_torch(net)(x).data == pytest.approx(net(torch.tensor(x, dtype=torch.float64)).item(), rel=1e-12)


class _Squashed(MLP):
    def __call__(self, x):
        return super().__call__(x).tanh()


class _Scaled(MLP):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scale = Value(3.0)

    def parameters(self):
        return super().parameters() + [self.scale]

    def __call__(self, x):
        return super().__call__(x) * self.scale


class _LoudNeuron(Neuron):
    def __call__(self, x):
        return super().__call__(x) * 100


class _LabelledMLP(MLP):
    name = 'moons'

    def describe(self):
        return f"{self.name}: {self}"


def _with_loud_neuron():
    model = MLP(2, [3, 1], rng=0)
    model.layers[0].neurons[1].__class__ = _LoudNeuron
    return model


@pytest.mark.parametrize("build, match", [
    (lambda: _Squashed(2, [3, 1], rng=0), r"^_Squashed overrides MLP.__call__ and may compute something else"),
    (lambda: _Scaled(2, [3, 1], rng=0), r"^_Scaled overrides MLP.__call__"),
    (_with_loud_neuron, r"^layers\[0\]\.neurons\[1\] of this MLP, a _LoudNeuron, overrides Neuron.__call__"),
])
def test_to_torch_refuses_a_subclass_that_computes_differently_naming_it(build, match):
    model, x = build(), [0.5, -1.0]
    # the plain MLP with the same weights computes another number: an export would be silently wrong
    assert model(x).data != pytest.approx(MLP(2, [3, 1], rng=0)(x).data, rel=1e-6)
    with pytest.raises(TypeError, match=match):
        to_torch(model)


def test_to_torch_exports_a_subclass_that_only_adds_a_method_and_a_label():
    model = _LabelledMLP(2, [3, 1], rng=0)
    x = [0.5, -1.0]
    assert to_torch(model)(torch.tensor(x, dtype=torch.float64)).item() == pytest.approx(model(x).data, rel=1e-12)
