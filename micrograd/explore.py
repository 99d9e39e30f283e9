"""The explorer: a page that steps through a Value's forward and backward pass, value by value,
with the numbers the engine computed. explorer.html, beside this file, is the page's template."""
import html
import importlib.resources
import json
import math
import numbers
import operator
import os
import re

from micrograd import engine
from micrograd.engine import Value, amax, select
from micrograd.floats import as_float
from micrograd.serialize import write_atomically
from micrograd.viz import add_graph, digraph, label_text, trace_to_draw


def explore(root, params=None, nudge=0.01, max_nodes=500):
    """an interactive page that steps through root's forward and backward pass, value by value

    Returns an Explorer: Jupyter shows it inline, .save(path) writes one self-contained HTML file
    (no network when viewed). Graphviz lays the graph out left to right now, as draw_dot does;
    every number on the page is one the engine computed here, in Python.

    params: the values coloured as parameters and moved by the nudge button (a list of leaves,
        or one); the other leaves are inputs. None tells no leaf apart: every leaf is drawn alike,
        as draw_dot draws them, and nudge moves the leaves that have a label, as the lecture
        nudges a, b, c and f by hand; the page says so. Values root does not depend on are ignored.
    nudge: the nudge button's step, the lecture's: each parameter's data += nudge * grad.
    max_nodes: refuse graphs with more values than this, as draw_dot does; None lays out any size.

    The grads shown are one backward() from zero, d(root)/d(value), whatever .grad held before;
    explore runs the graph's own backward functions to record them and then puts every .grad back.
    """
    graph = digraph('explore', graph_attr=_LAYOUT_GRAPH, node_attr=_LAYOUT_NODES)
    nudge = _as_nudge(nudge)
    nodes, edges = trace_to_draw(root, max_nodes, 'explore')

    index = {v: i for i, v in enumerate(nodes)}
    moved = _parameters(nodes, index, params)
    names = [label_text(v) or f'#{i}' for i, v in enumerate(nodes)]
    ops = [_engine_op(v) for v in nodes]
    steps, grads = _record_backward(nodes, index, ops)
    forward = [{'phase': 'forward', 'node': i, 'text': _forward_text(v, index)} for i, v in enumerate(nodes)]
    parents = _parents(nodes, edges, index)
    data = {
        'root': names[-1],
        'params_given': params is not None,
        'nodes': [_node_entry(v, i, names, index, _role(v, moved, params), grads[i], parents[i])
                  for i, v in enumerate(nodes)],
        'steps': forward + steps,
        'nudge': _nudge(nodes, moved, grads, nudge, ops, params is not None),
    }
    data['layout'] = _layout(graph, nodes, edges, data)
    return Explorer(_page(data), data['layout']['height'], names[-1], len(nodes))


class Explorer:
    """the page explore() made: Jupyter shows it inline, save(path) writes it as one HTML file"""

    def __init__(self, page, height, root='', count=0):
        self.page = page  # the whole HTML document, script and style inline
        self._height, self._root, self._count = height, root, count

    def save(self, path):
        """write the page to path (str, bytes or os.PathLike), returned as a str; it opens offline in
        any browser

        Written as micrograd.save writes a model: to a temporary file beside path, flushed to disk,
        then renamed over path, so an error (a page that cannot be encoded, a full disk) leaves the
        old file as it was. A symlink writes the file it points to; a file replaced keeps its
        permission bits.
        """
        path = os.fsdecode(path)  # not pathlib.Path: Path('') is '.', and the error would name '.'
        write_atomically(path, self.page)
        return path

    def __repr__(self):
        # what print() shows outside Jupyter, where no page appears
        return (f"<micrograd explorer of {self._root[:40]!r}, {self._count} values: "
                f".save('explorer.html') writes the page, then open that file in a browser "
                f"(Jupyter shows it inline)>")

    def _repr_html_(self):
        # a frame of its own: the notebook's styles stay out, and its sanitizer sees no script
        height = min(max(self._height + 190, 420), 760)
        return (f'<iframe srcdoc="{html.escape(self.page, quote=True)}" sandbox="allow-scripts" '
                f'style="width: 100%; height: {height}px; border: 1px solid #ddd"></iframe>')


def _as_nudge(nudge):
    """nudge as a Python float (a numpy.float32 step would nudge in float32), if it is finite"""
    # bool and non-numbers are refused here, as a ValueError like inf, before as_float's TypeError
    step = None if isinstance(nudge, bool) or not isinstance(nudge, numbers.Real) else as_float(nudge, 'nudge')
    if step is None or not math.isfinite(step):
        raise ValueError(f"nudge must be a finite number (the step along each gradient), got {nudge!r}")
    return step


