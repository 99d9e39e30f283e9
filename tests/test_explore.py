"""explore(root): a page that steps through the forward and backward pass, showing the engine's numbers.

The page writes a minus sign as \u2212 (−), a real one, and numbers with 4 significant digits (short()).

The first half reads the data the page embeds; the second half drives the page in a real headless
Chromium (the system's, through Playwright), as a learner would.
"""
import contextlib
import html
import io
import json
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

from micrograd.engine import Value, amax, dot, select
from micrograd.nn import Neuron
from micrograd.explore import Explorer, explore
from micrograd.viz import draw_dot, trace

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which('chromium') or ('/usr/bin/chromium' if os.path.exists('/usr/bin/chromium') else None)
needs_dot = pytest.mark.skipif(shutil.which('dot') is None,
                               reason="the Graphviz dot program is missing (apt-get install graphviz)")
pytestmark = needs_dot  # explore lays the graph out with dot when it is made


def lecture_neuron():
    """the lecture's neuron, o = tanh(x1*w1 + x2*w2 + b), with its labels"""
    x1, x2 = Value(2.0, label='x1'), Value(0.0, label='x2')
    w1, w2 = Value(-3.0, label='w1'), Value(1.0, label='w2')
    b = Value(6.8813735870195432, label='b')
    x1w1 = labelled(x1 * w1, 'x1*w1')
    x2w2 = labelled(x2 * w2, 'x2*w2')
    s = labelled(x1w1 + x2w2, 'x1*w1 + x2*w2')
    n = labelled(s + b, 'n')
    o = labelled(n.tanh(), 'o')
    return {v.label: v for v in (x1, x2, w1, w2, b, x1w1, x2w2, s, n, o)}


def labelled(v, label):
    v.label = label
    return v


def embedded(explorer):
    """the JSON the page carries, read back as the browser's JSON.parse would"""
    found = re.findall(r'<script type="application/json" id="micrograd-data">(.*?)</script>', explorer.page, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def final_grads(data):
    """each value's grad after the last step that set it"""
    grads = {}
    for step in data['steps']:
        for i, _, full in step.get('grads', []):
            grads[i] = full
    return [grads[i] for i in range(len(data['nodes']))]


def engine_grads(root):
    """the engine's own backward() from zero grads, as the numbers to compare with"""
    nodes, _ = trace_nodes(root)
    for v in nodes:
        v.grad = 0.0
    root.backward()
    return [v.grad for v in nodes]


def trace_nodes(root):
    return trace(root)


def plain(parts, data):
    """a text of the page as a reader sees it, each value's name in brackets: [o] = tanh([n])"""
    names = [entry['name'] for entry in data['nodes']]
    return ''.join(f"[{names[p['value']]}]" if isinstance(p, dict) else p for p in parts)


def short(x):
    """how the page writes a number: 4 significant digits and a real minus sign (never our _short)"""
    text = f'{x:.4g}'
    return (text + '.0' if text.lstrip('-').isdigit() else text).replace('-', '\u2212')


def number(text):
    return float(text.replace('\u2212', '-'))


# ---- the embedded data -------------------------------------------------------------------------

def test_lecture_neuron_data_and_grads_match_torch():
    v = lecture_neuron()
    data = embedded(explore(v['o']))
    leaves = {k: torch.tensor(v[k].data, dtype=torch.float64, requires_grad=True)
              for k in ('x1', 'x2', 'w1', 'w2', 'b')}
    n = leaves['x1'] * leaves['w1'] + leaves['x2'] * leaves['w2'] + leaves['b']
    o = n.tanh()
    o.backward()
    names = [entry['name'] for entry in data['nodes']]
    grads = dict(zip(names, map(float, final_grads(data))))
    for k, t in leaves.items():
        assert grads[k] == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-15)
    assert float(data['nodes'][names.index('o')]['data_full']) == pytest.approx(o.item(), rel=1e-12)
    # the lecture's numbers, as the page shows them
    assert {k: data['nodes'][names.index(k)]['grad'] for k in ('x1', 'w1', 'x2', 'w2', 'o')} == \
        {'x1': '\u22121.5', 'w1': '1.0', 'x2': '0.5', 'w2': '0.0', 'o': '1.0'}


def test_steps_run_forward_in_topological_order_then_backward_in_reverse():
    v = lecture_neuron()
    data = embedded(explore(v['o']))
    names = [entry['name'] for entry in data['nodes']]
    forward = [names[s['node']] for s in data['steps'] if s['phase'] == 'forward']
    backward = [names[s['node']] for s in data['steps'] if s['phase'] == 'backward']
    assert forward == [x.label for x in trace_nodes(v['o'])[0]]
    # the seed, then each op from the output back; leaves pass nothing on
    assert backward == ['o', 'o', 'n', 'x1*w1 + x2*w2', 'x2*w2', 'x1*w1']


def test_op_steps_show_the_local_derivative_with_the_numbers():
    v = lecture_neuron()
    data = embedded(explore(v['o']))
    terms = {plain(line, data) for s in data['steps'] for line in s.get('terms', [])}
    o, w1 = v['o'].data, v['w1'].data
    dn = 1 - o**2  # what tanh passes back to n, as Python floats compute it
    assert f"tanh: (1 \u2212 out²) × grad = (1 \u2212 {short(o)}²) × 1.0 = {short(dn)} → [n]" in terms
    assert f"*: grad × other.data = {short(dn)} × {short(w1)} = {short(dn * w1)} → [x1]" in terms
    assert f"+: grad × 1 = {short(dn)} × 1 = {short(dn)} → [b]" in terms
    assert short(dn) == '0.5' and short(w1) == '\u22123.0'


def terms_of(root):
    data = embedded(explore(root))
    return [plain(line, data) for s in data['steps'] for line in s.get('terms', [])]


e3, ln2, s0 = math.exp(0.5), math.log(2), 1 / (1 + math.exp(-0.0))  # Python's own numbers


