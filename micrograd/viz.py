"""Drawing the graph behind a Value: trace walks it, draw_dot lays it out with graphviz,
explore makes a page that steps through its forward and backward pass."""
import contextlib
import functools
import html
import importlib.resources
import json
import math
import numbers
import operator
import os

from micrograd.engine import Value, amax, select, topological_order
from micrograd.floats import as_float, is_int

_RANKDIRS = ('LR', 'RL', 'TB', 'BT')
_DOT_HINT = ("the dot program comes with Graphviz, a system package that pip does not install: "
             "apt-get install graphviz, brew install graphviz or conda install graphviz "
             "(https://graphviz.org/download/)")


def trace(root):
    """every Value root depends on, each after its children, and every (child, parent) edge"""
    _check_root(root, 'trace')
    nodes = topological_order(root)  # the walk backward() takes: iterative, same order every run
    # one edge per entry of _prev, so a * a shows both arrows its gradient flows back along
    edges = [(child, v) for v in nodes for child in v._prev]
    return nodes, edges


def draw_dot(root, format='svg', rankdir='LR', show_grad=True, highlight=0, max_nodes=500):
    """the graph behind root as a graphviz.Digraph: shown inline in Jupyter, .render() writes a file

    format: what .render() and .pipe() produce ('svg', 'png', 'pdf', ...).
    rankdir: 'LR' draws inputs on the left, 'TB' on top ('RL', 'BT' reverse them).
    show_grad: False leaves grad out of the value boxes, e.g. before backward().
    highlight: fill the boxes of the k values with the largest |grad| (nan first).
    max_nodes: refuse graphs with more values than this, since dot takes minutes on
        thousands of nodes and the picture is unreadable long before; None draws any size.
    """
    graphviz = _import_graphviz('draw_dot')
    _check_root(root, 'draw_dot')
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if not is_int(highlight) or highlight < 0:
        raise ValueError(f"highlight must be a count of nodes (an int >= 0), got {highlight!r}")
    highlight, max_nodes = int(highlight), _as_max_nodes(max_nodes)

    nodes, edges = trace(root)
    _check_size(nodes, max_nodes)

    by_grad = sorted(enumerate(nodes), key=_grad_rank)
    highlighted = {v for _, v in by_grad[:highlight]}

    dot = _digraph_class(graphviz)(format=format, graph_attr={'rankdir': rankdir})
    boxes = [_record(v, show_grad, v in highlighted) for v in nodes]
    _add_graph(dot, nodes, edges, boxes, [graphviz.nohtml(v._op.replace('\\', '\\\\')) for v in nodes])
    return dot


def _record(v, show_grad, highlighted):
    """the attributes of v's box in draw_dot: label | data | grad, gold when highlighted"""
    fields = [_escape_record(_label_text(v))] if v.label else []
    fields.append(f'data {v.data:.4f}')
    if show_grad:
        fields.append(f'grad {v.grad:.4f}')
    style = {'style': 'filled', 'fillcolor': 'gold'} if highlighted else {}
    return {'label': '{ ' + ' | '.join(fields) + ' }', 'shape': 'record', **style}


def _add_graph(dot, nodes, edges, boxes, op_labels):
    """the graph draw_dot draws and explore lays out: value i is node n{i} with attributes boxes[i];
    its op gets a node of its own, n{i}op labelled op_labels[i], fed by the children, feeding the result"""
    index = {v: i for i, v in enumerate(nodes)}  # traversal order, never id(): stable text
    for i, v in enumerate(nodes):
        dot.node(f'n{i}', **boxes[i])
        if v._op:
            dot.node(f'n{i}op', label=op_labels[i])
            dot.edge(f'n{i}op', f'n{i}')
    for child, v in edges:
        dot.edge(f'n{index[child]}', f'n{index[v]}op' if v._op else f'n{index[v]}')


def _check_root(root, who):
    if not isinstance(root, Value):
        hint = " (a layer of several neurons returns a list: pick one, or sum them)" \
            if isinstance(root, (list, tuple)) else ""
        raise TypeError(f"{who} needs a Value, got {type(root).__name__}{hint}")


def _grad_rank(item):
    # nan first (it is what one looks for), then largest |grad|, ties by traversal order
    i, v = item
    return (0, i) if math.isnan(v.grad) else (1, -abs(v.grad), i)


def _escape_record(text):
    # these characters lay out a record's fields; a label containing them must show as typed
    for c in '\\{}|<>"':
        text = text.replace(c, '\\' + c)
    return text.replace('\n', '\\n')


