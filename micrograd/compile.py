"""Record a loss function once per input shape, then replay its forward and backward passes with numpy.

    step = compile(loss_fn, model, (X, y))   # records loss_fn(X, y) once, on Values
    loss = step(X2, y2)                      # a float; every parameter's .grad gets d(loss)/d(p)

A call returns what `loss = fn(*inputs); loss.backward()` gives and leaves the same numbers in every
p.grad, to the last bit (docs/compile.md says what is guaranteed and what is refused). Three stages:

- the tape (_record): fn runs once, eagerly, on Values, under micrograd.watch's Watch (a read of a
  number a replay could not decide again is refused). The graph it built becomes flat arrays.
- the schedule (_schedule): + chains fold into n-ary sums (_fold), op nodes group by depth and op
  for the forward pass, and gradient terms group into levels in the order backward() adds them.
- the replay (_Replay): a group is a few numpy operations on one array of values, a level one
  bincount. Every decision an op makes from a number (relu's mask, abs's sign, amax's winners,
  select's index) is made again from each call's numbers, and tanh, exp, log, sigmoid, softplus
  and the powers run through the engine's own ops, so their numbers and errors are eager's.

One recording is kept per input shape (max_recordings, the least recently used dropped); calls on
one compiled step take turns (a lock), so threads each get their own numbers.
"""
from __future__ import annotations   # field types name numpy, imported by compile() only

import collections
import dataclasses
import itertools
import operator
import threading
from typing import Callable

from micrograd import engine
from micrograd.engine import Value, topological_order
from micrograd.floats import as_float, is_int
from micrograd.nn import Module, as_size
from micrograd.watch import Watch, recording_here

np = None          # numpy, imported by compile(): the rest of the library runs without it


def compile(fn, params, example_inputs=None, has_aux=False, max_recordings=64):
    """record fn(*example_inputs) and return a Compiled step: loss = step(*inputs)

    fn builds the loss Value from its arguments and from params, the Values that change between
    calls: a Module (its parameters() are read again at every call) or a list such as
    model.parameters(). Each input is a number or a nested list or array of numbers; fn receives
    it as Values in the same nesting. A call runs forward and backward: it returns the loss as a
    float and adds d(loss)/d(p) to every p.grad, as loss.backward() does. example_inputs, a tuple
    of fn's arguments, records their shape now (fn's errors show here); each new shape records
    once more, up to max_recordings kept. has_aux=True: fn returns (loss, values), values a list
    of Values of the loss's graph (the scores, say), and a call returns (loss, their numbers).
    """
    _import_numpy()
    step = Compiled(fn, params, has_aux, max_recordings)
    if example_inputs is not None:
        if not isinstance(example_inputs, (tuple, list)):
            raise TypeError("example_inputs must be a tuple of fn's arguments, e.g. (X, y) or (x,)")
        with step._lock:
            step._replay_for([_as_array(arg, i) for i, arg in enumerate(example_inputs)])
    return step


class Compiled:
    """a recorded loss function: call it with new inputs to run forward and backward"""

    def __init__(self, fn, params, has_aux, max_recordings):
        self._fn, self._has_aux = fn, has_aux
        self.max_recordings = as_size(max_recordings, 'max_recordings')
        self._module = params if isinstance(params, Module) else None
        self._params = list(params.parameters() if self._module else params)
        # the caller's list, to notice when it changes; a generator can't change
        self._given = params if isinstance(params, (list, tuple)) else self._params
        if not all(isinstance(p, Value) for p in self._params):
            raise TypeError("params must be a Module or Values, e.g. model.parameters()")
        if len(set(map(id, self._params))) != len(self._params):
            raise ValueError("params holds the same Value more than once")
        self._replays = collections.OrderedDict()   # input shapes -> _Replay, least recently used first
        self._lock = threading.Lock()

    @property
    def recordings(self):
        """how many recordings (input shapes) are kept"""
        return len(self._replays)

    def __call__(self, *inputs):
        if recording_here():   # its float, computed from parameters, would be frozen in the other
            raise RuntimeError("a compiled step can't be called while compile() records a function")
        args = [_as_array(arg, i) for i, arg in enumerate(inputs)]
        with self._lock:
            self._check_params()
            return self._replay_for(args).run(self._params, args, self._has_aux)

    def _check_params(self):
        now = self._module.parameters() if self._module else self._given
        if len(now) != len(self._params) or not all(map(operator.is_, now, self._params)):
            where = "the model's parameters()" if self._module else "the params list"
            raise ValueError(f"{where} changed since compile() (a parameter replaced, added or "
                             "removed): compile again")

    def _replay_for(self, args):
        key = tuple(a.shape for a in args)
        if key not in self._replays:
            tape = _record(self._fn, self._params, args, self._has_aux)
            self._replays[key] = _Replay(_schedule(tape))
            if len(self._replays) > self.max_recordings:
                self._replays.popitem(last=False)
        self._replays.move_to_end(key)
        return self._replays[key]


