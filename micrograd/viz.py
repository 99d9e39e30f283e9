"""Drawing the graph behind a Value: trace walks it, draw_dot lays it out with graphviz.

The explorer page lives in micrograd.explore; `from micrograd.viz import explore` still works.
"""
import contextlib
import functools
import math

from micrograd.engine import Value, topological_order
from micrograd.floats import is_int

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

    Labels and op names show exactly as typed; one dot cannot draw (a control character such
    as a NUL or a tab, a lone surrogate) raises ValueError naming the value.
    """
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if not is_int(highlight) or highlight < 0:
        raise ValueError(f"highlight must be a count of nodes (an int >= 0), got {highlight!r}")
    dot = digraph('draw_dot', format=format, graph_attr={'rankdir': rankdir})
    import graphviz  # digraph found it: for nohtml, so an op named <lambda> is no HTML label
    nodes, edges = trace_to_draw(root, max_nodes, 'draw_dot')

    by_grad = sorted(enumerate(nodes), key=_grad_rank)
    highlighted = {v for _, v in by_grad[:int(highlight)]}
    boxes = [_record(v, i, show_grad, v in highlighted) for i, v in enumerate(nodes)]
    ops = [graphviz.nohtml(_escape_text(v._op, f"the op name of value #{i}")) for i, v in enumerate(nodes)]
    add_graph(dot, nodes, edges, boxes, ops)
    return dot


def _record(v, i, show_grad, highlighted):
    """the attributes of v's box in draw_dot: label | data | grad, gold when highlighted"""
    fields = [_escape_record(_escape_text(label_text(v), f"the label of value #{i}"))] if v.label else []
    fields.append(f'data {v.data:.4f}')
    if show_grad:
        fields.append(f'grad {v.grad:.4f}')
    style = {'style': 'filled', 'fillcolor': 'gold'} if highlighted else {}
    return {'label': '{ ' + ' | '.join(fields) + ' }', 'shape': 'record', **style}


def add_graph(dot, nodes, edges, boxes, op_labels):
    """the graph draw_dot draws and micrograd.explore lays out: value i is node n{i} with attributes
    boxes[i]; its op gets a node of its own, n{i}op labelled op_labels[i], fed by the children,
    feeding the result"""
    index = {v: i for i, v in enumerate(nodes)}  # traversal order, never id(): stable text
    for i, v in enumerate(nodes):
        dot.node(f'n{i}', **boxes[i])
        if v._op:
            dot.node(f'n{i}op', label=op_labels[i])
            dot.edge(f'n{i}op', f'n{i}')
    for child, v in edges:
        dot.edge(f'n{index[child]}', f'n{index[v]}op' if v._op else f'n{index[v]}')


def trace_to_draw(root, max_nodes, who):
    """trace(root), once root is a Value and the graph has at most max_nodes values (None: any
    number), as draw_dot and micrograd.explore check them; who names the caller in the errors"""
    _check_root(root, who)
    if max_nodes is not None and (not is_int(max_nodes) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    nodes, edges = trace(root)
    if max_nodes is not None and len(nodes) > max_nodes:
        raise ValueError(
            f"the graph has {len(nodes)} values, more than max_nodes={max_nodes}: dot would take "
            f"long and the picture would be unreadable. Draw a smaller part (one sample, one "
            f"neuron), or pass max_nodes={len(nodes)} (or None) to draw it anyway")
    return nodes, edges


def _check_root(root, who):
    if not isinstance(root, Value):
        hint = " (a layer of several neurons returns a list: pick one, or sum them)" \
            if isinstance(root, (list, tuple)) else ""
        raise TypeError(f"{who} needs a Value, got {type(root).__name__}{hint}")


def _grad_rank(item):
    # nan first (it is what one looks for), then largest |grad|, ties by traversal order
    i, v = item
    return (0, i) if math.isnan(v.grad) else (1, -abs(v.grad), i)


def _escape_text(text, what):
    """text as dot draws it literally: & would start an entity (&amp; drawn as &), \\ an escape (\\N
    the node's name); a character dot drops or chokes on is refused, naming what holds it"""
    for c in text:
        if (c < ' ' and c != '\n') or '\ud800' <= c <= '\udfff':
            raise ValueError(f"{what} is {text!r}, and dot cannot draw the character {c!r} "
                             f"(U+{ord(c):04X}): it would drop it or fail; use a visible character")
    return text.replace('\\', '\\\\').replace('&', '&amp;').replace('\n', '\\n')


def _escape_record(text):
    # these characters lay out a record's fields; a label containing them must show as typed
    for c in '{}|<>"':
        text = text.replace(c, '\\' + c)
    return text


def digraph(who, **attrs):
    """a graphviz.Digraph(**attrs) whose rendering, when dot is missing, says how to install it;
    who names the caller in the error when the graphviz package is missing"""
    try:
        import graphviz
    except ImportError:
        raise ImportError(f"{who} needs the graphviz package: pip install 'micrograd[viz]'") from None
    return _digraph_class(graphviz)(**attrs)


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


def label_text(v):
    """v's label as draw_dot and the explorer show it: str() of any object (a nan, bytes), nothing
    when it is falsy"""
    return str(v.label) if v.label else ''


def __getattr__(name):
    # the explorer moved to micrograd.explore, which imports this module: fetched on first use
    if name in ('explore', 'Explorer'):
        from micrograd import explore
        return getattr(explore, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
