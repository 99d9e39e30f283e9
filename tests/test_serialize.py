"""state_dict / load_state_dict, and save / load as JSON: exact round trips, bad files refused, atomic writes."""
import errno
import json
import math
import os
import random
import re
import stat
from fractions import Fraction

import numpy as np
import pytest
import torch

import micrograd
from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Module, Neuron
from micrograd.serialize import load, save

ARCHITECTURES = [
    dict(nin=2, nouts=[16, 16, 1]),
    dict(nin=3, nouts=[4, 4, 1], act='tanh', out_act='tanh'),
    dict(nin=3, nouts=[5, 2], act='sigmoid', out_act='relu'),
    dict(nin=4, nouts=[3]),  # one linear layer
    dict(nin=1, nouts=[1], act='tanh', out_act='sigmoid'),
]
# floats whose shortest repr is long, or that are easy to lose: -0.0, a subnormal, the extremes
AWKWARD = [-0.0, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308, 0.1 + 0.2, 1 / 3, -math.pi]


def bits(model):
    return [p.data.hex() for p in model.parameters()]


def awkward_model(rng=0, **architecture):
    model = MLP(rng=rng, **architecture)
    for p, x in zip(model.parameters(), AWKWARD):
        p.data = x
    return model


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_save_load_round_trip_is_bitwise(architecture, tmp_path):
    model = awkward_model(**architecture)
    save(model, tmp_path / 'model.json')
    loaded = load(tmp_path / 'model.json')
    assert loaded is not model and type(loaded) is MLP
    assert bits(loaded) == bits(model)
    assert repr(loaded) == repr(model)  # same sizes and activations, layer by layer
    x = [0.3 * (i + 1) for i in range(architecture['nin'])]
    out, out_loaded = model(x), loaded(x)
    out, out_loaded = (out, out_loaded) if isinstance(out, list) else ([out], [out_loaded])
    assert [v.data for v in out] == [v.data for v in out_loaded]


def test_save_writes_plain_json_with_format_version_and_architecture(tmp_path):
    model = MLP(3, [4, 1], act='tanh', out_act=None, rng=1)
    micrograd.save(model, str(tmp_path / 'model.json'))  # a str path works as well as a Path
    doc = json.loads((tmp_path / 'model.json').read_text(encoding='utf-8'))
    assert doc['format'] == 'micrograd.mlp' and doc['version'] == 1
    assert doc['architecture'] == {'nin': 3, 'nouts': [4, 1], 'act': 'tanh', 'out_act': None}
    assert doc['parameters'] == model.state_dict()
    assert list(doc['parameters']) == list(model.state_dict())  # in parameters() order


def test_load_leaves_the_global_random_state_alone(tmp_path):
    save(MLP(2, [8, 1], rng=1), tmp_path / 'model.json')
    random.seed(5)
    expected = random.random()
    random.seed(5)
    micrograd.load(tmp_path / 'model.json')
    assert random.random() == expected


def test_state_dict_names_follow_parameters_order():
    model = MLP(2, [3, 1], rng=0)
    state = model.state_dict()
    assert list(state)[:4] == ['layers.0.neurons.0.w.0', 'layers.0.neurons.0.w.1', 'layers.0.neurons.0.b',
                               'layers.0.neurons.1.w.0']
    assert list(state)[-1] == 'layers.1.neurons.0.b'
    assert list(state.values()) == [p.data for p in model.parameters()]
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert list(Neuron(2, rng=0).state_dict()) == ['w.0', 'w.1', 'b']
    assert list(Layer(1, 2, rng=0).state_dict()) == ['neurons.0.w.0', 'neurons.0.b', 'neurons.1.w.0', 'neurons.1.b']


def test_load_state_dict_copies_another_models_weights():
    source, target = MLP(3, [4, 1], rng=1), MLP(3, [4, 1], rng=2)
    target.load_state_dict(source.state_dict())
    assert bits(target) == bits(source)
    assert all(a is not b for a, b in zip(target.parameters(), source.parameters()))


def _state_with(model, key, value):
    state = model.state_dict()
    state[key] = value
    return state