# --- the tape: one eager run of fn, watched, and the graph it built as arrays ------------------------

_number = Watch.slot.__get__   # v.data, skipping any watch: map(_number, params) runs at C speed
_GRAD = operator.attrgetter('grad')


@dataclasses.dataclass
class _Tape:
    """one recording: the loss's graph in topological order (the loss last), as arrays"""
    ops: list            # each node's _op string
    lens: np.ndarray     # each node's number of children
    kids: np.ndarray     # every node's children, node after node, as positions in the order
    leaf_slots: dict     # a leaf's position -> its slot: params, then inputs, then constants
    consts: list         # the constant leaves (Values neither params nor inputs), in slot order
    n_params: int
    n_inputs: int
    aux: list            # positions of the values fn returns beside the loss ([] without has_aux)


def _record(fn, params, args, has_aux):
    """run fn once on Values made from args, watching its reads, and keep the graph it builds"""
    inputs = [Value(x) for a in args for x in a.ravel().tolist()]
    bounds = np.cumsum([0] + [a.size for a in args]).tolist()
    with Watch(params, inputs) as watch:
        root = fn(*[_nest(inputs[lo:hi], a.shape) for a, lo, hi in zip(args, bounds, bounds[1:])])
    aux = []
    if has_aux:
        if not (isinstance(root, tuple) and len(root) == 2):
            raise TypeError(f"with has_aux=True, fn must return (loss, values), got {type(root).__name__}")
        root, aux = root[0], list(root[1])
    if not isinstance(root, Value):
        raise TypeError(f"fn must return a Value (the loss), got {type(root).__name__}")
    order = topological_order(root)
    stale = watch.stale(order)
    if stale is not None:
        raise ValueError(f"fn uses {stale!r}, computed from the parameters before this call (outside fn, "
                         f"by {stale._op!r}): eagerly it keeps the number it had then, while a replay would "
                         "compute it again from the parameters. Compute it inside fn")
    position = dict(zip(order, range(len(order))))   # Values hash by identity
    dead = next((v for v in watch.made if v not in position and v._prev and _can_raise(v._op)), None)
    if dead is not None:
        raise ValueError(f"fn computes a {dead._op!r} that the loss does not use: a replay computes only the "
                         "loss, so the error this op raises on some numbers (an overflow, a zero, a bad "
                         "index) would vanish from the calls after the first. Drop it from fn, or return "
                         "it with has_aux=True")
    if not all(v in position for v in aux):
        raise ValueError("with has_aux=True, every value fn returns beside the loss must be a "
                         "Value the loss was computed from")
    prevs = list(map(operator.attrgetter('_prev'), order))
    lens = np.fromiter(map(len, prevs), np.int64, len(order))
    kids = np.fromiter(map(position.__getitem__, itertools.chain.from_iterable(prevs)), np.int64,
                       int(lens.sum()))
    slot = dict(zip(params + inputs, range(len(params) + len(inputs))))
    leaf_slots, consts = {}, []
    for i in np.flatnonzero(lens == 0).tolist():
        if order[i] not in slot:
            slot[order[i]] = len(slot)
            consts.append(order[i])
        leaf_slots[i] = slot[order[i]]
    return _Tape(ops=_replay_ops(order), lens=lens, kids=kids,
                 leaf_slots=leaf_slots, consts=consts, n_params=len(params), n_inputs=len(inputs),
                 aux=[position[v] for v in aux])


