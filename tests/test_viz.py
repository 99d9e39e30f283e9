import html
import math
import os
import pathlib
import random
import re
import shutil
import subprocess
import sys

import graphviz
import numpy as np
import pytest

from micrograd.engine import Value
from micrograd.viz import draw_dot, trace

ROOT = pathlib.Path(__file__).resolve().parent.parent
needs_dot = pytest.mark.skipif(shutil.which('dot') is None,
                               reason="the Graphviz dot program is missing (apt-get install graphviz)")


def small_graph():
    # a = 2, b = -3, e = a*b = -6, d = e + a = -4, L = d**2 = 16
    a = Value(2.0, label='a')
    b = Value(-3.0, label='b')
    e = a * b
    e.label = 'e'
    d = e + a
    d.label = 'd'
    L = d**2
    return a, b, e, d, L


def filled(source):
    """names of the nodes drawn filled, in the order they appear"""
    return re.findall(r'^\t(\w+) \[.*style=filled', source, flags=re.M)


def test_trace_lists_children_first_and_one_edge_per_operand():
    a, b, e, d, L = small_graph()
    sq = a * a  # a twice: two edges, one per gradient contribution
    nodes, edges = trace(L)
    assert nodes == [a, b, e, d, L]
    assert edges == [(a, e), (b, e), (e, d), (a, d), (d, L)]
    assert trace(sq) == ([a, sq], [(a, sq), (a, sq)])
    assert trace(a) == ([a], [])


def test_draw_dot_source_is_exact():
    a, b, e, d, L = small_graph()
    L.backward()
    # by the chain rule: dL/dd = 2d = -8; dL/de = dL/dd = -8;
    # dL/da = dL/de * b + dL/dd = 24 - 8 = 16; dL/db = dL/de * a = -16.
    # Values are numbered in trace order a, b, e, d, L; each op node feeds its result.
    # graphviz puts the label first, then the other attributes sorted by name.
    expected = '''digraph {
\tgraph [rankdir=LR]
\tn0 [label="{ a | data 2.0000 | grad 16.0000 }" shape=record]
\tn1 [label="{ b | data -3.0000 | grad -16.0000 }" shape=record]
\tn2 [label="{ e | data -6.0000 | grad -8.0000 }" shape=record]
\tn2op [label="*"]
\tn2op -> n2
\tn3 [label="{ d | data -4.0000 | grad -8.0000 }" shape=record]
\tn3op [label="+"]
\tn3op -> n3
\tn4 [label="{ data 16.0000 | grad 1.0000 }" shape=record]
\tn4op [label="**2"]
\tn4op -> n4
\tn0 -> n2op
\tn1 -> n2op
\tn2 -> n3op
\tn0 -> n3op
\tn3 -> n4op
}
'''
    assert draw_dot(L).source == expected


def test_draw_dot_without_grad_top_to_bottom():
    x = Value(-0.5, label='x')
    y = x.relu()
    expected = '''digraph {
\tgraph [rankdir=TB]
\tn0 [label="{ x | data -0.5000 }" shape=record]
\tn1 [label="{ data 0.0000 }" shape=record]
\tn1op [label=ReLU]
\tn1op -> n1
\tn0 -> n1op
}
'''
    assert draw_dot(y, rankdir='TB', show_grad=False).source == expected


def test_labels_with_record_syntax_are_escaped():
    # | { } < > would split or break the record; the label must show as typed
    x = Value(1.0, label='w|{1}<2> "q" \\')
    assert draw_dot(x).source.splitlines()[2] == \
        '\tn0 [label="{ w\\|\\{1\\}\\<2\\> \\"q\\" \\\\ | data 1.0000 | grad 0.0000 }" shape=record]'


def test_draw_dot_returns_a_digraph_with_the_format():
    dot = draw_dot(Value(1.0), format='png')
    assert isinstance(dot, graphviz.Digraph)
    assert dot.format == 'png'


def test_same_dot_text_in_two_processes():
    script = (
        "from micrograd.engine import Value\n"
        "from micrograd.nn import MLP\n"
        "from micrograd.viz import draw_dot\n"
        "m = MLP(3, [4, 4, 1], act='tanh', rng=7)\n"
        "y = m([Value(0.5, label='x1'), Value(-1.0, label='x2'), Value(2.0, label='x3')])\n"
        "y.backward()\n"
        "print(draw_dot(y, highlight=5).source, end='')\n"
    )
    runs = [subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True, text=True,
                           check=True, env={**os.environ, 'PYTHONHASHSEED': seed}).stdout
            for seed in ('1', '2')]
    assert runs[0] == runs[1]
    assert runs[0].count('shape=record') == 116  # 3 inputs, 41 parameters, 72 computed


def test_deep_chain_traces_without_recursion_error():
    x = leaf = Value(0.5)
    for _ in range(100_000):
        x = x.tanh()
    nodes, edges = trace(x)
    assert len(nodes) == 100_001 and nodes[0] is leaf and nodes[-1] is x
    assert len(edges) == 100_000