@pytest.mark.parametrize("change, error, match", [
    (lambda s: {k: v for k, v in s.items() if k != 'layers.1.neurons.0.b'}, ValueError, "1 missing"),
    (lambda s: {**s, 'layers.2.neurons.0.b': 0.0}, ValueError, "1 unexpected"),
    (lambda s: MLP(3, [5, 1], rng=0).state_dict(), ValueError, "does not fit"),  # wrong shape
    # the bad entry is the last parameter: nothing may be set before it is found
    (lambda s: {**s, 'layers.1.neurons.0.b': math.nan}, ValueError, "finite number, got nan"),
    (lambda s: {**s, 'layers.1.neurons.0.b': -math.inf}, ValueError, "finite number, got -inf"),
    (lambda s: {**s, 'layers.1.neurons.0.b': '0.5'}, ValueError, "finite number, got '0.5'"),
    (lambda s: {**s, 'layers.1.neurons.0.b': True}, ValueError, "finite number, got True"),
    (lambda s: {**s, 'layers.1.neurons.0.b': None}, ValueError, "finite number, got None"),
    (lambda s: list(s.values()), TypeError, "must be a dict"),
])
def test_load_state_dict_rejects_bad_state_and_changes_nothing(change, error, match):
    model = MLP(3, [4, 1], rng=1)
    before = bits(model)
    with pytest.raises(error, match=match):
        model.load_state_dict(change(model.state_dict()))
    assert bits(model) == before


def test_load_state_dict_accepts_ints_as_floats():
    model = MLP(1, [1], rng=0)
    model.load_state_dict({'layers.0.neurons.0.w.0': 2, 'layers.0.neurons.0.b': -1})
    assert [type(p.data) for p in model.parameters()] == [float, float]
    assert model([3.0]).data == 5.0


def test_named_parameters_refuses_a_module_whose_attributes_are_not_its_parameters():
    class Scaled(Module):
        def __init__(self):
            self.scale = Value(2.0)  # a constant, deliberately left out of parameters()
            self.w = Value(0.5)

        def parameters(self):
            return [self.w]

    with pytest.raises(TypeError, match="override named_parameters"):
        Scaled().state_dict()


@pytest.fixture
def saved(tmp_path):
    """a good file and the text in it"""
    path = tmp_path / 'model.json'
    save(MLP(3, [4, 1], rng=1), path)
    return path, path.read_text(encoding='utf-8')


def _edit_json(text, edit):
    doc = json.loads(text)
    edit(doc)
    return json.dumps(doc)


def _first_param(doc, value):
    doc['parameters']['layers.0.neurons.0.w.0'] = value


def _param_literal(text, literal):
    """the file with its first weight written as literal, which json.dumps would never write"""
    return _edit_json(text, lambda d: _first_param(d, 12345)).replace(': 12345,', f': {literal},', 1)