def _replay_ops(order):
    """each node's _op, but a division's: its * node is '/' (it holds a / b, not a * (1/b)), and its
    **-1 node '1/' (it holds IEEE 1/b: inf for a subnormal b, where b ** -1 raises as Python's)"""
    ops = list(map(operator.attrgetter('_op'), order))
    division = Value._div_backward
    divisions = [i for i, f in enumerate(map(operator.attrgetter('_grad_fn'), order)) if f is division]
    if divisions:
        inverses = {order[i]._prev[1] for i in divisions}
        for i in divisions:
            ops[i] = '/'
        for i, v in enumerate(order):
            if v in inverses:
                ops[i] = '1/'
    return ops


def _can_raise(op):
    """whether an op raises on some numbers: exp and powers overflow, log and division refuse 0,
    select a bad index (the others give inf or nan, as a replay does)"""
    return op in ('exp', 'log', 'select') or op.startswith('**') or op.endswith('**')


# --- the schedule: sums folded, forward groups by depth and op, backward levels ----------------------

LEAF, ADD, MUL, DOT, RELU, ABS, MAX, SELECT, ENGINE, DIV = range(10)   # node kinds
_KINDS = {'+': ADD, '*': MUL, 'dot': DOT, 'ReLU': RELU, 'abs': ABS, 'max': MAX, 'select': SELECT, '/': DIV}
_ENGINE_OPS = {'tanh': Value.tanh, 'exp': Value.exp, 'log': Value.log, 'sigmoid': Value.sigmoid,
               'softplus': Value.softplus}


@dataclasses.dataclass
class _Graph:
    """the tape as arrays per node and per link (parent -> child), and what scheduling finds out

    Links are sorted by owner, then parent, then operand: a folded sum's terms in fold order.
    """
    kind: np.ndarray     # each node's kind (LEAF, ADD, ...)
    opkey: np.ndarray    # nodes with the same _op share a key
    top: np.ndarray      # the sum a + node is folded into (itself if none)
    fused: np.ndarray    # a product computed inside the sum that is its only user
    gsrc: np.ndarray     # the node whose gradient a node has (a sum's, if the sum is its only user)
    slot: np.ndarray     # each node's slot in the values (-1 for fused products and folded sums)
    parent: np.ndarray   # per link: the parent node
    child: np.ndarray    # the child node
    side: np.ndarray     # the child's position among the parent's operands
    owner: np.ndarray    # the parent, or the top of the + chain it was folded into
    partner: np.ndarray  # MUL, DOT: the operand the child is multiplied by (its local derivative)
    rank: np.ndarray     # the order in which the parent's backward adds its terms

    def links(self, mask):
        """the graph with only the links where mask holds"""
        names = ('parent', 'child', 'side', 'owner', 'partner', 'rank')
        return dataclasses.replace(self, **{name: getattr(self, name)[mask] for name in names})


@dataclasses.dataclass
class _Group:
    """nodes of one depth, op and width, computed by a few numpy operations into values[lo:hi]"""
    kind: int
    lo: int
    hi: int
    table: np.ndarray    # the operands' slots: one row per operand (or term), one column per node
    factor: np.ndarray | None   # sums: each term is values[table] * values[factor] (None: all 1.0);
    #                             DIV: the divisors' slots
    op: Callable | None  # ENGINE: the engine's op on one Value, e.g. Value.tanh


@dataclasses.dataclass
class _Level:
    """gradient terms added up by one bincount: all the terms of the children it holds

    A term is local derivative * the gradient it reads, except at amax, select and the engine's
    ops (the specials, kind -> positions within the level): made by the op's own rule.
    """
    locals: np.ndarray   # where each term's local derivative is: a value, an op's extra or a p.grad
    grads: np.ndarray    # the gradient slot each term reads
    parents: np.ndarray  # the slot of each term's parent
    other: np.ndarray    # MAX: the child's slot; SELECT: the child's operand position
    segment: np.ndarray  # each term's child, numbered within the level
    children: np.ndarray   # the children's slots
    specials: dict