def _parameters(nodes, index, params):
    """the leaves nudge moves: the given ones, or by default the labelled leaves"""
    if params is None:
        return {v for v in nodes if not v._prev and v.label}
    if isinstance(params, Value):
        params = [params]  # one parameter, as gradcheck takes one input
    elif not hasattr(params, '__iter__'):
        raise TypeError(f"params must be None, a Value or a list of Values, got {type(params).__name__}")
    chosen = set()
    for k, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"params[{k}] must be a Value, got {type(p).__name__}")
        if p in index:  # a value root does not depend on is ignored, computed or not
            if p._prev:
                raise ValueError(f"params[{k}] ({p.label or p._op}) is computed from other values; "
                                 f"parameters are leaves")
            chosen.add(p)
    return chosen


def _role(v, moved, params):
    """how the page colours v: only params= tells parameters from inputs"""
    if v._prev:
        return 'intermediate'
    if params is None:
        return 'leaf'
    return 'parameter' if v in moved else 'input'


def _ref(i):
    """a value's name in a text: the page shows it as the box shows it, set apart from the words"""
    return {'value': i}


def _record_backward(nodes, index, ops):
    """each backward step's grads, and what each op passed to each child, from the graph's own
    backward functions run as one backward() from zero grads; every .grad is put back after"""
    saved = [v.grad for v in nodes]
    root, r = nodes[-1], len(nodes) - 1
    try:
        for v in nodes:
            v.grad = 0.0
        root.grad += 1.0  # what backward() seeds
        steps = [{'phase': 'backward', 'node': r, 'grads': [_grad_entry(r, root.grad)],
                  'text': [_ref(r), f".grad = {_short(root.grad)}: d", _ref(r), "/d", _ref(r), " = 1"]}]
        for v in reversed(nodes):
            if not v._prev:
                continue  # a leaf's backward passes nothing on
            children = list(dict.fromkeys(v._prev))  # a * a: one entry for a, both contributions
            running = [c.grad for c in children]
            for c in children:
                c.grad = 0.0
            v._backward()  # alone, from zero: what this op passes to each child
            passed = [c.grad for c in children]
            for c, g in zip(children, running):
                c.grad = g
            v._backward()  # again, adding to the running sums exactly as backward() does
            i = index[v]
            steps.append({'phase': 'backward', 'node': i,
                          'grads': [_grad_entry(index[c], c.grad) for c in children],
                          'text': ["backward through ", _ref(i), " = ", *_expression(v, index), ", ",
                                   _ref(i), f".grad = {_short(v.grad)}"],
                          'terms': [_backward_line(v, c, p, index[c], ops[i]) for c, p in zip(children, passed)]})
        grads = [v.grad for v in nodes]
    finally:
        for v, g in zip(nodes, saved):
            v.grad = g
    return steps, grads


def _grad_entry(i, grad):
    return [i, _short(grad), repr(grad)]


def _short(x):
    """x with 4 significant digits, as the page shows it: 0.7071, 1.0, −3.0 (a real minus sign)"""
    text = f'{x:.4g}'
    if text.lstrip('-').isdigit():
        text += '.0'
    return text.replace('-', '\u2212')


def _dot(*values):  # engine.dot's operands as its node keeps them: the ws, then the xs
    half = len(values) // 2
    return engine.dot(values[:half], values[half:])


# the engine's ops by _op name, to recompute a graph from new leaf data with the engine's own arithmetic
_REPLAYS = {
    '+': operator.add, '*': operator.mul, 'tanh': Value.tanh, 'exp': Value.exp, 'log': Value.log,
    'ReLU': Value.relu, 'sigmoid': Value.sigmoid, 'softplus': Value.softplus, 'abs': Value.abs,
    'max': lambda *values: amax(values), 'select': lambda *args: select(args[:-1], args[-1]), 'dot': _dot,
}


def _apply(op, children):
    """the engine's op named op (an _op, or '/') applied to children; None when no engine op has that
    name, or the engine refuses the numbers (log of a negative, a select index out of range)"""
    try:
        if op == '/':  # a / b, drawn as a * b**-1: the divisor is the child of the b**-1 node
            return children[0] / children[1]._prev[0]
        if op in _REPLAYS:
            return _REPLAYS[op](*children)
        if op.startswith('**') and len(children) == 1:
            return children[0] ** _number(op[2:])
        if op.endswith('**') and len(children) == 1:
            return _number(op[:-2]) ** children[0]
    except (ArithmeticError, ValueError, TypeError, IndexError):
        pass
    return None