@pytest.mark.parametrize("make, expected", [
    (lambda a: a.exp(), [f"exp: out × grad = {short(e3)} × 1.0 = {short(e3)} → [a]"]),
    (lambda a: (a * 4).log(), ["log: grad / x = 1.0 / 2.0 = 0.5 → [#2]",
                               "*: grad × other.data = 0.5 × 4.0 = 2.0 → [a]",
                               "*: grad × other.data = 0.5 × 0.5 = 0.25 → [#1]"]),
    (lambda a: (a - 0.5).sigmoid(), [f"sigmoid: out × (1 \u2212 out) × grad = 0.5 × (1 \u2212 0.5) "
                                     f"× 1.0 = {short(s0 * (1 - s0))} → [#2]",
                                     "+: grad × 1 = 0.25 × 1 = 0.25 → [a]",
                                     "+: grad × 1 = 0.25 × 1 = 0.25 → [#1]"]),
    (lambda a: (-a).relu(), ["ReLU: (out > 0) × grad = (0.0 > 0) × 1.0 = 0.0 → [#2]",
                             "*: grad × other.data = 0.0 × \u22121.0 = 0.0 → [a]",  # 0.0 + -0.0 is 0.0
                             "*: grad × other.data = 0.0 × 0.5 = 0.0 → [#1]"]),
    (lambda a: (a - 2.5).abs(), ["abs: sign(x) × grad = sign(\u22122.0) × 1.0 = \u22121.0 → [#2]",
                                 "+: grad × 1 = \u22121.0 × 1 = \u22121.0 → [a]",
                                 "+: grad × 1 = \u22121.0 × 1 = \u22121.0 → [#1]"]),
    (lambda a: (a - 0.5).softplus(), ["softplus: sigmoid(x) × grad = sigmoid(0.0) × 1.0 = 0.5 → [#2]",
                                      "+: grad × 1 = 0.5 × 1 = 0.5 → [a]",
                                      "+: grad × 1 = 0.5 × 1 = 0.5 → [#1]"]),
    (lambda a: a**3, ["**3: n × x^(n \u2212 1) × grad = 3 × (0.5)^(3 \u2212 1) × 1.0 = 0.75 → [a]"]),
    (lambda a: 2**a, [f"2**: out × ln(2) × grad = {short(2**0.5)} × ln(2) × 1.0 = "
                      f"{short(2**0.5 * ln2)} → [a]"]),
    (lambda a: amax([a, Value(0.5), Value(-1.0)]), ["max: grad / ties = 1.0 / 2 = 0.5 → [a]",
                                                    "max: grad / ties = 1.0 / 2 = 0.5 → [#1]",
                                                    "max: 0 (not the largest) = 0 = 0.0 → [#2]"]),
    (lambda a: select([Value(3.0), a], Value(1)), ["select: 0 (not selected) = 0 = 0.0 → [#0]",
                                                   "select: grad = 1.0 = 1.0 → [a]",
                                                   "select: 0 (the index) = 0 = 0.0 → [#2]"]),
    # engine.dot: each w_i gets x_i × grad, each x_i gets w_i × grad, as the * of a lecture's neuron
    (lambda a: dot([a, Value(2.0)], [Value(-3.0), Value(4.0)]),
     ["dot: grad × other.data = 1.0 × \u22123.0 = \u22123.0 → [a]", "dot: grad × other.data = 1.0 × 4.0 = 4.0 → [#1]",
      "dot: grad × other.data = 1.0 × 0.5 = 0.5 → [#2]", "dot: grad × other.data = 1.0 × 2.0 = 2.0 → [#3]"]),
    (lambda a: dot([a], [a]), ["dot: grad × other.data + grad × other.data = 1.0 × 0.5 + 1.0 × 0.5 = 1.0 → [a]"]),
])
def test_each_engine_op_explains_its_gradient_with_the_numbers(make, expected):
    assert terms_of(make(Value(0.5, label='a'))) == expected


def test_a_node_used_twice_shows_both_contributions_and_their_sum():
    a = Value(3.0, label='a')
    y = a * a
    data = embedded(explore(y))
    (line,) = data['steps'][-1]['terms']
    assert plain(line, data) == "*: grad × other.data + grad × other.data = 1.0 × 3.0 + 1.0 × 3.0 = 6.0 → [a]"
    assert final_grads(data) == [repr(6.0), repr(1.0)]


ops = st.sampled_from(['+', '*', '-', '/', 'tanh', 'relu', 'sigmoid', 'exp', 'softplus', 'abs', '**2',
                       '**3', '2**', 'max', 'select', 'dot'])


@st.composite
def random_graph(draw):
    """a random graph over a few leaves; operands are drawn from every value made so far, so values are reused"""
    values = [Value(draw(st.floats(-2, 2)), label=f'x{i}') for i in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(1, 12))):
        op = draw(ops)
        a, b = (values[draw(st.integers(0, len(values) - 1))] for _ in range(2))
        if op == '/' and abs(b.data) < 1e-3 or op in ('exp', '2**') and a.data > 50:
            continue  # off the division's pole; no overflow
        values.append({'+': lambda: a + b, '*': lambda: a * b, '-': lambda: a - b, '/': lambda: a / b,
                       'tanh': a.tanh, 'relu': a.relu, 'sigmoid': a.sigmoid, 'exp': a.exp,
                       'softplus': a.softplus, 'abs': a.abs, '**2': lambda: a**2, '**3': lambda: a**3,
                       '2**': lambda: 2**a, 'max': lambda: amax([a, b, a]),
                       'select': lambda: select([a, b], Value(1)), 'dot': lambda: dot([a, b], [b, a])}[op]())
    return values[-1]


@given(random_graph())
def test_random_graphs_embed_the_engines_data_and_grads(root):
    nodes, _ = trace_nodes(root)
    for k, v in enumerate(nodes):
        v.grad = 0.5 * k  # what the user's graph held before: left as it was
    held = [v.grad for v in nodes]
    data = embedded(explore(root))
    assert [v.grad for v in nodes] == held
    assert [entry['data_full'] for entry in data['nodes']] == [repr(v.data) for v in nodes]
    assert final_grads(data) == [repr(g) for g in engine_grads(root)]  # bit for bit
    assert [entry['grad_full'] for entry in data['nodes']] == final_grads(data)


@given(random_graph())
def test_random_graphs_nudge_with_the_engines_arithmetic(root):
    nodes, _ = trace_nodes(root)
    grads = engine_grads(root)
    data = embedded(explore(root, nudge=0.01))
    assert data['nudge']['available']
    # the labelled leaves are the parameters; the constants (select's index, -1 of a - b) stay
    moved = {v: Value(v.data + 0.01 * g) for v, g in zip(nodes, grads) if not v._prev and v.label}
    expected = redo(root, moved)
    assert data['nudge']['data'][-1][1] == repr(expected)


# whether the engine computes a / b as Python does (exactly) or as a * b**-1, the original's way
ENGINE_DIVIDES = (Value(3.0) / Value(10.0)).data == 3.0 / 10.0 != 3.0 * 10.0**-1