def test_deep_chain_draws_without_recursion_error():
    x = Value(0.5)
    for _ in range(10_000):  # ten times the default recursion limit
        x = x * 1.0
    source = draw_dot(x, max_nodes=None).source
    assert source.count('shape=record') == 20_001  # the leaf, 10000 constants, 10000 products


def test_too_many_nodes_raises_naming_the_count():
    x = Value(0.0)
    for _ in range(300):
        x = x + 1  # a constant and a sum per step: 601 values
    with pytest.raises(ValueError, match=r"601 values, more than max_nodes=500.*max_nodes=601"):
        draw_dot(x)
    assert draw_dot(x, max_nodes=601).source.count('shape=record') == 601
    assert draw_dot(x, max_nodes=None).source.count('shape=record') == 601


def test_highlight_fills_the_largest_abs_grads():
    a, b, e, d, L = small_graph()
    L.backward()  # |grad|: a 16, b 16, e 8, d 8, L 1
    assert filled(draw_dot(L).source) == []
    assert filled(draw_dot(L, highlight=1).source) == ['n0']  # a tie goes to the earlier node
    assert filled(draw_dot(L, highlight=3).source) == ['n0', 'n1', 'n2']
    assert filled(draw_dot(L, highlight=99).source) == ['n0', 'n1', 'n2', 'n3', 'n4']
    d.grad = math.nan  # a nan gradient is the first thing to look at
    assert filled(draw_dot(L, highlight=1).source) == ['n3']
    assert 'fillcolor=gold' in draw_dot(L, highlight=1).source


@pytest.mark.parametrize("kwargs, message", [
    ({'highlight': -1}, "highlight must be a count"),
    ({'highlight': True}, "highlight must be a count"),
    ({'max_nodes': 0}, "max_nodes must be a positive int or None"),
    ({'rankdir': 'lr'}, "rankdir must be one of LR, RL, TB, BT, got 'lr'"),
])
def test_draw_dot_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        draw_dot(Value(1.0), **kwargs)


def test_draw_dot_rejects_a_list():
    with pytest.raises(TypeError, match="draw_dot needs a Value, got list"):
        draw_dot([Value(1.0), Value(2.0)])
    with pytest.raises(TypeError, match="trace needs a Value, got float"):
        trace(1.0)


def test_missing_graphviz_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'graphviz', None)  # import graphviz now raises ImportError
    with pytest.raises(ImportError, match=re.escape("pip install 'micrograd[viz]'")):
        draw_dot(Value(1.0))
    assert trace(Value(1.0))[0][0].data == 1.0  # trace needs no graphviz


def test_importing_the_package_needs_no_graphviz():
    script = ("import sys; sys.modules['graphviz'] = None\n"
              "import micrograd, micrograd.nn, micrograd.viz\n"
              "print('graphviz' in sys.modules and sys.modules['graphviz'] is not None)")
    out = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out == 'False\n'


@pytest.mark.parametrize("run", [
    lambda dot, tmp: dot.pipe(),
    lambda dot, tmp: dot.render(tmp / 'gout'),
    lambda dot, tmp: dot._repr_mimebundle_(),  # what Jupyter calls to show it inline
])
def test_missing_dot_program_adds_install_hint(monkeypatch, tmp_path, run):
    monkeypatch.setenv('PATH', str(tmp_path))  # an empty directory: no dot on the PATH
    with pytest.raises(graphviz.ExecutableNotFound) as info:
        run(draw_dot(Value(1.0)), tmp_path)
    message = str(info.value)
    assert message.startswith("failed to execute") and "'dot'" in message  # graphviz's words first
    assert message.count("apt-get install graphviz") == 1


@needs_dot
def test_renders_svg_and_png_with_dot(tmp_path):
    a, b, e, d, L = small_graph()
    L.backward()
    path = draw_dot(L).render(tmp_path / 'gout')
    assert path == str(tmp_path / 'gout.svg')
    svg = pathlib.Path(path).read_text()
    assert svg.startswith('<?xml') and '</svg>' in svg
    texts = re.findall(r'<text[^>]*>([^<]*)</text>', svg)
    assert texts.count('grad 16.0000') == 1 and texts.count('**2') == 1 and texts.count('+') == 1
    png = draw_dot(L, format='png').pipe()
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    width, height = int.from_bytes(png[16:20], 'big'), int.from_bytes(png[20:24], 'big')
    assert width > height > 0  # left to right: wider than tall


@needs_dot
def test_escaped_label_renders_as_typed():
    svg = draw_dot(Value(1.0, label='w|{1}<2> "q" \\')).pipe(encoding='utf-8')
    assert '>w|{1}&lt;2&gt; &quot;q&quot; \\</text>' in svg


@needs_dot
def test_readme_graph_script_writes_svgs(tmp_path):
    subprocess.run([sys.executable, 'scripts/render_readme_graph.py', '--out', str(tmp_path)],
                   cwd=ROOT, check=True)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in (ROOT / 'docs' / 'images').glob('*.svg'))
    for name in written:
        assert '</svg>' in (tmp_path / name).read_text()