def _number(text):
    try:
        return int(text)
    except ValueError:
        return float(text)


def _replay(nodes, ops, leaf_data):
    """every node rebuilt by the engine's ops from leaf_data (a number per node, leaves' used);
    None when an op is not the engine's, or the engine refuses the numbers"""
    made = {}
    for v, op, x in zip(nodes, ops, leaf_data):
        made[v] = Value(x) if not v._prev else _apply(op, [made[c] for c in v._prev])
        if made[v] is None:
            return None
    return [made[v] for v in nodes]


def _engine_op(v):
    """the engine op that made v, as _apply names it: v's _op, or '/' for a division drawn as
    a * b**-1; None for a leaf, or when no engine op of that name, on v's children, gives v's
    number and backward function (a custom op). Only an engine op's gradient is explained by its
    formula, and only a graph of engine ops is recomputed by the nudge"""
    if not v._prev:
        return None
    prev = v._prev
    division = v._op == '*' and len(prev) == 2 and prev[1]._op == '**-1' and len(prev[1]._prev) == 1
    for op in [v._op] + (['/'] if division else []):
        again = _apply(op, prev)
        if again is not None and _same_number(v.data, again.data) and v._grad_fn is again._grad_fn:
            return op
    return None


def _same_number(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def _parents(nodes, edges, index):
    """for each value, the values made from it, each once, in graph order"""
    parents = [[] for _ in nodes]
    for child, v in edges:
        if index[v] not in parents[index[child]]:
            parents[index[child]].append(index[v])
    return parents


def _node_entry(v, i, names, index, role, grad, parents):
    return {'name': names[i], 'label': label_text(v), 'op': v._op, 'role': role,
            'data': _short(v.data), 'data_full': repr(v.data), 'grad': _short(grad), 'grad_full': repr(grad),
            'children': [index[c] for c in v._prev], 'parents': parents}


def _forward_text(v, index):
    """v = how it was made, by name, then with the numbers, then its data: o = tanh(n) = tanh(0.8814) = 0.7071"""
    if not v._prev:
        return [_ref(index[v]), f" = {_short(v.data)}, a leaf"]
    return [_ref(index[v]), " = ", *_expression(v, index), " = ", *_expression(v, index, data=True),
            f" = {_short(v.data)}"]


def _expression(v, index, data=False):
    """how v was made, with its children's names (as references), or their data"""
    xs = [_short(c.data) if data else _ref(index[c]) for c in v._prev]
    op = v._op
    if op in ('+', '*') and len(xs) == 2:
        return [xs[0], ' + ' if op == '+' else ' × ', xs[1]]
    if op == 'dot' and len(xs) % 2 == 0:  # w0 × x0 + w1 × x1 + ...
        half = len(xs) // 2
        return _joined([[w, ' × ', x] for w, x in zip(xs[:half], xs[half:])], ' + ')
    if op.startswith('**') and len(xs) == 1:
        return ['(', xs[0], f'){op}']
    if op.endswith('**') and len(xs) == 1:
        return [f'{op}(', xs[0], ')']
    return [f'{op}(', *_joined([[x] for x in xs], ', '), ')']


def _joined(groups, separator):
    parts = []
    for k, group in enumerate(groups):
        parts += ([separator] if k else []) + group
    return parts


def _backward_line(v, child, passed, child_index, op):
    """what v's op passed to child, as its local derivative with the numbers: tanh: (1 − 0.7071²) × 1.0"""
    # a * a passes to a twice: both terms, then their sum
    terms = [_local_derivative(v, k, op) for k, c in enumerate(v._prev) if c is child] if op else [None]
    if None in terms:  # a custom op: its name and the number its backward passed
        return [f"{v._op}: {_short(passed)} \u2192 ", _ref(child_index)]
    formulas, with_numbers = zip(*terms)
    return [f"{v._op}: {' + '.join(formulas)} = {' + '.join(with_numbers)} = {_short(passed)} \u2192 ",
            _ref(child_index)]


# each one-operand op's gradient, from x = a.data, y = out.data, g = out.grad as the page shows them:
# (the formula, the formula with the numbers), both as the engine's backward function computes it
_UNARY_DERIVATIVES = {
    'tanh': lambda x, y, g: ('(1 − out²) × grad', f'(1 − {y}²) × {g}'),
    'exp': lambda x, y, g: ('out × grad', f'{y} × {g}'),
    'log': lambda x, y, g: ('grad / x', f'{g} / {x}'),
    'sigmoid': lambda x, y, g: ('out × (1 − out) × grad', f'{y} × (1 − {y}) × {g}'),
    'softplus': lambda x, y, g: ('sigmoid(x) × grad', f'sigmoid({x}) × {g}'),
    'ReLU': lambda x, y, g: ('(out > 0) × grad', f'({y} > 0) × {g}'),
    'abs': lambda x, y, g: ('sign(x) × grad', f'sign({x}) × {g}'),
}


def _local_derivative(out, k, op):
    """(formula, the formula with numbers) of the gradient out's op (as _engine_op names it) passes
    to its k-th child"""
    prev, g = out._prev, _short(out.grad)
    x, y = _short(prev[k].data), _short(out.data)
    if op in _UNARY_DERIVATIVES:
        return _UNARY_DERIVATIVES[op](x, y, g)
    if op == '+':
        return 'grad × 1', f'{g} × 1'
    if op == '*' or op == '/' and k == 1:  # a / b passes a × grad to its b**-1, as a * b**-1 would
        return 'grad × other.data', f'{g} × {_short(prev[1 - k].data)}'
    if op == '/':  # and to a, grad / b: exact where b**-1 is not
        return 'grad / b', f'{g} / {_short(prev[1]._prev[0].data)}'
    if op == 'dot':  # w_i gets x_i × grad, x_i gets w_i × grad: the factor it was multiplied by
        half = len(prev) // 2
        return 'grad × other.data', f'{g} × {_short(prev[k + half if k < half else k - half].data)}'
    if op == 'max':  # the tied winners share the gradient
        winners = sum(c.data == out.data for c in prev)
        return ('grad / ties', f'{g} / {winners}') if prev[k].data == out.data else ('0 (not the largest)', '0')
    if op == 'select':  # the chosen value gets it all; the index, a position, gets none
        if k == len(prev) - 1:
            return '0 (the index)', '0'
        return ('grad', g) if k == int(prev[-1].data) else ('0 (not selected)', '0')
    if op.startswith('**'):
        n = op[2:]
        return 'n × x^(n − 1) × grad', f'{n} × ({x})^({n} − 1) × {g}'
    if op.endswith('**'):
        base = op[:-2]
        return f'out × ln({base}) × grad', f'{y} × ln({base}) × {g}'
    return None


def _nudge(nodes, moved, grads, step, ops, params_given):
    """the lecture's step, parameters += step * grad, and every value recomputed by the engine"""
    custom = [v._op for v, op in zip(nodes, ops) if v._prev and not op]
    if not moved:
        return {'available': False, 'reason': "no parameters to nudge (label leaves, or pass params)"}
    if custom:
        return {'available': False, 'reason': f"the engine cannot recompute the op {custom[0]!r}"}
    data = [v.data + step * g if v in moved else v.data for v, g in zip(nodes, grads)]
    replayed = _replay(nodes, ops, data)
    if replayed is None:
        return {'available': False, 'reason': "the engine refuses the nudged numbers"}
    old, new = nodes[-1].data, replayed[-1].data
    which = [f"each parameter's data += {step} × grad: "] if params_given else \
        ([f"no params= given, so each labelled leaf's data += {step} × grad ("]
         + _joined([[_ref(i)] for i, v in enumerate(nodes) if v in moved], ', ') + ["): "])
    text = which + [_ref(len(nodes) - 1),
                    f" {_short(old)} \u2192 {_short(new)} ({'+' if new >= old else ''}{_short(new - old)})"]
    return {'available': True, 'text': text, 'moved': [i for i, v in enumerate(nodes) if v in moved],
            'data': [[_short(r.data), repr(r.data)] for r in replayed]}


# the page draws the text in the same size, monospaced; boxes, ellipses and the gaps between them are
# smaller than dot's defaults (sizes in inches), so more of the graph fits a window at full size
_LAYOUT_GRAPH = {'rankdir': 'LR', 'ranksep': '0.3', 'nodesep': '0.2'}
_LAYOUT_NODES = {'fontname': 'Courier', 'fontsize': '12', 'margin': '0.06,0.04', 'width': '0.45', 'height': '0.36'}
_MARGIN = 12
_LINE, _CHAR = 15, 7.5  # a callout's line height and (at most) its characters' width, 12 px monospace


def _layout(graph, nodes, edges, data):
    """boxes and edge curves in page coordinates, from Graphviz laying out draw_dot's graph

    Each label is as many x's as the widest text the page will put there: Graphviz needs only
    the size, and no label text goes through dot's escaping. Above the graph, a strip no box
    enters, as high and as wide as the largest callout: there is always a place for the callout
    that covers no box.
    """
    widths = _text_widths(data)
    add_graph(graph, nodes, edges, [{'label': 'x' * w, 'shape': 'box'} for w in widths],
              ['x' * len(v._op) for v in nodes])
    drawn = json.loads(graph.pipe(format='json'))

    _, _, width, height = (float(x) for x in drawn['bb'].split(','))
    callout_width, callout_height = _callout_size(data)
    room = callout_height + _MARGIN if callout_height else 0

    def point(x, y):  # Graphviz's y grows upward, the page's downward
        return round(x + _MARGIN, 2), round(height - y + _MARGIN + room, 2)

    values, ops = _boxes(drawn['objects'], point, len(nodes))
    return {'width': round(max(width, callout_width) + 2 * _MARGIN, 2),
            'height': round(height + 2 * _MARGIN + room, 2), 'callout_room': room,
            'values': values, 'ops': ops, 'edges': _curves(drawn, point)}


def _callout_size(data):
    """the width and height the largest callout (an op's terms, 12 px text) can take"""
    terms = [s['terms'] for s in data['steps'] if s.get('terms')]
    if not terms:
        return 0, 0
    names = [n['name'] for n in data['nodes']]
    chars = max(len(_plain(line, names)) for lines in terms for line in lines)
    return chars * _CHAR + 12, max(map(len, terms)) * _LINE + 8


def _plain(parts, names):
    return ''.join(names[p['value']] if isinstance(p, dict) else p for p in parts)


def _boxes(objects, point, count):
    """[x, y, width, height] of each value's box and each op's ellipse (None for a leaf), centred"""
    values, ops = [None] * count, [None] * count
    for obj in objects:
        x, y = point(*(float(c) for c in obj['pos'].split(',')))
        box = [x, y, round(float(obj['width']) * 72, 2), round(float(obj['height']) * 72, 2)]  # inches
        (ops if obj['name'].endswith('op') else values)[_node_number(obj['name'])] = box
    return values, ops


def _curves(drawn, point):
    """each arrow as an SVG path and its head's polygon, with the values it joins: an arrow into an
    op has the child as tail; the op's arrow into its value has tail None"""
    names = [obj['name'] for obj in drawn['objects']]
    curves = []
    for edge in drawn.get('edges', []):  # a lone leaf has none
        tail, head = names[edge['tail']], names[edge['head']]
        path = ' '.join(_svg_path(op['points'], point) for op in edge['_draw_'] if op['op'] == 'b')
        arrow = ' '.join('%s,%s' % point(*p) for op in edge.get('_hdraw_', []) if op['op'] == 'P'
                         for p in op['points'])
        curves.append({'tail': None if tail.endswith('op') else _node_number(tail),
                       'head': _node_number(head), 'path': path, 'arrow': arrow})
    return curves


def _node_number(name):
    return int(name[1:].removesuffix('op'))  # 'n12' and 'n12op' belong to value 12


def _svg_path(points, point):
    first, *rest = (point(*p) for p in points)
    return f'M{first[0]},{first[1]} C' + ' '.join(f'{x},{y}' for x, y in rest)


def _text_widths(data):
    """per value, the most characters its box will show: name │ data X │ grad Y"""
    grad_width = [1] * len(data['nodes'])
    for step in data['steps']:
        for i, short, _ in step.get('grads', []):
            grad_width[i] = max(grad_width[i], len(short))
    nudged = data['nudge'].get('data') or [['']] * len(data['nodes'])
    widths = []
    for entry, g, (moved, *_) in zip(data['nodes'], grad_width, nudged):
        data_width = max(len(entry['data']), len(moved), 1)
        widths.append(len(entry['name']) + len(' │ data ') + data_width + len(' │ grad ') + g + 1)
    return widths


# what the page's JSON must not hold raw: <, > and & (a label holding </script> or <!-- stays inside
# its string) and lone surrogates (a page that UTF-8 cannot encode could not be saved)
_UNSAFE_IN_PAGE = re.compile('[<>&\ud800-\udfff]')


def _page(data):
    """the page template with the data inside, as JSON no browser reads as markup or script"""
    text = json.dumps(data, ensure_ascii=False, separators=(',', ':'), allow_nan=False)
    text = _UNSAFE_IN_PAGE.sub(lambda m: f'\\u{ord(m.group()):04x}', text)
    template = importlib.resources.files('micrograd').joinpath('explorer.html').read_text(encoding='utf-8')
    return template.replace('"__MICROGRAD_DATA__"', text, 1)