def redo(root, leaves):
    """root's data recomputed with plain Python math from new leaf data"""
    value = {}
    for v in trace_nodes(root)[0]:
        if not v._prev:
            value[v] = leaves[v].data if v in leaves else v.data
            continue
        xs = [value[c] for c in v._prev]
        op = v._op
        if op == '+':
            value[v] = xs[0] + xs[1]
        elif op == '*' and ENGINE_DIVIDES and v._prev[1]._op == '**-1':  # a / b, drawn as a * b**-1
            value[v] = xs[0] / value[v._prev[1]._prev[0]]
        elif op == '*':
            value[v] = xs[0] * xs[1]
        elif op == 'dot':
            half = len(xs) // 2
            value[v] = sum((w * x for w, x in zip(xs[1:half], xs[half + 1:])), xs[0] * xs[half])
        elif op == 'tanh':
            value[v] = math.tanh(xs[0])
        elif op == 'ReLU':
            value[v] = 0.0 if xs[0] < 0 else xs[0]
        elif op == 'exp':
            value[v] = math.exp(xs[0])
        elif op == 'abs':
            value[v] = abs(xs[0])
        elif op == 'sigmoid':
            value[v] = 1 / (1 + math.exp(-xs[0])) if xs[0] >= 0 else math.exp(xs[0]) / (1 + math.exp(xs[0]))
        elif op == 'softplus':
            value[v] = max(xs[0], 0.0) + math.log1p(math.exp(-abs(xs[0])))
        elif op == 'max':
            value[v] = max(xs)
        elif op == 'select':
            value[v] = xs[int(xs[-1])]
        elif op == '2**':
            value[v] = 2.0 ** xs[0]
        elif op.startswith('**'):
            value[v] = xs[0] ** int(op[2:]) if op[2:].lstrip('-').isdigit() else xs[0] ** float(op[2:])
        else:
            raise AssertionError(f"no plain formula for {op}")
    return value[root]


def test_lecture_nudge_raises_the_output_by_python_arithmetic():
    v = lecture_neuron()
    params = [v['w1'], v['w2'], v['b']]
    data = embedded(explore(v['o'], params=params))
    dn = 1 - v['o'].data ** 2  # d o / d n
    w1 = v['w1'].data + 0.01 * (v['x1'].data * dn)
    w2 = v['w2'].data + 0.01 * (v['x2'].data * dn)
    b = v['b'].data + 0.01 * dn
    new = math.tanh(v['x1'].data * w1 + v['x2'].data * w2 + b)
    assert new > v['o'].data  # the output rises
    assert data['nudge']['data'][-1] == [short(new), repr(new)]
    assert plain(data['nudge']['text'], data).startswith("each parameter's data += 0.01 × grad: [o] 0.7071 → ")
    # the inputs are not parameters: they stay
    names = [entry['name'] for entry in data['nodes']]
    assert data['nudge']['data'][names.index('x1')][1] == repr(2.0)


def test_given_leaves_are_parameters_other_leaves_inputs_the_rest_intermediate():
    v = lecture_neuron()
    given_params = {e['name']: e['role'] for e in embedded(explore(v['o'], params=[v['w1'], v['w2'], v['b']]))['nodes']}
    assert given_params['x1'] == given_params['x2'] == 'input'
    assert given_params['w1'] == given_params['b'] == 'parameter'
    assert given_params['n'] == given_params['o'] == 'intermediate'
    c = Value(2.0)  # an unlabelled constant is an input
    assert [e['role'] for e in embedded(explore(v['w1'] * c, params=v['w1']))['nodes']] == \
        ['parameter', 'input', 'intermediate']


def test_without_params_every_leaf_is_drawn_alike_and_nudge_says_it_moves_the_labelled_ones():
    # the lecture's code, explore(o): its inputs x1, x2 were coloured and nudged as parameters
    v = lecture_neuron()
    data = embedded(explore(v['o']))
    roles = {e['name']: e['role'] for e in data['nodes']}
    assert roles == {'x1': 'leaf', 'x2': 'leaf', 'w1': 'leaf', 'w2': 'leaf', 'b': 'leaf', 'x1*w1': 'intermediate',
                     'x2*w2': 'intermediate', 'x1*w1 + x2*w2': 'intermediate', 'n': 'intermediate', 'o': 'intermediate'}
    assert data['params_given'] is False and embedded(explore(v['o'], params=[]))['params_given'] is True
    names = [e['name'] for e in data['nodes']]
    assert sorted(names[i] for i in data['nudge']['moved']) == ['b', 'w1', 'w2', 'x1', 'x2']
    assert plain(data['nudge']['text'], data).startswith(
        "no params= given, so each labelled leaf's data += 0.01 × grad ([x1], [w1], [x2], [w2], [b]): [o] 0.7071 → ")
    c = Value(2.0)  # an unlabelled constant is never moved
    data = embedded(explore(v['w1'] * c))
    assert [e['role'] for e in data['nodes']] == ['leaf', 'leaf', 'intermediate'] and data['nudge']['moved'] == [0]


def test_a_neurons_parameters_as_params_make_three_parameters_and_two_inputs():
    n = Neuron(2, act='tanh', rng=0)
    y = n([Value(1.0), Value(-2.0)])
    roles = [e['role'] for e in embedded(explore(y, params=n.parameters()))['nodes']]
    assert roles.count('parameter') == 3 and roles.count('input') == 2


def test_custom_op_shows_its_name_and_numbers():
    a, b = Value(0.5, label='a'), Value(-1.0, label='b')
    m = max(a.data, b.data)
    out = Value(m + math.log1p(math.exp(-abs(a.data - b.data))), (a, b), 'logaddexp')

    def _backward():
        a.grad += math.exp(a.data - out.data) * out.grad
        b.grad += math.exp(b.data - out.data) * out.grad
    out._backward = _backward
    y = out * 2.0
    data = embedded(explore(y))
    expected_a = math.exp(a.data - out.data) * 2.0  # Python floats: what the closure computes
    logaddexp_step = next(s for s in data['steps'] if s.get('terms') and data['nodes'][s['node']]['op'] == 'logaddexp')
    assert plain(logaddexp_step['terms'][0], data) == f"logaddexp: {short(expected_a)} → [a]"
    assert final_grads(data)[0] == repr(expected_a)
    assert [e['op'] for e in data['nodes']] == ['', '', 'logaddexp', '', '*']
    # the engine's own ops in the same graph are still explained by their formula
    assert plain(data['steps'][-2]['terms'][0], data) == "*: grad × other.data = 1.0 × 2.0 = 2.0 → [#2]"
    assert data['nudge'] == {'available': False, 'reason': "the engine cannot recompute the op 'logaddexp'"}


