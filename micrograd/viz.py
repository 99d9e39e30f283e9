"""Drawing the graph behind a Value: trace walks it, draw_dot lays it out with graphviz."""
import contextlib
import functools
import math

from micrograd.engine import Value, topological_order

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
    try:
        import graphviz
    except ImportError:
        raise ImportError("draw_dot needs the graphviz package: pip install 'micrograd[viz]'") from None
    _check_root(root, 'draw_dot')
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if isinstance(highlight, bool) or not isinstance(highlight, int) or highlight < 0:
        raise ValueError(f"highlight must be a count of nodes (an int >= 0), got {highlight!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)
                                  or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")

    nodes, edges = trace(root)
    if max_nodes is not None and len(nodes) > max_nodes:
        raise ValueError(
            f"the graph has {len(nodes)} values, more than max_nodes={max_nodes}: dot would take "
            f"long and the picture would be unreadable. Draw a smaller part (one sample, one "
            f"neuron), or pass max_nodes={len(nodes)} (or None) to draw it anyway")

    name = {v: f'n{i}' for i, v in enumerate(nodes)}  # traversal order, never id(): stable text
    by_grad = sorted(enumerate(nodes), key=_grad_rank)
    highlighted = {v for _, v in by_grad[:highlight]}

    dot = _digraph_class(graphviz)(format=format, graph_attr={'rankdir': rankdir})
    for v in nodes:
        fields = [_escape_record(str(v.label))] if v.label else []
        fields.append(f'data {v.data:.4f}')
        if show_grad:
            fields.append(f'grad {v.grad:.4f}')
        style = {'style': 'filled', 'fillcolor': 'gold'} if v in highlighted else {}
        dot.node(name[v], label='{ ' + ' | '.join(fields) + ' }', shape='record', **style)
        if v._op:
            # the op gets a node of its own, fed by the children, feeding the result
            dot.node(name[v] + 'op', label=graphviz.nohtml(v._op.replace('\\', '\\\\')))
            dot.edge(name[v] + 'op', name[v])
    for child, v in edges:
        dot.edge(name[child], name[v] + 'op' if v._op else name[v])
    return dot


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