@functools.lru_cache(maxsize=None)
def _digraph_class(graphviz):
    """a graphviz.Digraph whose rendering, when dot is missing, says how to install it"""

    class Digraph(graphviz.Digraph):
        # render, view (through render), pipe and Jupyter's display (through pipe) all run dot
        def render(self, *args, **kwargs):
            with _hint_if_dot_missing(graphviz):
                return super().render(*args, **kwargs)

        def pipe(self, *args, **kwargs):
            with _hint_if_dot_missing(graphviz):
                return super().pipe(*args, **kwargs)

    Digraph.__module__, Digraph.__qualname__ = __name__, 'Digraph'  # a readable type() in Jupyter
    return Digraph


@contextlib.contextmanager
def _hint_if_dot_missing(graphviz):
    """graphviz's ExecutableNotFound, its type and message kept, with the install hint added"""
    try:
        yield
    except graphviz.ExecutableNotFound as e:
        if _DOT_HINT not in str(e):
            e.args = (f"{e}; {_DOT_HINT}",)
        raise


def explore(root, params=None, nudge=0.01, max_nodes=500):
    """an interactive page that steps through root's forward and backward pass, value by value

    Returns an Explorer: Jupyter shows it inline, .save(path) writes one self-contained HTML file
    (no network when viewed). Graphviz lays the graph out left to right now, as draw_dot does;
    every number on the page is one the engine computed here, in Python.

    params: the values coloured as parameters and moved by the nudge button (a list of leaves,
        or one); None takes the leaves that have a label. Values root does not depend on are ignored.
    nudge: the nudge button's step, the lecture's: each parameter's data += nudge * grad.
    max_nodes: refuse graphs with more values than this, as draw_dot does; None lays out any size.

    The grads shown are one backward() from zero, d(root)/d(value), whatever .grad held before;
    explore runs the graph's own backward functions to record them and then puts every .grad back.
    """
    graphviz = _import_graphviz('explore')
    _check_root(root, 'explore')
    max_nodes, nudge = _as_max_nodes(max_nodes), _as_nudge(nudge)
    nodes, edges = trace(root)
    _check_size(nodes, max_nodes)

    index = {v: i for i, v in enumerate(nodes)}
    params = _parameters(nodes, index, params)
    names = [_label_text(v) or f'#{i}' for i, v in enumerate(nodes)]
    engine_made = [_made_by_engine(v) for v in nodes]
    steps, grads = _record_backward(nodes, index, names, engine_made)
    forward = [{'phase': 'forward', 'node': i, 'text': _forward_text(v, names, index)}
               for i, v in enumerate(nodes)]
    parents = _parents(nodes, edges, index)
    data = {
        'root': names[-1],
        'nodes': [_node_entry(v, i, names, index, params, grads[i], parents[i]) for i, v in enumerate(nodes)],
        'steps': forward + steps,
        'nudge': _nudge(nodes, params, grads, nudge, engine_made, names),
    }
    data['layout'] = _layout(graphviz, nodes, edges, data)
    return Explorer(_page(data), data['layout']['height'])


class Explorer:
    """the page explore() made: Jupyter shows it inline, save(path) writes it as one HTML file"""

    def __init__(self, page, height):
        self.page = page  # the whole HTML document, script and style inline
        self._height = height

    def save(self, path):
        """write the page to path (str, bytes or os.PathLike), returned as a str; it opens offline in any browser"""
        path = os.fsdecode(path)  # not pathlib.Path: Path('') is '.', and the error would name '.'
        with open(path, 'w', encoding='utf-8') as f:
            f.write(self.page)
        return path

    def _repr_html_(self):
        # a frame of its own: the notebook's styles stay out, and its sanitizer sees no script
        height = min(max(self._height + 150, 360), 760)
        return (f'<iframe srcdoc="{html.escape(self.page, quote=True)}" sandbox="allow-scripts" '
                f'style="width: 100%; height: {height}px; border: 1px solid #ddd"></iframe>')


def _import_graphviz(who):
    try:
        import graphviz
    except ImportError:
        raise ImportError(f"{who} needs the graphviz package: pip install 'micrograd[viz]'") from None
    return graphviz


def _label_text(v):
    """a label as both pictures show it: str() of any object (a nan, bytes), nothing when it is falsy"""
    return str(v.label) if v.label else ''


def _as_max_nodes(max_nodes):
    """None, or max_nodes as an int (a NumPy integer too, as MLP sizes)"""
    if max_nodes is None:
        return None
    if not is_int(max_nodes) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    return int(max_nodes)


def _as_nudge(nudge):
    """nudge as a Python float (a numpy.float32 step would nudge in float32), if it is finite"""
    # bool and non-numbers are refused here, as a ValueError like inf, before as_float's TypeError
    step = None if isinstance(nudge, bool) or not isinstance(nudge, numbers.Real) else as_float(nudge, 'nudge')
    if step is None or not math.isfinite(step):
        raise ValueError(f"nudge must be a finite number (the step along each gradient), got {nudge!r}")
    return step


