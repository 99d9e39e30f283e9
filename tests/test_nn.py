"""Neuron, Layer, MLP: the original's structure and reprs, checked against a torch twin."""
import json
import random
import re
from fractions import Fraction

import numpy as np
import pytest
import torch

from micrograd import nn
from micrograd.engine import Value, topological_order
from micrograd.nn import MLP, Layer, Module, Neuron


def torch_twin(model):
    """the same MLP as a list of (weight, bias, activation) in float64, built from our weights"""
    twin = []
    for layer in model.layers:
        w = torch.tensor([[wi.data for wi in n.w] for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        first = layer.neurons[0]
        twin.append((w, b, first.act if first.nonlin else None))
    return twin


def torch_forward(twin, x):
    h = torch.tensor(x, dtype=torch.float64)
    for w, b, act in twin:
        h = w @ h + b
        h = getattr(torch, act)(h) if act else h
    return h


@pytest.mark.parametrize("act, out_act", [('relu', None), ('tanh', 'tanh'), ('sigmoid', None), ('tanh', 'sigmoid')])
def test_mlp_forward_and_backward_match_torch(act, out_act):
    model = MLP(3, [5, 4, 2], act=act, out_act=out_act, rng=7)
    twin = torch_twin(model)
    xs = [[0.5, -1.2, 2.0], [-0.3, 0.8, 0.1], [1.5, 1.5, -0.7]]

    loss = sum((yi**2 for x in xs for yi in model(x)), Value(0.0))
    loss_t = sum((torch_forward(twin, x)**2).sum() for x in xs)
    loss.backward()
    loss_t.backward()

    assert loss.data == pytest.approx(loss_t.item(), rel=1e-12)
    for layer, (w, b, _) in zip(model.layers, twin):
        for i, n in enumerate(layer.neurons):
            assert [wi.grad for wi in n.w] == pytest.approx(w.grad[i].tolist(), rel=1e-10, abs=1e-13)
            assert n.b.grad == pytest.approx(b.grad[i].item(), rel=1e-10, abs=1e-13)


def test_parameter_count_and_order():
    model = MLP(3, [4, 4, 1])
    params = model.parameters()
    assert len(params) == 41  # (3+1)*4 + (4+1)*4 + (4+1)*1
    first = model.layers[0].neurons[0]
    assert params[:4] == first.w + [first.b]  # weights then bias, neuron by neuron, layer by layer
    assert all(isinstance(p, Value) for p in params)


def test_reprs_as_in_the_original():
    model = MLP(2, [3, 1])
    assert repr(model) == ("MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2), ReLUNeuron(2)], "
                           "Layer of [LinearNeuron(3)]]")
    assert repr(Neuron(16, nonlin=False)) == "LinearNeuron(16)"
    assert repr(Neuron(3, act='tanh')) == "TanhNeuron(3)"
    assert repr(Layer(2, 2)) == "Layer of [ReLUNeuron(2), ReLUNeuron(2)]"


def test_neuron_defaults_weights_in_range_and_zero_bias():
    n = Neuron(1000, rng=3)
    assert all(-1 <= w.data <= 1 for w in n.w)
    assert n.b.data == 0.0 and n.nonlin and n.act == 'relu'


def test_default_init_follows_global_random_like_the_original():
    # the original draws random.uniform(-1, 1) once per weight, neuron by neuron, layer by layer
    random.seed(1337)
    expected = [random.uniform(-1, 1) for _ in range(2 * 16 + 16 * 16 + 16)]
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    weights = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
    assert weights == expected


def test_seed_and_generator_give_the_same_model_without_touching_global_state():
    state = random.getstate()
    a = MLP(2, [4, 1], rng=42)
    b = MLP(2, [4, 1], rng=random.Random(42))
    assert random.getstate() == state
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


@pytest.mark.parametrize("seed", [np.int64(42), np.uint8(42), np.int32(42)])
def test_a_numpy_integer_seed_builds_the_model_its_int_builds(seed):
    state = random.getstate()
    assert [p.data for p in MLP(2, [4, 1], rng=seed).parameters()] == \
        [p.data for p in MLP(2, [4, 1], rng=42).parameters()]
    assert random.getstate() == state


def test_lecture_neuron_activation_is_tanh_when_asked():
    n = Neuron(2, act='tanh', rng=0)
    x = [2.0, 0.0]
    out = n(x)
    expected = torch.tanh(torch.tensor(sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data, dtype=torch.float64))
    assert out.data == pytest.approx(expected.item(), rel=1e-12)
    assert out._op == 'tanh'


def test_one_neuron_layer_returns_a_value():
    out = Layer(2, 1)([1.0, 2.0])
    assert isinstance(out, Value)
    assert isinstance(Layer(2, 3)([1.0, 2.0]), list)


def test_mlp_with_one_unit_hidden_layer_works():
    model = MLP(2, [16, 1, 1], rng=5)
    y = model([0.3, -0.2])
    y.backward()
    hidden = model.layers[1].neurons[0]
    expected = sum(w.data * h.data for w, h in zip(hidden.w, model.layers[0]([0.3, -0.2]))) + hidden.b.data
    assert model.layers[2].neurons[0].w[0].grad == pytest.approx(max(expected, 0.0), rel=1e-12)


def test_inputs_may_be_values_numbers_tuples_or_generators():
    model = MLP(2, [3, 1], rng=1)
    ref = model([0.5, -1.0]).data
    assert model((0.5, -1.0)).data == ref
    assert model([Value(0.5), -1]).data == ref
    assert model(x for x in (0.5, -1.0)).data == ref


@pytest.mark.parametrize("module, x, expected", [
    (Neuron(2), [1.0, 2.0, 3.0], "Neuron expects 2 inputs, got 3"),
    (Layer(3, 2), [1.0], "Layer expects 3 inputs, got 1"),
    (MLP(2, [4, 1]), [1.0, 2.0, 3.0], "MLP expects 2 inputs, got 3"),
    (MLP(2, [4, 1]), [], "MLP expects 2 inputs, got 0"),
])
def test_wrong_number_of_inputs_raises_value_error(module, x, expected):
    with pytest.raises(ValueError, match=expected):
        module(x)


@pytest.mark.parametrize("make, match", [
    (lambda: MLP(2, 16), "nouts"),
    (lambda: MLP(2, []), "nouts"),
    (lambda: Neuron(0), "nin"),
    (lambda: Layer(2, 0), "nout"),
    (lambda: Neuron(2, act='swish'), "act"),
])
def test_bad_sizes_and_activations_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_rng_raises_type_error():
    with pytest.raises(TypeError, match="str"):
        MLP(2, [1], rng="seed")


def test_zero_grad_resets_every_parameter():
    model = MLP(2, [3, 1], rng=2)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_module_base_has_no_parameters():
    assert Module().parameters() == []
    Module().zero_grad()  # nothing to reset, and no error


def test_mlp_records_the_arguments_it_was_built_with():
    assert MLP(2, [16, 16, 1]).config == {'nin': 2, 'nouts': [16, 16, 1], 'act': 'relu', 'out_act': None}
    model = MLP(3, (4, 2), act='tanh', out_act='sigmoid', rng=0)
    assert model.config == {'nin': 3, 'nouts': [4, 2], 'act': 'tanh', 'out_act': 'sigmoid'}
    assert repr(MLP(**model.config, rng=0)) == repr(model)
    assert [p.data for p in MLP(**model.config, rng=0).parameters()] == [p.data for p in model.parameters()]


@pytest.mark.parametrize("out_act", [False, True, 0, 'linear', 'Tanh', 'none', ['tanh']])
def test_out_act_other_than_none_or_an_activation_name_is_refused(out_act):
    # out_act=False used to give a ReLU output layer without a word
    with pytest.raises(ValueError, match=r"out_act must be None \(a linear last layer\) or one of "
                                         r"\['relu', 'sigmoid', 'tanh'\], got " + re.escape(repr(out_act))):
        MLP(2, [3, 1], out_act=out_act)


@pytest.mark.parametrize("act", [None, False, 'linear', ['relu']])
@pytest.mark.parametrize("nouts, out_act", [([3, 1], None), ([1], 'tanh')])  # one layer never uses act
def test_act_other_than_an_activation_name_is_refused(act, nouts, out_act):
    with pytest.raises(ValueError, match=r"^act must be one of \['relu', 'sigmoid', 'tanh'\], got "):
        MLP(2, nouts, act=act, out_act=out_act)


@pytest.mark.parametrize("nouts", [
    [np.int64(3), np.uint8(2), 1], (3, 2, 1), range(3, 0, -1), np.array([3, 2, 1]), np.array([3, 2, 1], dtype=np.int8),
])
def test_sizes_may_be_numpy_ints_in_any_sequence(nouts):
    model, reference = MLP(np.int32(2), nouts, rng=4), MLP(2, [3, 2, 1], rng=4)
    assert model.config == reference.config
    assert all(type(n) is int for n in [model.config['nin'], *model.config['nouts']])
    assert repr(model) == repr(reference)
    assert [p.data for p in model.parameters()] == [p.data for p in reference.parameters()]


def test_layer_and_neuron_sizes_may_be_numpy_ints():
    assert repr(Layer(np.int64(2), np.uint16(3))) == repr(Layer(2, 3))
    assert repr(Neuron(np.int8(4), act='tanh')) == "TanhNeuron(4)"


@pytest.mark.parametrize("make, match", [
    (lambda: MLP(True, [1]), "nin must be a positive int, got True"),
    (lambda: MLP(2.0, [1]), "nin must be a positive int, got 2.0"),
    (lambda: MLP(np.float64(2), [1]), "nin must be a positive int, got np.float64"),
    (lambda: MLP(-2, [1]), "nin must be a positive int, got -2"),
    (lambda: MLP(2, [3, 0]), r"nouts\[1\] must be a positive int, got 0"),
    (lambda: MLP(2, [3, -1]), r"nouts\[1\] must be a positive int, got -1"),
    (lambda: MLP(2, [False, 1]), r"nouts\[0\] must be a positive int, got False"),
    (lambda: MLP(2, [2.5]), r"nouts\[0\] must be a positive int, got 2.5"),
    (lambda: MLP(2, np.array([3.0, 1.0])), r"nouts\[0\] must be a positive int, got np.float64\(3.0\)"),
    (lambda: MLP(2, np.int64(3)), "nouts must be a non-empty sequence"),
    (lambda: MLP(2, np.array(3)), "nouts must be a non-empty sequence"),
    (lambda: MLP(2, np.array([[3, 1]])), "nouts must be a non-empty sequence"),
    (lambda: MLP(2, {3, 1}), "nouts must be a non-empty sequence"),  # a set has no order
    (lambda: MLP(2, {3: 1}), "nouts must be a non-empty sequence"),
    (lambda: MLP(2, '31'), "nouts must be a non-empty sequence"),
    (lambda: MLP(2, ()), "nouts must be a non-empty sequence"),
    (lambda: Layer(2, np.float32(3)), "nout must be a positive int"),
    (lambda: Neuron(np.bool_(True)), "nin must be a positive int"),
])
def test_bool_float_negative_and_zero_sizes_are_refused_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("x", [
    np.array([0.5, -1.25, 2.0]), np.array([0.5, -1.25, 2.0], dtype=np.float32),
    [np.float16(0.5), np.int64(-1), Fraction(2, 3)], (np.float64(0.5), 2, Value(-1.5)),
])
def test_numpy_inputs_give_python_floats_and_torchs_numbers(x):
    model = MLP(3, [4, 2], act='tanh', rng=3)
    twin = torch_twin(model)
    plain = [xi.data if isinstance(xi, Value) else float(xi) for xi in x]  # the same numbers, exactly
    out = model(x)
    out_t = torch_forward(twin, plain)
    assert [v.data for v in out] == pytest.approx(out_t.tolist(), rel=1e-12)
    (out[0] * out[1]).backward()
    (out_t[0] * out_t[1]).backward()
    assert [wi.grad for wi in model.layers[0].neurons[1].w] == pytest.approx(twin[0][0].grad[1].tolist(), rel=1e-10)
    for v in topological_order(out[0] * out[1]):
        assert type(v.data) is float and type(v.grad) is float


def test_a_neuron_and_a_layer_take_a_numpy_scalar_as_their_one_input():
    n, layer = Neuron(1, nonlin=False, rng=0), Layer(1, 2, rng=0)
    assert n(np.float32(0.5)).data == n.w[0].data * float(np.float32(0.5))
    assert [type(v.data) for v in layer(np.int64(3))] == [float, float]


def test_an_mlp_checks_its_input_size_once_per_call_not_in_every_layer_and_neuron(monkeypatch):
    checks = []
    original = nn._as_inputs

    def counting(x, nin, who):
        checks.append(who)
        return original(x, nin, who)
    monkeypatch.setattr(nn, '_as_inputs', counting)
    MLP(2, [16, 16, 1], rng=0)([0.5, -1.0])
    Layer(2, 3, rng=0)([0.5, -1.0])
    Neuron(2, rng=0)([0.5, -1.0])
    assert checks == ['MLP', 'Layer', 'Neuron']  # the module that was called, once


@pytest.mark.parametrize("module, who", [(MLP(3, [2], rng=0), 'MLP'), (Layer(3, 2, rng=0), 'Layer'),
                                         (Neuron(3, rng=0), 'Neuron')])
def test_an_input_beyond_the_float_range_is_refused_naming_it(module, who):
    with pytest.raises(OverflowError, match=rf"^{who}'s inputs\[0\] is 1000+\.\.\. is too large for a float"):
        module([10**400, 1, 2])
    with pytest.raises(OverflowError, match=rf"{who}'s inputs\[2\] is -1000+"):
        module([1, 2, -10**400])


def test_an_int_within_the_float_range_is_the_float_torch_reads():
    model = MLP(2, [3, 1], act='tanh', rng=4)
    big = 2**1000  # beyond any float32, within float64
    out = model([big, -3])
    out_t = torch_forward(torch_twin(model), [float(big), -3.0])
    assert out.data == pytest.approx(out_t.item(), rel=1e-12)


@pytest.mark.parametrize("bad, what", [(True, 'bool'), ('1', 'str'), (None, 'NoneType'),
                                       (np.array([1.0]), 'ndarray')])
def test_an_input_that_is_no_real_number_is_refused_naming_it(bad, what):
    with pytest.raises(TypeError, match=rf"^MLP's inputs\[1\] must be a real number, got {what}$"):
        MLP(2, [1], rng=0)([0.5, bad])


@pytest.mark.parametrize("module, who", [(MLP(1, [2], rng=0), 'MLP'), (Layer(1, 2, rng=0), 'Layer'),
                                         (Neuron(1, rng=0), 'Neuron')])
def test_a_0d_array_is_refused_as_value_refuses_it(module, who):
    # Value(np.array(0.5)) is refused too: an array of any shape is not a number; item() is
    with pytest.raises(TypeError, match=rf"^{who} takes a sequence of 1 inputs, got a 0-d ndarray: "
                                        r"pass x\.item\(\) for one number$"):
        module(np.array(0.5))
    with pytest.raises(TypeError):
        Value(np.array(0.5))


def test_inputs_that_are_no_sequence_are_refused_naming_the_type():
    with pytest.raises(TypeError, match=r"^MLP takes a sequence of 2 inputs \(numbers or Values\), got NoneType$"):
        MLP(2, [1], rng=0)(None)


@pytest.mark.parametrize("module", [Neuron(3), Layer(3, 2), MLP(3, [4, 1])], ids=repr)
@pytest.mark.parametrize("unordered", [{1.0, 2.0, 3.0}, frozenset({1.0, 2.0, 3.0}), {'a': 1.0, 'b': 2.0, 'c': 3.0},
                                       {1.0: 'a', 2.0: 'b', 3.0: 'c'}.keys()],
                         ids=["set", "frozenset", "dict", "dict_keys"])
def test_modules_refuse_inputs_without_an_order(module, unordered):
    # a set iterates by hash: {3.0, 1.0, 2.0} would meet the weights in another order, silently
    with pytest.raises(TypeError, match=f"takes its 3 inputs in order, got a {type(unordered).__name__}"):
        module(unordered)


def test_a_batch_passed_to_a_module_says_to_call_it_per_row():
    X = [[0.5, -1.0, 2.0]] * 5
    with pytest.raises(ValueError, match=r"MLP expects 3 inputs, got 5: this looks like a batch of 5 inputs "
                                         r"of 3.*\[model\(x\) for x in X\]"):
        MLP(3, [4, 1])(X)
    with pytest.raises(ValueError, match=r"^MLP expects 3 inputs, got 2$"):   # not a batch: no hint
        MLP(3, [4, 1])([[1.0, 2.0, 3.0], [1.0, 2.0]])


class _LoudNeuron(Neuron):
    def __call__(self, x):
        return super().__call__(x) * 100


class _ShiftedLayer(Layer):
    def __call__(self, x):
        out = super().__call__(x)
        return [v + 1 for v in out] if isinstance(out, list) else out + 1


def test_an_mlp_calls_a_subclass_neuron_and_layer_as_the_original_does():
    # the original's MLP calls each layer, each layer each neuron: an override there is part of the model
    model = MLP(2, [3, 2], act='tanh', rng=0)
    model.layers[0].neurons[1].__class__ = _LoudNeuron
    model.layers[1].__class__ = _ShiftedLayer
    twin = [[torch.tensor([w.data for w in n.w] + [n.b.data], dtype=torch.float64) for n in layer.neurons]
            for layer in model.layers]
    x = torch.tensor([0.5, -1.0, 1.0], dtype=torch.float64)
    hidden = torch.stack([(row @ x).tanh() for row in twin[0]])
    hidden[1] = hidden[1] * 100
    h = torch.cat([hidden, torch.ones(1, dtype=torch.float64)])
    expected = [(row @ h).item() + 1 for row in twin[1]]
    assert [v.data for v in model([0.5, -1.0])] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("module", [Layer(2, 3, rng=0), MLP(2, [4, 3], rng=0)], ids=repr)
def test_several_outputs_are_a_list_whose_backward_says_to_reduce_them(module):
    out = module([0.5, -1.0])
    assert isinstance(out, list) and out == list(out) and out[1] is list(out)[1] and len(out) == 3
    assert repr(out) == repr(list(out)) and not hasattr(out, 'backward')  # as a list: hasattr is False
    assert json.dumps([v.data for v in out]) == json.dumps([v.data for v in list(out)])
    with pytest.raises(AttributeError, match=r"^a list of 3 outputs has no backward\(\): reduce them to one "
                                             r"Value first, a loss or sum\(out\), then call loss.backward\(\)$"):
        out.backward()
    sum(out).backward()  # the fix it names works
    assert all(p.grad != 0.0 for p in module.parameters()[-3:])


class _DroppingLayer(Layer):
    def __call__(self, x):
        return super().__call__(x)[:2]


def test_a_subclass_layer_that_gives_too_few_outputs_is_named_not_zipped_short():
    model = MLP(2, [3, 1], rng=0)
    model.layers[0].__class__ = _DroppingLayer
    with pytest.raises(ValueError, match=r"^_DroppingLayer.__call__ gave 2 outputs for its 3 neurons$"):
        model([0.5, -1.0])


def test_a_dicts_values_are_taken_in_the_order_they_were_written():
    # a dict keeps insertion order (Python 3.7+), so .values() is a sequence the user wrote, unlike .keys()
    n = Neuron(2, nonlin=False, rng=0)
    assert n({'x1': 0.5, 'x2': -1.0}.values()).data == n([0.5, -1.0]).data