def svg_fields(path):
    """the text of every record field and op node in a committed SVG, in drawing order"""
    return [html.unescape(t) for t in re.findall(r'<text[^>]*>([^<]*)</text>', path.read_text())]


def test_committed_lecture_image_shows_the_lectures_numbers():
    fields = svg_fields(ROOT / 'docs' / 'images' / 'lecture_neuron.svg')
    shown = {fields[i]: (fields[i + 1], fields[i + 2]) for i in range(len(fields) - 2)
             if fields[i + 1].startswith('data ') and not fields[i].startswith(('data ', 'grad '))}
    x1, x2, w1, w2, b = 2.0, 0.0, -3.0, 1.0, 6.8813735870195432
    n = x1 * w1 + x2 * w2 + b
    o = math.tanh(n)
    dn = 1 - o**2  # do/dn; every sum passes it on unchanged
    expected = {'x1': (x1, w1 * dn), 'w1': (w1, x1 * dn), 'x2': (x2, w2 * dn), 'w2': (w2, x2 * dn),
                'x1*w1': (x1 * w1, dn), 'x2*w2': (x2 * w2, dn), 'x1*w1 + x2*w2': (x1 * w1 + x2 * w2, dn),
                'b': (b, dn), 'n': (n, dn), 'o': (o, 1.0)}
    assert shown == {k: (f'data {d:.4f}', f'grad {g:.4f}') for k, (d, g) in expected.items()}


def test_committed_readme_image_shows_the_readme_neuron():
    fields = svg_fields(ROOT / 'docs' / 'images' / 'neuron.svg')
    shown = sorted((d, g) for d, g in zip(fields, fields[1:]) if d.startswith('data '))
    rng = random.Random(1337)  # what Neuron(2, rng=1337) draws from, as in the README
    w1, w2 = rng.uniform(-1, 1), rng.uniform(-1, 1)
    s = 0.0 + w1 * 1.0 + w2 * -2.0
    assert s > 0  # so relu passes the gradient: 1 into every node past the inputs
    pairs = [(w1, 1.0), (w2, -2.0), (0.0, 1.0), (1.0, w1), (-2.0, w2),  # w1, w2, b, x1, x2
             (w1 * 1.0, 1.0), (w2 * -2.0, 1.0), (w1 * 1.0, 1.0), (s, 1.0), (s, 1.0)]
    assert shown == sorted((f'data {d:.4f}', f'grad {g:.4f}') for d, g in pairs)


def test_highlight_and_max_nodes_may_be_numpy_integers():
    a, b = Value(2.0, label='a'), Value(-3.0, label='b')
    y = a * b
    y.backward()
    assert draw_dot(y, highlight=np.int64(1), max_nodes=np.int32(3)).source == \
        draw_dot(y, highlight=1, max_nodes=3).source


def drawn_texts(dot):
    """every text dot draws in the SVG, as a browser reads it"""
    svg = dot.pipe(format='svg', encoding='utf-8')
    return [html.unescape(t) for t in re.findall(r'<text[^>]*>([^<]*)</text>', svg)]


AS_TYPED = ['&amp;', 'a & b', '&lt;b&gt;', '&#65;', '\\N', '\\G', 'x\\ly', 'w|{1}<2> "q" \\', '<b>x</b>',
            'tail\\', 'uni \u2202 \U0001F600', 'del\x7f']


@needs_dot
@pytest.mark.parametrize("label", AS_TYPED)
def test_a_label_renders_exactly_as_typed_by_dot(label):
    # dot reads &amp; as an entity and \N as the node's name: both were drawn as something else
    assert drawn_texts(draw_dot(Value(1.0, label=label)))[0] == label


@needs_dot
def test_an_op_name_renders_exactly_as_typed_by_dot():
    a = Value(2.0, label='a')
    for op in ['&amp;', '<lambda>', 'f\\N']:
        out = Value(1.0, (a,), op)
        assert op in drawn_texts(draw_dot(out))


@needs_dot
def test_a_label_with_a_line_break_renders_as_two_lines():
    assert drawn_texts(draw_dot(Value(1.0, label='line\nbreak')))[:2] == ['line', 'break']


@pytest.mark.parametrize("label, char", [('nul\x00x', '\x00'), ('tab\there', '\t'), ('cr\rx', '\r'),
                                         ('esc\x1bx', '\x1b'), ('half \ud800', '\ud800')])
def test_a_label_dot_cannot_draw_is_refused_naming_the_value_and_the_character(label, char):
    # dot failed with a syntax error on the NUL and dropped the others silently; a surrogate can't be UTF-8
    x = Value(1.0)
    y = x * Value(2.0, label=label)
    with pytest.raises(ValueError) as info:
        draw_dot(y)
    assert str(info.value).startswith(f"the label of value #1 is {label!r}, and dot cannot draw the character "
                                      f"{char!r} (U+{ord(char):04X})")


def test_an_op_name_dot_cannot_draw_is_refused_naming_the_value():
    out = Value(1.0, (Value(2.0),), 'f\x00')
    with pytest.raises(ValueError, match=re.escape("the op name of value #1 is 'f\\x00'")):
        draw_dot(out)