BAD_FILES = {
    'empty': (lambda t: '', "not a micrograd model file: Expecting value"),
    'truncated': (lambda t: t[:len(t) // 2], "not a micrograd model file"),
    'cut_one_char_short': (lambda t: t.rstrip()[:-1], "not a micrograd model file"),
    'not_json': (lambda t: 'MLP(3, [4, 1])', "Expecting value"),
    'a_list': (lambda t: '[]', "the file must be a JSON object, got list"),
    'other_format': (lambda t: _edit_json(t, lambda d: d.update(format='torch')), "format is 'torch'"),
    'newer_version': (lambda t: _edit_json(t, lambda d: d.update(version=2)), "newer micrograd"),
    'version_as_text': (lambda t: _edit_json(t, lambda d: d.update(version='1')), "version must be"),
    'no_parameters': (lambda t: _edit_json(t, lambda d: d.pop('parameters')), "missing \\['parameters'\\]"),
    'extra_key': (lambda t: _edit_json(t, lambda d: d.update(pickle='x')), "unexpected \\['pickle'\\]"),
    'wrong_shape': (lambda t: _edit_json(t, lambda d: d['architecture'].update(nouts=[5, 1])),
                    "has 26 parameters, the file holds 21"),
    'same_count_other_shape': (lambda t: _edit_json(t, lambda d: d['architecture'].update(nin=6, nouts=[3])),
                               "does not fit"),
    'zero_width_layer': (lambda t: _edit_json(t, lambda d: d['architecture'].update(nouts=[4, 0])),
                         r"architecture: nouts\[1\] must be a positive int, got 0"),
    'unknown_act': (lambda t: _edit_json(t, lambda d: d['architecture'].update(act='gelu')), "act must be one of"),
    'renamed_parameter': (lambda t: t.replace('"layers.0.neurons.0.w.0"', '"layers.0.neurons.0.w.9"'),
                          "does not fit"),
    'parameter_as_text': (lambda t: _edit_json(t, lambda d: _first_param(d, '0.5')), "finite number, got '0.5'"),
    'parameter_null': (lambda t: _edit_json(t, lambda d: _first_param(d, None)), "finite number, got None"),
    'parameter_nan': (lambda t: _param_literal(t, 'NaN'), "NaN is not a number JSON allows"),
    'parameter_infinity': (lambda t: _param_literal(t, '-Infinity'), "-Infinity is not a number JSON allows"),
    'parameter_overflows': (lambda t: _param_literal(t, '1e400'), "finite number, got inf"),
    'parameter_huge_int': (lambda t: _edit_json(t, lambda d: _first_param(d, 10**400)),
                           r"state\['layers.0.neurons.0.w.0'\] must be a finite number, got an int too large"),
    'duplicate_key': (lambda t: t.replace('"version": 1', '"version": 1, "version": 1'), "'version' appears twice"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_load_rejects_a_bad_file_naming_it(name, saved):
    path, text = saved
    corrupt, match = BAD_FILES[name]
    bad = path.with_name('bad.json')
    bad.write_text(corrupt(text), encoding='utf-8')
    with pytest.raises(ValueError, match=match) as info:
        load(bad)
    assert str(bad) in str(info.value)


def test_load_rejects_bytes_that_are_not_utf8(tmp_path):
    (tmp_path / 'bad.json').write_bytes(b'\xff\xfe{\x00')
    with pytest.raises(ValueError, match="not a micrograd model file.*utf-8"):
        load(tmp_path / 'bad.json')


def test_a_bad_file_leaves_a_model_being_restored_unchanged(saved):
    path, text = saved
    model = MLP(3, [4, 1], rng=7)
    before = bits(model)
    path.write_text(text[:-40], encoding='utf-8')
    with pytest.raises(ValueError):
        model.load_state_dict(load(path).state_dict())
    assert bits(model) == before


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_save_refuses_a_non_finite_parameter_and_keeps_the_old_file(bad, saved):
    path, text = saved
    model = MLP(3, [4, 1], rng=2)
    model.layers[1].neurons[0].b.data = bad
    with pytest.raises(ValueError, match=f"layers.1.neurons.0.b is {bad}"):
        save(model, path)
    assert path.read_text(encoding='utf-8') == text
    assert os.listdir(path.parent) == ['model.json']


def test_save_refuses_what_is_not_an_mlp(tmp_path):
    with pytest.raises(TypeError, match="expected an MLP, got Neuron"):
        save(Neuron(2), tmp_path / 'n.json')
    assert os.listdir(tmp_path) == []


def test_save_refuses_an_mlp_edited_into_something_mlp_cannot_rebuild(tmp_path):
    model = MLP(2, [3, 1], rng=0)
    model.layers[0].neurons[1].act = 'tanh'  # one relu neuron turned tanh
    with pytest.raises(ValueError, match=r"the layers of this MLP differ from what its config .* builds"):
        save(model, tmp_path / 'm.json')


@pytest.mark.parametrize("failing", ['fsync', 'replace'])
@pytest.mark.parametrize("exception", [OSError("disk full"), KeyboardInterrupt()])
def test_a_failed_save_leaves_the_old_file_whole_and_no_temporary_file(failing, exception, saved, monkeypatch):
    path, text = saved

    def fail(*args):
        raise exception
    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(type(exception)):
        save(MLP(3, [4, 1], rng=99), path)
    monkeypatch.undo()
    assert path.read_text(encoding='utf-8') == text
    assert os.listdir(path.parent) == ['model.json']


def test_save_replaces_the_old_file_and_respects_the_umask(saved):
    path, _ = saved
    model = MLP(3, [4, 1], rng=3)
    save(model, path)
    assert bits(load(path)) == bits(model)
    with open(path.with_name('plain.txt'), 'w'):  # how open() sets permissions under this umask
        pass
    assert os.stat(path).st_mode == os.stat(path.with_name('plain.txt')).st_mode


@pytest.mark.parametrize("value, expected", [
    (np.float32(0.1), float(np.float32(0.1))), (np.float16(-2.5), -2.5), (np.int64(3), 3.0), (np.uint8(200), 200.0),
    (Fraction(1, 3), 1 / 3), (np.longdouble(0.25), 0.25),
])
def test_load_state_dict_stores_numpy_and_other_numbers_as_python_floats(value, expected):
    model = MLP(1, [1], rng=0)
    model.load_state_dict({'layers.0.neurons.0.w.0': value, 'layers.0.neurons.0.b': 0})
    w, b = model.parameters()
    assert type(w.data) is float and type(b.data) is float
    assert w.data == expected


@pytest.mark.parametrize("value, got", [
    pytest.param(10**400, "an int too large for a float", id='10**400'),
    pytest.param(-10**400, "an int too large for a float", id='-10**400'),
    pytest.param(10**5000, "an int too large for a float", id='10**5000'),  # more digits than Python prints
    (Fraction(10**400, 3), "Fraction"),
    (np.float64('nan'), "np.float64\\(nan\\)"),
    (np.float32('inf'), "np.float32\\(inf\\)"),
    (np.bool_(True), "np.True_"),
    ('x' * 500, "'xxxxx"),
])
def test_load_state_dict_errors_name_the_key_and_change_nothing(value, got):
    model = MLP(3, [4, 1], rng=1)
    before = bits(model)
    with pytest.raises(ValueError, match=r"state\['layers.1.neurons.0.b'\] must be a finite number, got " + got):
        model.load_state_dict(_state_with(model, 'layers.1.neurons.0.b', value))
    assert bits(model) == before


# a file as micrograd 1.0.0 wrote it, by hand: MLP(2, [2, 1], act='tanh'), weights chosen to be exact in binary
FILE_FROM_1_0_0 = '''{
 "format": "micrograd.mlp",
 "version": 1,
 "architecture": {
  "nin": 2,
  "nouts": [
   2,
   1
  ],
  "act": "tanh",
  "out_act": null
 },
 "parameters": {
  "layers.0.neurons.0.w.0": 0.5,
  "layers.0.neurons.0.w.1": -0.25,
  "layers.0.neurons.0.b": 0.125,
  "layers.0.neurons.1.w.0": -0.75,
  "layers.0.neurons.1.w.1": 1.5,
  "layers.0.neurons.1.b": 0.0,
  "layers.1.neurons.0.w.0": 2.0,
  "layers.1.neurons.0.w.1": -1.0,
  "layers.1.neurons.0.b": 0.375
 }
}
'''


def test_a_file_written_by_1_0_0_still_loads_and_computes_what_torch_does(tmp_path):
    (tmp_path / 'old.json').write_text(FILE_FROM_1_0_0, encoding='utf-8')
    model = load(tmp_path / 'old.json')
    assert model.config == {'nin': 2, 'nouts': [2, 1], 'act': 'tanh', 'out_act': None}
    assert repr(model) == "MLP of [Layer of [TanhNeuron(2), TanhNeuron(2)], Layer of [LinearNeuron(2)]]"
    w1 = torch.tensor([[0.5, -0.25], [-0.75, 1.5]], dtype=torch.float64)
    b1 = torch.tensor([0.125, 0.0], dtype=torch.float64)
    w2, b2 = torch.tensor([2.0, -1.0], dtype=torch.float64), 0.375
    x = [0.3, -1.1]
    expected = w2 @ torch.tanh(w1 @ torch.tensor(x, dtype=torch.float64) + b1) + b2
    assert model(x).data == pytest.approx(expected.item(), rel=1e-12)
    save(model, tmp_path / 'again.json')  # and today's save writes the very same text
    assert (tmp_path / 'again.json').read_text(encoding='utf-8') == FILE_FROM_1_0_0


def test_save_writes_model_config_as_plain_ints_from_numpy_sizes(tmp_path):
    model = MLP(np.int64(2), np.array([3, 1]), act='tanh', rng=0)
    save(model, tmp_path / 'model.json')
    doc = json.loads((tmp_path / 'model.json').read_text(encoding='utf-8'))
    assert doc['architecture'] == {'nin': 2, 'nouts': [3, 1], 'act': 'tanh', 'out_act': None}
    assert load(tmp_path / 'model.json').config == model.config


def test_save_refuses_an_mlp_whose_layers_no_longer_match_its_config(tmp_path):
    model = MLP(2, [3, 1], rng=0)
    model.layers.append(Layer(1, 1, rng=0))
    with pytest.raises(ValueError, match=r"differ from what its config \{'nin': 2, 'nouts': \[3, 1\]"):
        save(model, tmp_path / 'm.json')
    assert os.listdir(tmp_path) == []


def test_save_refuses_an_mlp_subclass_that_never_recorded_a_config(tmp_path):
    class Handmade(MLP):
        def __init__(self):  # skips MLP.__init__, so no config
            self.layers = [Layer(2, 1, nonlin=False, rng=0)]

    with pytest.raises(TypeError, match="Handmade has no config"):
        save(Handmade(), tmp_path / 'm.json')


@pytest.mark.parametrize("edit, match", [
    (lambda a: a.update(out_act=False), "out_act must be None"),
    (lambda a: a.update(act=[]), "act must be one of"),  # unhashable: still a ValueError naming the file
    (lambda a: a.update(act=None), "act must be one of"),
    (lambda a: a.update(nin=3.0), "architecture: nin must be a positive int, got 3.0"),
    (lambda a: a.update(nin=True), "architecture: nin must be a positive int, got True"),
    (lambda a: a.update(nouts={'0': 4}), "nouts must be a non-empty list"),
])
def test_load_refuses_an_architecture_mlp_would_refuse(edit, match, saved):
    path, text = saved
    path.write_text(_edit_json(text, lambda d: edit(d['architecture'])), encoding='utf-8')
    with pytest.raises(ValueError, match=match) as info:
        load(path)
    assert str(path) in str(info.value)


def test_save_through_a_symlink_writes_its_target_and_the_link_stays(tmp_path):
    (tmp_path / 'store').mkdir()
    (tmp_path / 'runs').mkdir()
    target, link = tmp_path / 'store' / 'model.json', tmp_path / 'runs' / 'latest.json'
    save(MLP(3, [4, 1], rng=1), target)
    os.symlink(os.path.join('..', 'store', 'model.json'), link)  # relative, as ln -s makes them
    model = MLP(3, [4, 1], rng=2)
    save(model, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join('..', 'store', 'model.json')
    assert bits(load(target)) == bits(model)
    assert os.listdir(tmp_path / 'store') == ['model.json'] and os.listdir(tmp_path / 'runs') == ['latest.json']


def test_save_through_a_chain_of_symlinks_and_a_dangling_one(tmp_path):
    target = tmp_path / 'model.json'
    os.symlink(target, tmp_path / 'first')  # dangling until save() creates the target, as open() would
    os.symlink(tmp_path / 'first', tmp_path / 'second')
    model = MLP(2, [1], rng=0)
    save(model, tmp_path / 'second')
    assert (tmp_path / 'first').is_symlink() and (tmp_path / 'second').is_symlink()
    assert not target.is_symlink() and bits(load(target)) == bits(model)


@pytest.mark.parametrize("failing", ['fsync', 'replace'])
def test_a_failed_save_through_a_symlink_leaves_target_and_link_whole(failing, tmp_path, monkeypatch):
    (tmp_path / 'store').mkdir()
    target, link = tmp_path / 'store' / 'model.json', tmp_path / 'link.json'
    save(MLP(3, [4, 1], rng=1), target)
    text = target.read_text(encoding='utf-8')
    os.symlink(target, link)

    def fail(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError):
        save(MLP(3, [4, 1], rng=99), link)
    monkeypatch.undo()
    assert link.is_symlink() and target.read_text(encoding='utf-8') == text
    assert os.listdir(tmp_path / 'store') == ['model.json'] and sorted(os.listdir(tmp_path)) == ['link.json', 'store']


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604, 0o755])
def test_save_over_an_existing_file_keeps_its_permission_bits(mode, saved):
    path, _ = saved
    os.chmod(path, mode)
    model = MLP(3, [4, 1], rng=3)
    save(model, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert bits(load(path)) == bits(model)


def test_save_through_a_symlink_keeps_the_targets_permission_bits(saved):
    path, _ = saved
    os.chmod(path, 0o640)
    link = path.with_name('link.json')
    os.symlink(path, link)
    save(MLP(3, [4, 1], rng=3), link)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640 and link.is_symlink()


def test_save_refuses_a_file_it_may_not_write_as_open_would(saved, monkeypatch):
    path, text = saved
    monkeypatch.setattr(os, 'access', lambda p, mode: False)  # a read-only file; root may write any
    with pytest.raises(PermissionError, match="read-only"):
        save(MLP(3, [4, 1], rng=3), path)
    assert path.read_text(encoding='utf-8') == text and os.listdir(path.parent) == ['model.json']


def assert_names_the_path_only(error, path, errno_code):
    """the error is about the path the user passed, never the hidden temporary file"""
    assert error.errno == errno_code and error.filename == str(path) and error.filename2 is None
    assert '.tmp' not in str(error)


def test_save_to_an_empty_path_is_refused_as_open_refuses_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="an empty path names no file") as info:
        save(MLP(2, [1], rng=0), '')
    assert_names_the_path_only(info.value, '', errno.ENOENT)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name, match", [('somedir', "a directory, not a file"),
                                         ('new/', "a path ending in a slash names a directory"),
                                         ('model.json/', "a path ending in a slash names a directory")])
def test_save_to_a_directory_is_refused_naming_it(name, match, tmp_path):
    (tmp_path / 'somedir').mkdir()
    (tmp_path / 'model.json').write_text('{}')
    path = os.path.join(tmp_path, name)
    with pytest.raises(IsADirectoryError, match=match) as info:
        save(MLP(2, [1], rng=0), path)
    assert_names_the_path_only(info.value, path, errno.EISDIR)
    assert sorted(os.listdir(tmp_path)) == ['model.json', 'somedir'] and os.listdir(tmp_path / 'somedir') == []
    assert (tmp_path / 'model.json').read_text() == '{}'


def test_save_into_a_directory_that_does_not_exist_is_refused_naming_both(tmp_path):
    path = tmp_path / 'missing' / 'model.json'
    missing = re.escape(f"the directory {tmp_path / 'missing'} does not exist")
    with pytest.raises(FileNotFoundError, match=missing) as info:
        save(MLP(2, [1], rng=0), path)
    assert_names_the_path_only(info.value, path, errno.ENOENT)
    assert os.listdir(tmp_path) == []


def test_save_under_a_file_as_if_it_were_a_directory_is_refused(saved):
    path, text = saved
    with pytest.raises(NotADirectoryError, match=re.escape(f"{path} is not a directory")) as info:
        save(MLP(2, [1], rng=0), path / 'model.json')
    assert_names_the_path_only(info.value, path / 'model.json', errno.ENOTDIR)
    assert path.read_text(encoding='utf-8') == text


def test_save_through_a_symlink_into_a_missing_directory_names_link_and_target(tmp_path):
    link, target = tmp_path / 'latest.json', tmp_path / 'gone' / 'model.json'
    os.symlink(target, link)
    with pytest.raises(FileNotFoundError, match=re.escape(f"does not exist (a symlink to {target})")) as info:
        save(MLP(2, [1], rng=0), link)
    assert_names_the_path_only(info.value, link, errno.ENOENT)
    assert os.readlink(link) == str(target) and os.listdir(tmp_path) == ['latest.json']


def test_save_through_a_loop_of_symlinks_is_refused_and_the_links_stay(tmp_path):
    first, second = tmp_path / 'first', tmp_path / 'second'
    os.symlink(second, first)
    os.symlink(first, second)
    with pytest.raises(OSError, match="a loop of symlinks") as info:
        save(MLP(2, [1], rng=0), first)
    assert_names_the_path_only(info.value, first, errno.ELOOP)
    assert os.readlink(first) == str(second) and os.readlink(second) == str(first)
    assert sorted(os.listdir(tmp_path)) == ['first', 'second']


def test_save_does_not_replace_a_pipe_with_a_file(tmp_path):
    fifo = tmp_path / 'pipe'
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file") as info:
        save(MLP(2, [1], rng=0), fifo)
    assert_names_the_path_only(info.value, fifo, errno.EINVAL)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.listdir(tmp_path) == ['pipe']


@pytest.mark.parametrize("failing", ['open', 'replace'])
def test_an_os_error_about_the_temporary_file_names_the_users_path(failing, saved, monkeypatch):
    path, text = saved
    real = getattr(os, failing)

    def fail(src, *args):
        if src.endswith('.tmp'):  # what a read-only directory or file system answers
            raise PermissionError(errno.EACCES, "Permission denied", src)
        return real(src, *args)
    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(PermissionError, match="Permission denied") as info:
        save(MLP(3, [4, 1], rng=99), path)
    monkeypatch.undo()
    assert_names_the_path_only(info.value, path, errno.EACCES)
    assert path.read_text(encoding='utf-8') == text and os.listdir(path.parent) == ['model.json']


def test_save_takes_a_bytes_path_as_open_does(tmp_path):
    model = MLP(3, [4, 1], rng=5)
    save(model, os.fsencode(tmp_path / 'model.json'))
    assert bits(load(tmp_path / 'model.json')) == bits(model)


@pytest.mark.parametrize("bad, error, match", [
    (True, TypeError, "must be a real number, got bool"), ('0.5', TypeError, "must be a real number, got str"),
    (10**400, OverflowError, r"is 1000+\.\.\. is too large for a float"),
    (np.longdouble('1e400'), OverflowError, r"is 1e\+400\.\.\. is too large for a float"),
])
def test_save_refuses_a_parameter_that_is_no_float_naming_it_and_keeps_the_old_file(bad, error, match, saved):
    # numbers assigned to .data are stored as they are; only save() meets them
    path, text = saved
    model = MLP(3, [4, 1], rng=2)
    model.layers[1].neurons[0].w[2].data = bad
    with pytest.raises(error, match=r"^parameter layers\.1\.neurons\.0\.w\.2 " + match):
        save(model, path)
    assert path.read_text(encoding='utf-8') == text and os.listdir(path.parent) == ['model.json']


class _Squashed(MLP):
    def __call__(self, x):
        return super().__call__(x).tanh()


class _WithTemperature(MLP):  # a parameter the loss uses: parameters() gives 14 where an MLP has 13
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.temperature = Value(1.0)

    def parameters(self):
        return super().parameters() + [self.temperature]


class _DoubledLayer(Layer):
    def __call__(self, x):
        out = super().__call__(x)
        return [2 * v for v in out] if isinstance(out, list) else 2 * out


class _LabelledMLP(MLP):
    name = 'moons'

    def describe(self):
        return f"{self.name}: {self}"


def _with_doubled_layer():
    model = MLP(2, [3, 1], rng=0)
    model.layers[0].__class__ = _DoubledLayer
    return model


@pytest.mark.parametrize("build, match", [
    (lambda: _Squashed(2, [3, 1], rng=0), r"^_Squashed overrides MLP.__call__ and may compute something else"),
    (lambda: _WithTemperature(2, [3, 1], rng=0),
     r"^this _WithTemperature has 14 parameters where its MLP has 13 \(1 extra \['temperature'\], 0 missing"),
    (_with_doubled_layer, r"^layers\[0\] of this MLP, a _DoubledLayer, overrides Layer.__call__"),
])
def test_save_refuses_a_subclass_it_cannot_represent_before_writing(tmp_path, build, match):
    # written as a plain MLP, load() refused the 14-parameter file or rebuilt another function
    path = tmp_path / 'model.json'
    path.write_text('the previous model')
    with pytest.raises(TypeError, match=match):
        save(build(), path)
    assert path.read_text() == 'the previous model'
    assert os.listdir(tmp_path) == ['model.json']  # no temporary file left either


def test_a_subclass_that_only_adds_a_method_and_a_label_saves_and_loads_as_an_mlp(tmp_path):
    model = _LabelledMLP(2, [3, 1], rng=0)
    save(model, tmp_path / 'model.json')
    loaded = load(tmp_path / 'model.json')
    assert type(loaded) is MLP and loaded.state_dict() == model.state_dict()
    again = _LabelledMLP(2, [3, 1], rng=1)
    again.load_state_dict(loaded.state_dict())  # the class back, as docs/saving.md shows
    assert again([0.5, -1.0]).data == model([0.5, -1.0]).data