@dataclasses.dataclass
class _Plan:
    """what a replay runs, as index arrays into one array of values (and one of gradients)"""
    n_values: int
    consts: list
    inputs: slice        # the inputs' slots (params come first, at their index in params)
    one: int             # the slot holding 1.0
    root: int
    root_param: int | None   # the loss's index in params if it is one, else None
    aux: np.ndarray      # the slots of the values fn returns beside the loss
    used: np.ndarray     # the slots (= indices) of the parameters the loss depends on
    groups: list
    levels: list


def _schedule(tape):
    """turn a tape into a _Plan: forward groups by depth and op, backward levels"""
    n, lens = len(tape.ops), tape.lens
    opkey, kind, engine_ops = _kinds(tape.ops, lens)
    graph = _fold(tape, kind, opkey)
    is_param = np.zeros(n, bool)
    is_param[[i for i, s in tape.leaf_slots.items() if s < tape.n_params]] = True
    depth, needs_grad = _waves(n, graph.child, graph.owner, is_param)

    # slots: params, inputs, constants, 1.0, then the op nodes in the order they are computed
    one = tape.n_params + tape.n_inputs + len(tape.consts)
    nodes = np.flatnonzero((lens > 0) & (graph.top == np.arange(n)) & ~graph.fused)
    terms = np.bincount(graph.owner, minlength=n)
    terms[kind == DOT] //= 2   # a dot's terms are its pairs
    nodes = nodes[np.lexsort((nodes, terms[nodes], opkey[nodes], depth[nodes]))]
    graph.slot[list(tape.leaf_slots)] = list(tape.leaf_slots.values())
    graph.slot[nodes] = one + 1 + np.arange(len(nodes))

    root = tape.leaf_slots.get(n - 1, -1)   # the loss's slot if it is a leaf
    used = np.flatnonzero(is_param & needs_grad & (np.arange(n) != n - 1))
    plan = _Plan(n_values=one + 1 + len(nodes), consts=tape.consts,
                 inputs=slice(tape.n_params, tape.n_params + tape.n_inputs), one=one,
                 root=int(graph.slot[n - 1]), root_param=root if 0 <= root < tape.n_params else None,
                 aux=graph.slot[tape.aux], used=graph.slot[used],
                 groups=_forward_groups(graph, nodes, depth, terms, engine_ops, one), levels=[])
    # gradient terms: into what needs a gradient and has no sum's to share; an index gets none
    wanted = needs_grad[graph.child] & (graph.gsrc[graph.child] == graph.child)
    wanted &= ~((kind[graph.parent] == SELECT) & (graph.side == lens[graph.parent] - 1))
    plan.levels = _backward_levels(graph.links(wanted), used, plan)
    return plan


def _kinds(ops, lens):
    """each node's op key and kind, and each ENGINE key's op; refuses ops the replay does not know"""
    names = sorted(set(ops))   # sorted, not set order: string hashes change from run to run
    key_of = dict(zip(names, range(len(names))))
    opkey = np.fromiter(map(key_of.__getitem__, ops), np.int64, len(ops))
    interior = set(opkey[lens > 0].tolist())   # a leaf's _op is only a label
    kind_of = np.array([_KINDS.get(op, ENGINE) for op in names])
    engine_ops = {k: _engine_op(names[k]) for k in interior if kind_of[k] == ENGINE}
    return opkey, np.where(lens > 0, kind_of[opkey], LEAF), engine_ops


def _engine_op(op):
    """the engine's op on one Value for an _op string: 'tanh', '**2' (a power), '2**' (2 ** x)"""
    if op in _ENGINE_OPS:
        return _ENGINE_OPS[op]
    if op == '1/':   # a division's **-1 node, made by the engine's own division of 1.0 by b
        return lambda b: (1.0 / b)._prev[1]
    try:
        if op.startswith('**'):
            n = int(op[2:]) if op[2:].lstrip('-').isdigit() else float(op[2:])
            return lambda a: a ** n
        if op.endswith('**'):
            base = float(op[:-2])
            return lambda a: base ** a
    except ValueError:
        pass
    raise ValueError(f"compile can't replay the op {op!r}: it knows + * ** (either side) relu abs tanh "
                     "exp log sigmoid softplus amax select dot and the ops built from them")