def test_a_custom_op_reusing_an_engine_name_is_not_explained_by_its_formula():
    a = Value(0.3, label='a')
    out = Value(math.tanh(a.data), (a,), 'tanh')  # a tanh whose backward is not tanh's

    def _backward():
        a.grad += 2.0 * out.grad
    out._backward = _backward
    data = embedded(explore(out))
    assert [plain(line, data) for line in data['steps'][-1]['terms']] == ["tanh: 2.0 → [a]"]
    assert final_grads(data)[0] == repr(2.0)
    assert not data['nudge']['available']


def test_nan_and_inf_data_and_grads_show_as_python_writes_them():
    a = Value(math.inf, label='a')
    y = (a * 0.0).tanh()  # inf * 0 is nan, and nan flows on
    data = embedded(explore(y))
    assert [(e['data'], e['grad']) for e in data['nodes']] == [('inf', 'nan'), ('0.0', 'nan'), ('nan', 'nan'),
                                                               ('nan', '1.0')]
    assert data['nodes'][2]['data_full'] == 'nan'


def test_a_leaf_alone_gets_grad_1_in_one_backward_step_and_keeps_its_own_grad():
    x = Value(3.0, label='x')
    x.grad = 7.0
    explorer = explore(x)
    data = embedded(explorer)
    assert [s['phase'] for s in data['steps']] == ['forward', 'backward']
    assert data['nodes'] == [{'name': 'x', 'label': 'x', 'op': '', 'role': 'leaf', 'data': '3.0',
                              'data_full': '3.0', 'grad': '1.0', 'grad_full': '1.0', 'children': [],
                              'parents': []}]
    assert data['layout']['edges'] == [] and data['layout']['ops'] == [None]
    assert x.grad == 7.0
    assert embedded(explore(Value(-2.5)))['nudge'] == {
        'available': False, 'reason': "no parameters to nudge (label leaves, or pass params)"}


LABELS = ['say "hi"', "it's", '<b>bold</b>', 'a > b & c < d', '{"x": [1]}', '</script><script>alert(1)</script>',
          '<!--', '"__MICROGRAD_DATA__"', '\\u003c', 'w|{1}<2>', 'line\nbreak']


def test_labels_never_reach_the_page_as_markup():
    values = [Value(float(k), label=label) for k, label in enumerate(LABELS)]
    root = sum(values[1:], values[0])
    root.label = '</script>'
    explorer = explore(root)
    data = embedded(explorer)
    assert [e['label'] for e in data['nodes'] if not e['op']] == LABELS  # back exactly as typed
    assert data['nodes'][-1]['label'] == '</script>'
    json_text = re.search(r'id="micrograd-data">(.*?)</script>', explorer.page, re.S).group(1)
    assert not set('<>&') & set(json_text)  # escaped as \u003c, \u003e, \u0026
    assert explorer.page.count('</script>') == 2  # the data's and the program's own
    assert explorer.page.count('<script') == 2


@pytest.mark.parametrize("label, shown", [(float('nan'), 'nan'), (b'bytes', "b'bytes'"), (3, '3'),
                                          (('w', 1), "('w', 1)")])
def test_a_label_that_is_no_string_shows_as_str_of_it_as_draw_dot_shows_it(label, shown):
    x = Value(2.0, label=label)
    y = x * x
    y.label = label
    data = embedded(explore(y))
    assert [(e['name'], e['label']) for e in data['nodes']] == [(shown, shown), (shown, shown)]
    assert data['root'] == shown and plain(data['steps'][0]['text'], data) == f"[{shown}] = 2.0, a leaf"
    assert shown in draw_dot(y).source


@pytest.mark.parametrize("label", ['', None, 0, 0.0, b''])
def test_a_falsy_label_shows_nothing_and_the_value_is_named_by_its_place(label):
    x = Value(2.0, label=label)
    data = embedded(explore(x * 3))
    assert [(e['name'], e['label']) for e in data['nodes']] == [('#0', ''), ('#1', ''), ('#2', '')]


def test_the_page_is_self_contained():
    page = explore(lecture_neuron()['o']).page
    assert page.startswith('<!DOCTYPE html>')
    assert not re.search(r'(src|href)\s*=', page)  # no script, style, font or image fetched
    assert 'http://' not in page.replace('http://www.w3.org/2000/svg', '') and 'https://' not in page
    assert '@import' not in page and 'url(' not in page


def test_same_page_every_time():
    assert explore(lecture_neuron()['o']).page == explore(lecture_neuron()['o']).page


def test_same_page_in_two_processes():
    script = ("from micrograd.engine import Value\n"
              "from micrograd.nn import MLP\n"
              "from micrograd.viz import explore\n"
              "m = MLP(2, [3, 1], act='tanh', rng=7)\n"
              "y = m([Value(0.5, label='x1'), Value(-1.0, label='x2')])\n"
              "print(explore(y, params=m.parameters()).page, end='')\n")
    runs = [subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True, text=True, check=True,
                           env={**os.environ, 'PYTHONHASHSEED': seed}).stdout for seed in ('1', '2')]
    assert runs[0] == runs[1] and runs[0].startswith('<!DOCTYPE html>')


def test_save_refuses_an_empty_path_naming_it_and_takes_a_bytes_path(tmp_path, monkeypatch):
    explorer = explore(lecture_neuron()['o'])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as info:
        explorer.save('')
    assert info.value.filename == '' and os.listdir(tmp_path) == []
    path = explorer.save(os.fsencode(tmp_path / 'page.html'))
    assert path == str(tmp_path / 'page.html') and pathlib.Path(path).read_text(encoding='utf-8') == explorer.page


def test_save_writes_the_page(tmp_path):
    explorer = explore(lecture_neuron()['o'])
    path = explorer.save(tmp_path / 'explorer.html')
    assert path == str(tmp_path / 'explorer.html')
    assert pathlib.Path(path).read_text(encoding='utf-8') == explorer.page