def _check_size(nodes, max_nodes):
    if max_nodes is not None and len(nodes) > max_nodes:
        raise ValueError(
            f"the graph has {len(nodes)} values, more than max_nodes={max_nodes}: dot would take "
            f"long and the picture would be unreadable. Draw a smaller part (one sample, one "
            f"neuron), or pass max_nodes={len(nodes)} (or None) to draw it anyway")


def _parameters(nodes, index, params):
    """the set of parameter nodes: the given leaves, or by default the labelled leaves"""
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


def _record_backward(nodes, index, names, engine_made):
    """each backward step's grads, and what each op passed to each child, from the graph's own
    backward functions run as one backward() from zero grads; every .grad is put back after"""
    saved = [v.grad for v in nodes]
    root = nodes[-1]
    try:
        for v in nodes:
            v.grad = 0.0
        root.grad += 1.0  # what backward() seeds
        steps = [{'phase': 'backward', 'node': index[root], 'grads': [_grad_entry(index[root], root.grad)],
                  'text': f"{names[-1]}.grad = {_short(root.grad)}: d{names[-1]}/d{names[-1]} = 1"}]
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
            made = engine_made[index[v]]
            steps.append({'phase': 'backward', 'node': index[v],
                          'grads': [_grad_entry(index[c], c.grad) for c in children],
                          'text': f"backward through {names[index[v]]} = {_expression(v, names, index)}, "
                                  f"{names[index[v]]}.grad = {_short(v.grad)}",
                          'terms': [_backward_line(v, c, p, names[index[c]], made)
                                    for c, p in zip(children, passed)]})
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


# the engine's ops by _op name, to recompute a graph from new leaf data with the engine's own arithmetic
_REPLAYS = {
    '+': operator.add, '*': operator.mul, 'tanh': Value.tanh, 'exp': Value.exp, 'log': Value.log,
    'ReLU': Value.relu, 'sigmoid': Value.sigmoid, 'softplus': Value.softplus, 'abs': Value.abs,
    'max': lambda *values: amax(values), 'select': lambda *args: select(args[:-1], args[-1]),
}


def _replay_op(op, children):
    """the engine's op named op applied to children; None when no engine op has that name, or the
    engine refuses the numbers (log of a negative, a select index out of range)"""
    try:
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


def _replay(nodes, leaf_data):
    """every node rebuilt by the engine's ops from leaf_data (a number per node, leaves' used);
    None when an op is not the engine's, or the engine refuses the numbers"""
    made = {}
    for v, x in zip(nodes, leaf_data):
        made[v] = Value(x) if not v._prev else _replay_op(v._op, [made[c] for c in v._prev])
        if made[v] is None:
            return None
    return [made[v] for v in nodes]


def _made_by_engine(v):
    """whether the engine's op of v's name, on v's children, gives v's number and backward function:
    only then may the page explain v's gradient by that op's formula, and the nudge recompute v"""
    if not v._prev:
        return False
    again = _replay_op(v._op, v._prev)
    return again is not None and _same_number(v.data, again.data) and v._grad_fn is again._grad_fn