def _fold(tape, kind, opkey):
    """the graph's links, with + chains folded into n-ary sums and products fused into them

    A chain of + nodes, each the only user of the one below, is one n-ary sum: folded left to right
    it gives the chain's value bit for bit, and every term gets the top's gradient. A + node absorbs
    one operand at most (its first if it can), so a chain stays a line; the terms of the node below
    come first, right on either side (x + y == y + x). A node whose only use is as a term of a sum
    has the sum's gradient (0.0 + g is g): it needs no gradient of its own, and a product used that
    way is computed inside the sum, with no slot of its own.
    """
    n, lens, kids = len(kind), tape.lens, tape.kids
    first = np.cumsum(lens) - lens
    parent = np.repeat(np.arange(n), lens)
    side = np.arange(len(kids)) - first[parent]
    uses = np.bincount(kids, minlength=n)
    uses[tape.aux] += 1   # a value asked for keeps a slot of its own: never folded away
    is_add = kind == ADD
    foldable = is_add & (uses == 1)
    padded = np.r_[kids, 0, 0]   # a node's first two operands (unused where it has fewer)
    a, b = padded[first], padded[first + 1]
    take_a = is_add & foldable[a]
    take_b = is_add & ~take_a & foldable[b]
    top = np.arange(n)
    top[a[take_a]], top[b[take_b]] = np.flatnonzero(take_a), np.flatnonzero(take_b)
    top = _roots(top)
    user = np.zeros(n, np.int64)
    user[kids] = parent   # a node's user, if it has one only
    shares = (kind > LEAF) & (uses == 1) & (kind[user] == ADD)
    # a product (w * x) is a dot of one pair: operand i of n pairs is multiplied by operand i +- n,
    # and dot's backward adds w0's term, x0's, w1's, x1's, ...
    half = np.maximum(lens // 2, 1)[parent]
    paired = (kind[parent] == MUL) | (kind[parent] == DOT) | (kind[parent] == DIV)
    partner = kids[np.where(paired, first[parent] + (side + half) % (2 * half), np.arange(len(kids)))]
    graph = _Graph(kind=kind, opkey=opkey, top=top, fused=shares & (kind == MUL),
                   gsrc=_roots(np.where(shares, top[user], np.arange(n))), slot=np.full(n, -1, np.int64),
                   parent=parent, child=kids, side=side, owner=top[parent], partner=partner,
                   rank=np.where(paired, side % half * 2 + side // half, side))
    keep = np.flatnonzero(top[kids] == kids)   # a link to a node folded into its user's sum disappears
    # links come by parent, then operand: a stable sort by owner keeps that order within a sum
    return graph.links(keep[np.argsort(top[parent][keep], kind='stable')])


def _is_sum(kind):
    """a sum of terms, each a value or a product: + (folded n-ary) and dot"""
    return (kind == ADD) | (kind == DOT)


def _runs(keys):
    """where the rows of keys (sorted) change: the bounds of each run of equal rows"""
    change = np.any(keys[1:] != keys[:-1], 1)
    return np.flatnonzero(np.r_[True, change, True]) if len(keys) else [0]


def _roots(up):
    """follow up[] from every node until it stops moving (pointer jumping)"""
    while not np.array_equal(up[up], up):
        up = up[up]
    return up


def _waves(n, src, dst, flag):
    """each node's wave, 0 where no link enters, else one more than its links' sources' latest;
    and flag spread along the links (a node is flagged if a source of one of its links is)"""
    # Kahn's algorithm a wave at a time: a node is ready once every link into it has been followed
    by_src = np.argsort(src, kind='stable')
    src, dst = src[by_src], dst[by_src]
    starts = np.r_[0, np.cumsum(np.bincount(src, minlength=n))]
    pending = np.bincount(dst, minlength=n)
    wave, flag = np.zeros(n, np.int64), flag.copy()
    ready, k = np.flatnonzero(pending == 0), 0
    while len(ready):
        wave[ready] = k
        lo, count = starts[ready], starts[ready + 1] - starts[ready]
        out = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(count.sum())   # their links
        flag[dst[out[flag[src[out]]]]] = True
        targets, counts = np.unique(dst[out], return_counts=True)
        pending[targets] -= counts
        ready, k = targets[pending[targets] == 0], k + 1
    return wave, flag


def _forward_groups(graph, nodes, depth, terms, engine_ops, one):
    """the op nodes, in order of depth, op and width, as groups with their operands' slots"""
    # a group's nodes have the same number of operands (or terms): one table of their slots
    bounds = _runs(np.stack([depth[nodes], graph.opkey[nodes], terms[nodes]], 1))
    starts = np.searchsorted(graph.owner, np.arange(len(graph.kind)))   # links are sorted by owner
    # a term's two factors: a dot's pair, a fused product's operands (its own two links), or the
    # child and the 1.0
    child, fused = graph.child, graph.fused[graph.child]
    left = graph.slot[child]
    right = np.where(graph.kind[graph.parent] == DOT, graph.slot[graph.partner], one)
    product = starts[child[fused]]
    left[fused], right[fused] = graph.slot[child[product]], graph.slot[child[product + 1]]
    groups = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        members = nodes[lo:hi]
        at = starts[members] + np.arange(terms[members[0]])[:, None]
        kind = int(graph.kind[members[0]])
        plain = not _is_sum(kind) or (right[at] == one).all()
        factor = None if plain else right[at]
        if kind == DIV:   # a / b reads b, the child of its **-1 operand
            factor = graph.slot[child[starts[child[starts[members] + 1]]]]
        groups.append(_Group(kind=kind, lo=int(graph.slot[members[0]]), hi=int(graph.slot[members[-1]]) + 1,
                             table=left[at], factor=factor,
                             op=engine_ops.get(int(graph.opkey[members[0]]))))
    return groups


def _backward_levels(graph, used, plan):
    """the gradient terms in the order backward() adds them, grouped into levels

    Each child's terms come in backward()'s order: parents later in topological order first, then
    the parent's own order; each used parameter's first term is its .grad * 1.0. A child's level
    is one more than that of every gradient it reads, so a level's terms are all ready at once.
    """
    n, n_values, k = len(graph.kind), plan.n_values, len(used)
    source = graph.gsrc[graph.owner]   # the node whose gradient each term reads
    level, _ = _waves(n, source, graph.child, np.zeros(n, bool))
    child = np.r_[used, graph.child]
    order = np.lexsort((np.r_[np.zeros(k, np.int64), graph.rank], -np.r_[np.full(k, n), graph.parent],
                        child, level[child]))
    # local derivatives come from one buffer: the values, each op's extra (abs's sign),
    # the used parameters' grads. A product's is the other factor, a sum's (and the specials') 1.0
    kind = graph.kind[graph.parent]
    local = np.select([(kind == MUL) | (kind == DOT) | (kind == DIV), kind == ABS],
                      [graph.slot[graph.partner], n_values + graph.slot[graph.parent]], plan.one)
    # one row per field, one column per term: the parameters' own terms first, then the links'
    params_terms = np.zeros((5, k), np.int64)
    params_terms[0] = 2 * n_values + np.arange(k)   # a parameter's .grad, times
    params_terms[1] = n_values                       # the grads' last slot, which holds 1.0
    other = np.where(kind == MAX, graph.slot[graph.child], graph.side)
    # terms made by the op's own rule, not a product; a division's term for a is grad / b
    special = np.isin(kind, (RELU, MAX, SELECT, ENGINE)) | ((kind == DIV) & (graph.side == 0))
    links_terms = np.stack([local, graph.slot[source], np.where(special, kind, 0),
                            graph.slot[graph.parent], other])
    local, grads, special, parents, other = np.hstack([params_terms, links_terms])[:, order]
    child = child[order]
    bounds = _runs(level[child][:, None])
    levels = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        new = np.r_[True, child[lo + 1:hi] != child[lo:hi - 1]]   # a level's terms are sorted by child
        specials = {name: at for name in (RELU, MAX, SELECT, ENGINE, DIV)
                    for at in [np.flatnonzero(special[lo:hi] == name)] if len(at)}
        levels.append(_Level(locals=local[lo:hi], grads=grads[lo:hi], parents=parents[lo:hi],
                             other=other[lo:hi], segment=np.cumsum(new) - 1,
                             children=graph.slot[child[lo:hi][new]], specials=specials))
    return levels


# --- the replay: forward by groups, backward by levels, on this call's numbers ----------------------

class _Replay:
    """one recording's plan and the buffers its calls reuse (calls take turns: Compiled's lock)"""

    def __init__(self, plan):
        self.plan = plan
        # the values, then per op an extra number (relu's mask, abs's sign, max's count of
        # winners, select's index), then the used parameters' grads: the local derivatives' buffer
        self.buffer = np.zeros(2 * plan.n_values + len(plan.used))
        self.values, self.extra = self.buffer[:plan.n_values], self.buffer[plan.n_values:2 * plan.n_values]
        self.consts = slice(plan.inputs.stop, plan.inputs.stop + len(plan.consts))
        self.values[self.consts] = [c.data for c in plan.consts]
        self.values[plan.one] = 1.0
        self.grads = np.zeros(plan.n_values + 1)
        self.grads[-1] = 1.0

    def run(self, params, args, has_aux):
        """this call's loss (and aux numbers); every used parameter's .grad gets its terms"""
        plan, values = self.plan, self.values
        self._check_consts()
        values[:len(params)] = np.fromiter(map(_number, params), float, len(params))
        if args:
            values[plan.inputs] = np.concatenate([a.ravel() for a in args])
        with np.errstate(all='ignore'):   # inf and nan propagate as with Python floats
            made = self._forward()
            loss = float(values[plan.root])
            if plan.root_param is not None:   # the loss is a parameter: backward() adds 1.0
                params[plan.root_param].grad += 1.0
            elif plan.levels:
                self._backward(params, made)
        return (loss, values[plan.aux].tolist()) if has_aux else loss

    def _check_consts(self):
        now = np.fromiter(map(_number, self.plan.consts), float, len(self.plan.consts))
        was = self.values[self.consts]
        changed = np.flatnonzero(now.view(np.int64) != was.view(np.int64))   # bits: -0.0 is not 0.0
        if len(changed):
            first = changed[0]
            raise ValueError(f"a Value fn uses but params does not hold changed since compile() "
                             f"({float(was[first])!r} -> {float(now[first])!r}): pass it in params")

    def _forward(self):
        """every node's value, group after group; the engine's Values of ENGINE groups, by slot"""
        values, extra, made = self.values, self.extra, {}
        for group in self.plan.groups:
            out, operands = slice(group.lo, group.hi), values[group.table]
            if _is_sum(group.kind):
                terms = operands if group.factor is None else operands * values[group.factor]
                values[out] = _sum_rows(terms)
            elif group.kind == MUL:
                values[out] = operands[0] * operands[1]
            elif group.kind == DIV:   # b is never 0 here: its **-1 node, computed first, refused it
                extra[out] = divisor = values[group.factor]
                values[out] = operands[0] / divisor
            elif group.kind == RELU:
                values[out] = np.where(operands[0] < 0, 0.0, operands[0])
            elif group.kind == ABS:
                values[out] = np.abs(operands[0])
                extra[out] = (operands[0] > 0) * 1.0 - (operands[0] < 0)   # abs'(0) = 0
            elif group.kind == MAX:
                values[out] = best = _python_max(operands)
                extra[out] = (operands == best).sum(0)   # the winners, who share the gradient
            elif group.kind == SELECT:
                extra[out] = index = _checked_index(operands[-1], len(operands) - 1)
                values[out] = operands[:-1][index.astype(np.int64), np.arange(len(index))]
            else:   # the engine's own op, one Value per element: its numbers and its errors
                outs = list(map(group.op, map(Value, operands[0].tolist())))
                values[out] = list(map(_number, outs))
                made.update(zip(range(group.lo, group.hi), outs))
        return made

    def _backward(self, params, made):
        plan, grads = self.plan, self.grads
        used = [params[s] for s in plan.used.tolist()]
        self.buffer[2 * plan.n_values:] = np.fromiter(map(_GRAD, used), float, len(used))
        grads[plan.root] = 1.0
        for level in plan.levels:
            terms = self.buffer[level.locals] * grads[level.grads]
            for kind, at in level.specials.items():
                terms[at] = self._special_terms(kind, grads[level.grads[at]], level.parents[at],
                                                level.other[at], made)
            # bincount adds each child's terms in array order: backward()'s order
            sums = np.bincount(level.segment, terms, len(level.children))
            _keep_negative_zeros(sums, level.segment, terms)
            grads[level.children] = sums
        for p, grad in zip(used, grads[plan.used].tolist()):
            p.grad = grad

    def _special_terms(self, kind, grad, parents, other, made):
        """the terms of relu, amax, select and the engine's ops, each by its op's own rule"""
        if kind == RELU:   # exactly 0 where out <= 0, so an inf grad gives 0, not nan; a nan passes
            return np.where(self.values[parents] <= 0, 0.0, grad)
        if kind == MAX:   # out.grad / ties * (x == max), losers too; a nan max (no ties) gives all nan
            best, ties = self.values[parents], self.extra[parents]
            share = grad / np.maximum(ties, 1) * (self.values[other] == best)
            return np.where(ties == 0, np.nan, share)
        if kind == DIV:   # d/da a/b = 1/b, computed as the engine does: out.grad / b
            return grad / self.extra[parents]
        if kind == SELECT:   # -0.0: x + -0.0 is x, as if nothing were added
            return np.where(self.extra[parents] == other, grad, -0.0)
        return list(map(_engine_term, map(made.__getitem__, parents.tolist()), grad.tolist()))


def _keep_negative_zeros(sums, segment, terms):
    """bincount starts every sum at +0.0; backward()'s += starts at the first term, so a gradient whose
    terms are all -0.0 is -0.0 there (a parameter's grad set to -0.0, say): give it that sign"""
    zero = np.flatnonzero(sums == 0)
    if len(zero):
        positive = np.bincount(segment, (terms != 0) | ~np.signbit(terms), len(sums))
        sums[zero[positive[zero] == 0]] = -0.0


def _sum_rows(terms):
    """the rows added one after the other, as Python's sum() chains them (never pairwise)"""
    if len(terms) > terms.shape[1]:   # few long sums: one accumulate
        return np.add.accumulate(terms, axis=0)[-1]
    total = terms[0]   # terms is this call's own array: adding into it is safe
    for row in terms[1:]:
        total += row
    return total


def _python_max(rows):
    """amax down each column: nan if one is, else Python's max (a later value wins only if greater,
    so of tied zeros the first one's sign)"""
    best = rows[0]
    for row in rows[1:]:
        best = np.where(row > best, row, best)
    return np.where(np.isnan(rows).any(0), np.nan, best)


def _checked_index(index, n):
    """index, once every entry is a whole number in 0..n-1; else select's own error for the first"""
    bad = ~((index == np.floor(index)) & (index >= 0) & (index < n))
    if bad.any():
        engine.select([0.0] * n, float(index[bad][0]))
    return index


def _engine_term(out, grad):
    """what out's backward adds to its one child when out.grad is grad, computed by the engine"""
    a, = out._prev
    out.grad, a.grad = grad, -0.0   # -0.0 + x is x for every x: a.grad ends as the term itself
    out._backward()
    return a.grad


def _nest(flat, shape):
    """flat Values as nested lists of the given shape; a 0-d shape gives the one Value"""
    if not shape:
        return flat[0]
    for size in reversed(shape[1:]):
        flat = [flat[i:i + size] for i in range(0, len(flat), size)]
    return flat


def _as_array(arg, i):
    try:
        array = np.asarray(arg)
    except ValueError:
        raise ValueError(f"input {i} is ragged: nested lists must be rectangular") from None
    if array.dtype == object and all(map(is_int, array.flat)):
        # ints beyond int64 (2**70): each made a float as a Value makes it, or refused as it refuses
        return np.array([as_float(x, f"input {i}") for x in array.flat]).reshape(array.shape)
    if array.dtype.kind not in 'iuf':
        raise TypeError(f"input {i} must hold real numbers (int or float), got {array.dtype} "
                        "(bools, Values and objects are refused)")
    return array.astype(np.float64)


def _import_numpy():
    global np
    try:
        import numpy as np
    except ImportError:
        raise ImportError("micrograd.compile needs numpy: pip install 'micrograd[fast]'") from None