def test_save_leaves_the_old_page_whole_when_the_new_one_cannot_be_written(tmp_path, monkeypatch):
    old = explore(lecture_neuron()['o'])
    path = old.save(tmp_path / 'explorer.html')
    with pytest.raises(UnicodeEncodeError):  # a page UTF-8 cannot encode: the old file was left at 0 bytes
        Explorer('<p>\ud800</p>', 10).save(path)
    assert pathlib.Path(path).read_text(encoding='utf-8') == old.page

    def full_disk(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(OSError, match="No space left"):
        explore(Value(1.0, label='new')).save(path)
    assert pathlib.Path(path).read_text(encoding='utf-8') == old.page
    assert os.listdir(tmp_path) == ['explorer.html']  # no temporary file left behind


def test_a_lone_surrogate_label_gives_a_page_that_saves_and_reads_back(tmp_path):
    label = 'half \ud800'  # JSON carries it; UTF-8 cannot
    explorer = explore(Value(1.0, label=label) * 2)
    path = explorer.save(tmp_path / 'explorer.html')
    assert '\\ud800' in pathlib.Path(path).read_text(encoding='utf-8')  # escaped inside the JSON
    assert embedded(explorer)['nodes'][0]['label'] == label


def test_save_through_a_symlink_writes_its_target_and_keeps_the_permission_bits(tmp_path):
    target = tmp_path / 'page.html'
    target.write_text('old')
    target.chmod(0o640)
    link = tmp_path / 'link.html'
    link.symlink_to(target)
    explorer = explore(lecture_neuron()['o'])
    explorer.save(link)
    assert link.is_symlink() and target.read_text(encoding='utf-8') == explorer.page
    assert target.stat().st_mode & 0o777 == 0o640


def test_save_into_a_missing_directory_names_the_path_given(tmp_path):
    path = tmp_path / 'nowhere' / 'explorer.html'
    with pytest.raises(FileNotFoundError) as info:
        explore(Value(1.0)).save(path)
    assert info.value.filename == str(path)


def test_printed_outside_jupyter_it_says_how_to_save_and_open_the_page():
    text = str(explore(lecture_neuron()['o']))  # print() shows this: no page appears outside Jupyter
    assert text == ("<micrograd explorer of 'o', 10 values: .save('explorer.html') writes the page, "
                    "then open that file in a browser (Jupyter shows it inline)>")
    assert repr(explore(Value(1.0) * 2)).startswith("<micrograd explorer of '#2', 3 values: ")


def test_the_explorer_has_its_own_module_and_viz_still_gives_it():
    from micrograd import viz
    import micrograd.explore
    assert viz.explore is micrograd.explore.explore and viz.Explorer is micrograd.explore.Explorer
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        viz.nothing
    for first in ('micrograd.explore', 'micrograd.viz'):  # either may be imported first
        script = (f"import {first}\nfrom micrograd.viz import explore\nfrom micrograd.explore import Explorer\n"
                  f"from micrograd.engine import Value\nassert isinstance(explore(Value(1.0)), Explorer)\n")
        subprocess.run([sys.executable, '-c', script], cwd=ROOT, check=True)


def test_engine_dot_reads_as_its_sum_of_products_and_nudges():
    x = [Value(2.0, label='x1'), Value(0.0, label='x2')]
    w = [Value(-3.0, label='w1'), Value(1.0, label='w2')]
    y = dot(w, x)
    data = embedded(explore(y, params=w))
    forward = [plain(s['text'], data) for s in data['steps'] if s['phase'] == 'forward']
    assert forward[-1] == "[#4] = [w1] × [x1] + [w2] × [x2] = \u22123.0 × 2.0 + 1.0 × 0.0 = \u22126.0"
    assert data['nudge']['available']  # it was "the engine cannot recompute the op 'dot'"
    moved = [(-3.0 + 0.01 * 2.0), (1.0 + 0.01 * 0.0)]
    assert data['nudge']['data'][-1][1] == repr(moved[0] * 2.0 + moved[1] * 0.0)


def test_a_division_is_explained_by_a_formula_and_nudged():
    a = Value(3.0, label='a')
    y = a / 4.0  # drawn as a * 4.0**-1, the original's graph
    data = embedded(explore(y))
    terms = [plain(line, data) for s in data['steps'] for line in s.get('terms', [])]
    assert terms[0].startswith("*: grad ") and terms[0].endswith(" = 0.25 → [a]")  # a formula, not a custom op's
    assert data['nudge']['available'] and data['nudge']['data'][-1][1] == repr((3.0 + 0.01 * 0.25) / 4.0)


def test_jupyter_shows_the_page_in_a_sandboxed_frame():
    explorer = explore(lecture_neuron()['o'])
    assert isinstance(explorer, Explorer)
    frame = explorer._repr_html_()
    match = re.fullmatch(r'<iframe srcdoc="([^"]*)" sandbox="allow-scripts" style="[^"]*"></iframe>', frame)
    assert match and html.unescape(match.group(1)) == explorer.page


def test_too_many_nodes_raises_naming_the_count():
    total = sum(Value(float(k)) for k in range(300))  # 300 leaves, sum's start 0 as a Value, 300 sums
    with pytest.raises(ValueError, match=r"601 values, more than max_nodes=500.*max_nodes=601"):
        explore(total)
    assert len(embedded(explore(total, max_nodes=601))['nodes']) == 601


@pytest.mark.parametrize("kwargs, error, message", [
    ({'nudge': 'big'}, ValueError, "nudge must be a finite number"),
    ({'nudge': math.inf}, ValueError, "nudge must be a finite number"),
    ({'max_nodes': 0}, ValueError, "max_nodes must be a positive int or None"),
    ({'params': [1.0]}, TypeError, "params[0] must be a Value, got float"),
])
def test_explore_rejects_bad_options(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        explore(Value(1.0), **kwargs)


def test_explore_refuses_a_nudge_beyond_the_float_range_naming_it():
    with pytest.raises(OverflowError, match=r"^nudge is 1000+\.\.\. is too large for a float"):
        explore(Value(1.0, label='a') * 2, nudge=10**400)


def test_a_numpy_nudge_moves_the_parameters_in_python_floats():
    v = lecture_neuron()
    step = np.float32(0.1)  # float32 arithmetic would give other last bits
    nudge = embedded(explore(v['o'], nudge=step))['nudge']
    leaves = {name: torch.tensor(v[name].data, dtype=torch.float64, requires_grad=True)
              for name in ('x1', 'x2', 'w1', 'w2', 'b')}  # no params: all five labelled leaves move
    o = torch.tanh(leaves['x1'] * leaves['w1'] + leaves['x2'] * leaves['w2'] + leaves['b'])
    o.backward()
    moved = {name: (t + float(step) * t.grad).detach() for name, t in leaves.items()}
    expected = torch.tanh(moved['x1'] * moved['w1'] + moved['x2'] * moved['w2'] + moved['b']).item()
    assert float(nudge['data'][-1][1]) == pytest.approx(expected, rel=1e-12)
    assert f"data += {float(step)} × grad" in nudge['text'][0]


def test_max_nodes_may_be_a_numpy_integer():
    root = lecture_neuron()['o']
    assert explore(root, max_nodes=np.int64(10)).page == explore(root, max_nodes=10).page


def test_one_value_as_params_is_one_parameter_and_a_non_iterable_is_refused_by_type():
    v = lecture_neuron()
    one, listed = embedded(explore(v['o'], params=v['w1'])), embedded(explore(v['o'], params=[v['w1']]))
    assert one == listed
    assert [e['name'] for e in one['nodes'] if e['role'] == 'parameter'] == ['w1']
    with pytest.raises(TypeError, match=r"^params must be None, a Value or a list of Values, got float$"):
        explore(v['o'], params=1.0)


def test_explore_rejects_a_computed_value_as_parameter_and_a_list_as_root():
    v = lecture_neuron()
    with pytest.raises(ValueError, match=re.escape("params[0] (n) is computed from other values")):
        explore(v['o'], params=[v['n']])
    with pytest.raises(TypeError, match="explore needs a Value, got list"):
        explore([v['o']])


def test_missing_graphviz_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'graphviz', None)
    message = "explore needs the graphviz package: pip install 'micrograd[viz]'"
    with pytest.raises(ImportError, match=re.escape(message)):
        explore(Value(1.0))


# ---- in a real browser -------------------------------------------------------------------------

BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--no-first-run']
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="the chromium program is missing "
                                    "(apt-get install chromium; CI installs it)")