def _same_number(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


def _parents(nodes, edges, index):
    """for each value, the values made from it, each once, in graph order"""
    parents = [[] for _ in nodes]
    for child, v in edges:
        if index[v] not in parents[index[child]]:
            parents[index[child]].append(index[v])
    return parents


def _node_entry(v, i, names, index, params, grad, parents):
    role = 'parameter' if v in params else 'input' if not v._prev else 'intermediate'
    return {'name': names[i], 'label': _label_text(v), 'op': v._op, 'role': role,
            'data': _short(v.data), 'data_full': repr(v.data), 'grad': _short(grad), 'grad_full': repr(grad),
            'children': [index[c] for c in v._prev], 'parents': parents}


def _forward_text(v, names, index):
    if not v._prev:
        return f"{names[index[v]]} = {_short(v.data)}, a leaf"
    return f"{names[index[v]]} = {_expression(v, names, index, data=True)} = {_short(v.data)}"


def _expression(v, names, index, data=False):
    """how v was made, with its children's names, or their data"""
    xs = [_short(c.data) if data else names[index[c]] for c in v._prev]
    op = v._op
    if op in ('+', '*') and len(xs) == 2:
        return f"{xs[0]} {'+' if op == '+' else '×'} {xs[1]}"
    if op.startswith('**') and len(xs) == 1:
        return f"({xs[0]}){op}"
    if op.endswith('**') and len(xs) == 1:
        return f"{op}({xs[0]})"
    return f"{op}({', '.join(xs)})"


def _backward_line(v, child, passed, child_name, engine_made):
    """what v's op passed to child, as its local derivative with the numbers: tanh: (1 − 0.7071²) × 1.0"""
    # a * a passes to a twice: both terms, then their sum
    terms = [_local_derivative(v, k) for k, c in enumerate(v._prev) if c is child] if engine_made else [None]
    if None in terms:  # a custom op: its name and the number its backward passed
        return f"{v._op}: {_short(passed)} \u2192 {child_name}"
    formulas, with_numbers = zip(*terms)
    return f"{v._op}: {' + '.join(formulas)} = {' + '.join(with_numbers)} = {_short(passed)} \u2192 {child_name}"


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


def _local_derivative(out, k):
    """(formula, the formula with numbers) of the gradient out's op passes to its k-th child"""
    op, prev, g = out._op, out._prev, _short(out.grad)
    x, y = _short(prev[k].data), _short(out.data)
    if op in _UNARY_DERIVATIVES:
        return _UNARY_DERIVATIVES[op](x, y, g)
    if op == '+':
        return 'grad × 1', f'{g} × 1'
    if op == '*':
        return 'grad × other.data', f'{g} × {_short(prev[1 - k].data)}'
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


def _nudge(nodes, params, grads, step, engine_made, names):
    """the lecture's step, parameters += step * grad, and every value recomputed by the engine"""
    custom = [v._op for v, made in zip(nodes, engine_made) if v._prev and not made]
    if not params:
        return {'available': False, 'reason': "no parameters to nudge (label leaves, or pass params)"}
    if custom:
        return {'available': False, 'reason': f"the engine cannot recompute the op {custom[0]!r}"}
    moved = [v.data + step * g if v in params else v.data for v, g in zip(nodes, grads)]
    replayed = _replay(nodes, moved)
    if replayed is None:
        return {'available': False, 'reason': "the engine refuses the nudged numbers"}
    old, new = nodes[-1].data, replayed[-1].data
    text = (f"each parameter's data += {step} × grad: {names[-1]} {_short(old)} \u2192 {_short(new)} "
            f"({'+' if new >= old else ''}{_short(new - old)})")
    return {'available': True, 'text': text,
            'data': [[_short(r.data), repr(r.data)] for r in replayed]}


_LAYOUT_FONT = {'fontname': 'Courier', 'fontsize': '12'}  # the page draws the same size, monospaced
_MARGIN, _CALLOUT_ROOM = 12, 50  # room above the graph for the local-derivative callouts


def _layout(graphviz, nodes, edges, data):
    """boxes and edge curves in page coordinates, from Graphviz laying out draw_dot's graph

    Each label is as many x's as the widest text the page will put there: Graphviz needs only
    the size, and no label text goes through dot's escaping.
    """
    widths = _text_widths(data)
    dot = _digraph_class(graphviz)(graph_attr={'rankdir': 'LR'}, node_attr=_LAYOUT_FONT)
    _add_graph(dot, nodes, edges, [{'label': 'x' * w, 'shape': 'box'} for w in widths],
               ['x' * len(v._op) for v in nodes])
    drawn = json.loads(dot.pipe(format='json'))

    _, _, width, height = (float(x) for x in drawn['bb'].split(','))

    def point(x, y):  # Graphviz's y grows upward, the page's downward
        return round(x + _MARGIN, 2), round(height - y + _MARGIN + _CALLOUT_ROOM, 2)

    values, ops = _boxes(drawn['objects'], point, len(nodes))
    return {'width': round(width + 2 * _MARGIN, 2), 'height': round(height + 2 * _MARGIN + _CALLOUT_ROOM, 2),
            'values': values, 'ops': ops, 'edges': _curves(drawn, point)}


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
    """per value, the most characters its box will show: label │ data X │ grad Y"""
    grad_width = [1] * len(data['nodes'])
    for step in data['steps']:
        for i, short, _ in step.get('grads', []):
            grad_width[i] = max(grad_width[i], len(short))
    nudged = data['nudge'].get('data') or [['']] * len(data['nodes'])
    widths = []
    for entry, g, (moved, *_) in zip(data['nodes'], grad_width, nudged):
        label = len(entry['label']) + 3 if entry['label'] else 0
        widths.append(label + len('data ') + max(len(entry['data']), len(moved), 1) + len(' │ grad ') + g)
    return widths


def _page(data):
    """the page template with the data inside, as JSON no browser reads as markup or script"""
    text = json.dumps(data, ensure_ascii=False, separators=(',', ':'), allow_nan=False)
    for c in '<>&':  # so a label holding </script> or <!-- stays inside its JSON string
        text = text.replace(c, f'\\u{ord(c):04x}')
    template = importlib.resources.files('micrograd').joinpath('explorer.html').read_text(encoding='utf-8')
    return template.replace('"__MICROGRAD_DATA__"', text, 1)