@pytest.fixture(scope='module')
def browser():
    if CHROMIUM is None:
        pytest.skip("the chromium program is missing (apt-get install chromium; CI installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, tmp_path):
    """open explorer's saved file offline, collecting console errors and every request"""
    pages = []

    def open_(explorer, width=1400, height=620):
        path = pathlib.Path(explorer.save(tmp_path / f'explorer{len(pages)}.html'))
        url = path.as_uri()
        page = browser.new_page(viewport={'width': width, 'height': height})
        page.problems, page.requests = [], []
        page.on('console', lambda m: page.problems.append(m.text) if m.type in ('error', 'warning') else None)
        page.on('pageerror', lambda e: page.problems.append(str(e)))
        page.on('request', lambda r: page.requests.append(r.url))
        # the network is blocked: everything but the file itself is aborted
        page.route('**/*', lambda route: route.continue_() if route.request.url == url else route.abort())
        page.goto(url)
        pages.append(page)
        return page

    yield open_
    for page in pages:
        page.close()


def shown(page, field):
    """{value name: text of its data or grad field} as the page shows it now"""
    return page.eval_on_selector_all(
        '.value', f"gs => gs.map(g => [g.dataset.name, g.querySelector('.{field}').textContent])")


def run_backward(page):
    presses = 0
    while not page.is_disabled('#step'):
        page.click('#step')
        presses += 1
    return presses


@needs_chromium
def test_stepping_to_the_end_shows_the_engines_grads(open_page):
    v = lecture_neuron()
    page = open_page(explore(v['o'], params=[v['w1'], v['w2'], v['b']]))
    assert all(text == '?' for _, text in shown(page, 'grad'))  # nothing computed yet
    assert run_backward(page) == 10 + 6  # ten values forward; the seed and five ops backward
    assert page.text_content('#status') == 'backward pass done'
    grads = {name: number(text) for name, text in shown(page, 'grad')}
    assert set(grads) == set(v)
    for name in v:  # 4 significant digits on the page
        assert grads[name] == pytest.approx(engine_value_grad(v, name), rel=1e-3, abs=1e-12)
    # the lecture's numbers
    assert (grads['x1'], grads['w1'], grads['x2'], grads['w2']) == (-1.5, 1.0, 0.5, 0.0)
    data = {name: number(text) for name, text in shown(page, 'data')}
    assert data['o'] == pytest.approx(math.tanh(v['n'].data), rel=1e-3)
    assert page.problems == []


def engine_value_grad(v, name):
    """d o / d v[name] by the engine's backward() on a fresh copy of the lecture's neuron"""
    fresh = lecture_neuron()
    fresh['o'].backward()
    return fresh[name].grad


@needs_chromium
def test_forward_then_backward_one_step_at_a_time(open_page):
    v = lecture_neuron()
    page = open_page(explore(v['o']))
    page.click('#step')
    assert dict(shown(page, 'data'))['x1'] == '2.0' and dict(shown(page, 'data'))['w1'] == '?'
    for _ in range(10):
        page.keyboard.press('ArrowRight')  # the rest of the forward pass, and the seed
    assert dict(shown(page, 'grad'))['o'] == '1.0' and dict(shown(page, 'grad'))['n'] == '?'
    page.keyboard.press('ArrowRight')  # back through tanh
    assert dict(shown(page, 'grad'))['n'] == '0.5'
    assert '(1 \u2212 0.7071²) × 1.0 = 0.5 → n' in page.text_content('.callout')
    assert '(1 \u2212 0.7071²) × 1.0 = 0.5' in page.text_content('#narration')
    page.keyboard.press('ArrowLeft')
    assert dict(shown(page, 'grad'))['n'] == '?'
    page.keyboard.press('End')
    assert page.text_content('#status') == 'backward pass done'
    page.keyboard.press('Home')
    assert all(text == '?' for _, text in shown(page, 'data'))
    assert page.problems == []


@needs_chromium
def test_play_runs_to_the_end(open_page):
    page = open_page(explore(lecture_neuron()['o']))
    page.fill('#speed', '10')
    page.click('#play')
    page.wait_for_function("document.getElementById('status').textContent === 'backward pass done'",
                           timeout=60_000)
    assert page.text_content('#play') == 'play'  # it stopped by itself
    assert page.problems == []


@needs_chromium
def test_clicking_a_value_shows_its_details_and_its_path(open_page):
    v = lecture_neuron()
    page = open_page(explore(v['o'], params=[v['w1'], v['w2'], v['b']]))
    page.click('#end')
    page.click('.value[data-name="x1"]')
    field = lambda name: page.text_content(f'#details dd[data-field="{name}"]')
    assert page.text_content('#details h3') == 'x1'
    assert (field('label'), field('role'), field('op')) == ('x1', 'input', '(leaf)')
    assert float(field('data')) == 2.0
    assert float(field('grad')) == engine_value_grad(v, 'x1')  # in full, as the engine computed it
    assert (field('children'), field('parents')) == ('(none)', 'x1*w1')
    on_path = page.eval_on_selector_all('.value.onpath', 'gs => gs.map(g => g.dataset.name)')
    assert sorted(on_path) == sorted(['x1', 'x1*w1', 'x1*w1 + x2*w2', 'n', 'o'])
    assert page.locator('.op.onpath').count() == 4  # *, +, +, tanh
    page.click('.value[data-name="n"]')
    assert field('children') == 'x1*w1 + x2*w2, b' and field('op') == '+'
    assert page.problems == []


@needs_chromium
def test_nudge_shows_the_output_the_engine_computed(open_page):
    v = lecture_neuron()
    explorer = explore(v['o'], params=[v['w1'], v['w2'], v['b']])
    page = open_page(explorer)
    page.click('#nudge')
    new = embedded(explorer)['nudge']['data'][-1]
    assert dict(shown(page, 'data'))['o'] == new[0]
    assert number(new[0]) > v['o'].data
    assert page.text_content('#narration').startswith("each parameter's data += 0.01")
    page.click('#nudge')  # undo
    assert dict(shown(page, 'data'))['o'] == '0.7071'


@needs_chromium
def test_labels_show_as_typed_in_the_browser(open_page):
    values = [Value(float(k), label=label) for k, label in enumerate(LABELS)]
    root = sum(values[1:], values[0])
    page = open_page(explore(root))
    page.click('#end')
    labels = page.eval_on_selector_all('.value .label', 'ts => ts.map(t => t.textContent)')
    assert labels == LABELS
    assert page.locator('b').count() == 0  # '<b>bold</b>' stayed text
    assert page.evaluate('document.scripts.length') == 2
    assert page.problems == []


@needs_chromium
def test_page_loads_offline_without_console_errors_and_a_screenshot(open_page, tmp_path):
    v = lecture_neuron()
    page = open_page(explore(v['o'], params=[v['w1'], v['w2'], v['b']]), width=1700, height=440)
    for _ in range(16):  # forward, then back to the last op: x1*w1 passes its grad to x1 and w1
        page.click('#step')
    page.click('.value[data-name="x1"]')
    assert page.problems == []
    assert {url for url in page.requests} == {page.url}  # not one request beyond the file
    png = page.screenshot(path=tmp_path / 'explorer.png')
    assert png[:8] == b'\x89PNG\r\n\x1a\n'


@needs_chromium
def test_the_notebook_frame_runs_the_page(browser):
    v = lecture_neuron()
    page = browser.new_page()
    problems = []
    page.on('console', lambda m: problems.append(m.text) if m.type == 'error' else None)
    page.route('**/*', lambda route: route.abort())  # nothing to fetch: the page is in srcdoc
    try:
        page.set_content(explore(v['o'])._repr_html_())  # what Jupyter puts in the output cell
        frame = page.frame_locator('iframe')
        frame.locator('#end').click()
        assert frame.locator('#status').text_content() == 'backward pass done'
        assert frame.locator('.value[data-name="x1"] .grad').text_content() == '\u22121.5'
        assert problems == []
    finally:
        page.close()


def test_laid_out_left_to_right_as_draw_dot_draws_it():
    from micrograd.viz import draw_dot
    v = lecture_neuron()
    layout = embedded(explore(v['o']))['layout']
    source = draw_dot(v['o']).source
    assert len(layout['edges']) == source.count(' -> ')  # the same arrows: child to op, op to value
    assert sum(box is not None for box in layout['ops']) == source.count('op [label=')
    names = [x.label for x in trace_nodes(v['o'])[0]]
    x = {name: layout['values'][i][0] for i, name in enumerate(names)}
    assert x['x1'] < x['x1*w1'] < x['x1*w1 + x2*w2'] < x['n'] < x['o']  # inputs left, output right
    assert max(x.values()) == x['o']


# ---- readable on ordinary screens: a 1024 px window and a notebook cell, graphs without labels ----

def readme_g():
    """the README's first example, run as written: nothing labelled, so every value is named #i"""
    block = re.search(r'```python\n(.*?)```', (ROOT / 'README.md').read_text(encoding='utf-8'), re.S).group(1)
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(block, namespace)
    return namespace['g']


def unlabelled_neuron():
    n = Neuron(2, act='tanh', rng=1337)
    return explore(n([1.0, -2.0]), params=n.parameters())


GRAPHS = {'lecture': lambda: explore(lecture_neuron()['o']), 'readme_g': lambda: explore(readme_g()),
          'neuron': unlabelled_neuron}
SCREENS = {'1024px window': (1024, 700, False), 'notebook frame': (800, 500, True)}


@pytest.fixture
def open_on_screen(open_page, browser):
    """open an explorer in a 1024 px window, or as Jupyter shows it in an 800 x 500 cell;
    gives the frame the page runs in"""
    pages = []

    def open_(explorer, screen):
        width, height, in_frame = SCREENS[screen]
        if not in_frame:
            return open_page(explorer, width=width, height=height).main_frame
        page = browser.new_page(viewport={'width': width, 'height': height})
        pages.append(page)
        page.set_content(f'<body style="margin: 0">{explorer._repr_html_()}</body>')
        frame = page.main_frame.child_frames[0]
        frame.wait_for_selector('.value')
        return frame

    yield open_
    for page in pages:
        page.close()


SMALLEST_TEXT = """() => Math.min(...[...document.querySelectorAll('svg text')].map(
    t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a))"""  # CSS size times the zoom
PIXEL = 0.01  # the browser keeps sizes in 1/64 px: 12 px can measure 11.9999

BOXES_UNDER_CALLOUT = """() => {
    const c = document.querySelector('.callout rect').getBoundingClientRect();
    return [...document.querySelectorAll('.value rect, .op ellipse')].map(e => e.getBoundingClientRect())
        .filter(b => Math.min(c.right, b.right) > Math.max(c.left, b.left)
                     && Math.min(c.bottom, b.bottom) > Math.max(c.top, b.top)).length; }"""


def step_through(frame):
    """press step to the end, yielding after each step"""
    while not frame.is_disabled('#step'):
        frame.click('#step')
        yield


@needs_chromium
@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("graph", GRAPHS)
def test_text_is_never_below_11_px(open_on_screen, graph, screen):
    # "fit to width" shrank the lecture's box text to 7 px at 1024 px and in a notebook cell
    frame = open_on_screen(GRAPHS[graph](), screen)
    assert frame.evaluate(SMALLEST_TEXT) >= 12 - PIXEL  # 100% at first: the graph scrolls instead
    frame.click('#end')
    clicks = 0
    while not frame.is_disabled('#zoom-out'):
        frame.click('#zoom-out')  # as small as it goes
        clicks += 1
    assert clicks == 1 and frame.text_content('#zoom') == '92%'
    assert frame.evaluate(SMALLEST_TEXT) >= 11 - PIXEL
    if graph != 'readme_g':  # nothing labelled, no params: nothing to nudge
        frame.click('#nudge')  # longer numbers widen their box, never shrink the text
    assert frame.evaluate(SMALLEST_TEXT) >= 11 - PIXEL


@needs_chromium
@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("graph", GRAPHS)
def test_the_callout_covers_no_box(open_on_screen, graph, screen):
    frame = open_on_screen(GRAPHS[graph](), screen)
    shown = 0
    for _ in step_through(frame):
        if frame.get_attribute('.callout', 'visibility') == 'visible':
            shown += 1
            assert frame.evaluate(BOXES_UNDER_CALLOUT) == 0, frame.text_content('#status')
    assert shown == sum(1 for s in embedded(GRAPHS[graph]())['steps'] if s.get('terms'))


@needs_chromium
@pytest.mark.parametrize("screen", SCREENS)
def test_each_step_scrolls_its_value_into_view_and_the_graph_uses_the_height(open_on_screen, screen):
    frame = open_on_screen(explore(readme_g()), screen)
    in_view = """() => { const g = document.getElementById('graph').getBoundingClientRect();
        const v = document.querySelector('.value.current rect').getBoundingClientRect();
        return v.left >= g.left && v.right <= g.right && v.top >= g.top && v.bottom <= g.bottom; }"""
    for _ in step_through(frame):
        if frame.text_content('#status').startswith('forward'):
            assert frame.evaluate(in_view), frame.text_content('#status')
    graph_bottom = frame.evaluate("document.getElementById('graph').getBoundingClientRect().bottom")
    assert graph_bottom == pytest.approx(frame.evaluate('window.innerHeight'), abs=1)  # down to the bottom


@needs_chromium
def test_every_box_shows_the_name_the_narration_uses(open_page):
    # the README's g has no labels: the narration said #25 and no box said which value that was
    page = open_page(explore(readme_g()), width=1024, height=700)
    boxes = page.eval_on_selector_all(
        '.value', "gs => gs.map(g => [g.dataset.name, g.querySelector('.name').textContent])")
    assert all(name == shown for name, shown in boxes) and len(boxes) == len(trace_nodes(readme_g())[0])
    assert [name for name, _ in boxes] == [f'#{i}' for i in range(len(boxes))]
    for _ in step_through(page.main_frame):
        named = page.eval_on_selector_all('#narration .name', 'ns => ns.map(n => n.textContent)')
        current = page.get_attribute('.value.current', 'data-name')
        assert named[0] == current and set(named) <= {name for name, _ in boxes}


@needs_chromium
def test_names_in_the_narration_are_set_apart_from_the_words(open_page):
    # x1*w1 + x2*w2 = x1*w1 + x2*w2 read as a tautology: a name now looks like its box, in another font
    page = open_page(explore(lecture_neuron()['o']), width=1024, height=700)
    for _ in range(7):
        page.click('#step')  # forward to x1*w1 + x2*w2
    assert page.text_content('#narration') == \
        "x1*w1 + x2*w2 = x1*w1 + x2*w2 = \u22126.0 + 0.0 = \u22126.0"
    chips = page.eval_on_selector_all('#narration .name', """ns => ns.map(n => [n.textContent,
        getComputedStyle(n).fontFamily, getComputedStyle(n).borderTopStyle])""")
    words = page.evaluate("getComputedStyle(document.getElementById('narration')).fontFamily")
    assert [name for name, _, _ in chips] == ['x1*w1 + x2*w2', 'x1*w1', 'x2*w2']
    assert all(font != words and border == 'solid' for _, font, border in chips)


@needs_chromium
def test_the_legend_says_what_the_colours_mean_with_and_without_params(open_page):
    v = lecture_neuron()
    page = open_page(explore(v['o']), width=1024, height=700)
    colours = "ds => ds.map(d => d.textContent)"
    assert page.eval_on_selector_all('.legend > div:not(.note)', colours) == ['leaf', 'intermediate', 'output']
    assert "No params= given: leaves are drawn alike and nudge moves the labelled ones" in page.text_content('.legend')
    assert page.eval_on_selector_all('.value', 'gs => gs.map(g => g.classList[1])').count('leaf') == 5
    page = open_page(explore(v['o'], params=[v['w1'], v['w2'], v['b']]), width=1024, height=700)
    assert page.eval_on_selector_all('.legend > div:not(.note)', colours) == \
        ['parameter (params=)', 'input (other leaves)', 'intermediate', 'output']
    assert page.locator('.legend .note').count() == 0


# the screenshots in docs/images, as scripts/explorer_screenshots.py takes them: name, (width, height)
PICTURES = {'explorer.png': (1800, 420), 'explorer_1024.png': (1024, 700), 'explorer_notebook.png': (800, 500)}


def png_size(path):
    png = pathlib.Path(path).read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    return int.from_bytes(png[16:20], 'big'), int.from_bytes(png[20:24], 'big')


@needs_chromium
def test_the_screenshot_script_takes_the_pictures_in_the_docs(tmp_path):
    subprocess.run([sys.executable, 'scripts/explorer_screenshots.py', '--out', str(tmp_path), '--chromium', CHROMIUM],
                   cwd=ROOT, check=True, capture_output=True)
    assert {name: png_size(tmp_path / name) for name in PICTURES} == PICTURES


def test_the_docs_show_the_scripts_pictures():
    assert {name: png_size(ROOT / 'docs' / 'images' / name) for name in PICTURES} == PICTURES
    drawing = (ROOT / 'docs' / 'drawing.md').read_text(encoding='utf-8')
    assert all(f'(images/{name})' in drawing for name in PICTURES)
