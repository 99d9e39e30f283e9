"""Record a graph once, then replay its forward and backward passes on new numbers with numpy.

A training loop builds the same graph every step, only with new numbers in it. compile() runs the
loss function once on Values, keeps the graph's shape as index arrays, and every call after that
recomputes all the nodes with a few numpy operations per level of the graph instead of a Python
object per node. Parameters stay ordinary Values: each call reads their .data and adds to their
.grad, so optimizers, zero_grad, save and load work unchanged.

The replay does the eager engine's floating-point operations in the eager engine's order, so its
numbers are the same to the last bit: sums are folded left to right as Python's sum() chains them,
and each node's gradient adds up its contributions in the order backward() visits them.

A recording freezes fn's Python control flow. What is checked, so that a replay never returns
numbers fn would not: at compile(), fn runs again with every parameter nudged and the replay must
give the same loss bit for bit (a branch on .data or a number computed from .data shows up
there); at every call, the inputs' shapes, the params list, and that no Value the recording holds
as a constant has changed (a parameter left out of params); with check_every=k, every k-th call
also runs fn on its inputs and compares. ReLU masks, the sigmoid's branch and every domain check
(log of a value <= 0, exp overflow, 0 ** -1) come from each call's own numbers and raise as eager.
"""
import itertools
import math
import operator
from typing import NamedTuple

from micrograd.engine import Value, topological_order

# node kinds and the _op strings the eager engine gives them; '**n' is a power
_LEAF, _ADD, _MUL, _POW, _RELU, _TANH, _EXP, _LOG, _SIGMOID = range(9)
_OPS = {'+': _ADD, '*': _MUL, 'ReLU': _RELU, 'tanh': _TANH, 'exp': _EXP, 'log': _LOG,
        'sigmoid': _SIGMOID}
_ARITY = {_ADD: 2, _MUL: 2, _POW: 1, _RELU: 1, _TANH: 1, _EXP: 1, _LOG: 1, _SIGMOID: 1}
_PARAM, _INPUT, _CONST = 1, 2, 3   # where a leaf's number comes from
_prev_of, _op_of = operator.attrgetter('_prev'), operator.attrgetter('_op')
_NUDGE = 2.0**-20                  # relative change of each parameter for the second recording


def compile(fn, params, example_inputs, check_every=0, has_aux=False):
    """record fn(*example_inputs) once and return a Compiled step: loss = step(*inputs)

    fn builds the loss Value from its arguments and from params; params are the Values that change
    between calls (model.parameters()). Each example input is a number or a nested list or array
    of numbers, and fn receives it as Values in the same nesting. A call to the step runs forward
    and backward: it returns the loss as a float and adds d(loss)/d(p) to every p.grad, like
    loss.backward(). fn runs twice here: the second time with nudged parameters, where the
    replay must give fn's loss bit for bit. check_every=k also runs fn on every k-th call's
    inputs and compares the same way (0, the default: never), for an fn that branches on .data.
    has_aux=True: fn returns (loss, values), values a list of Values of the loss's graph (the
    scores, say), and each call returns (loss, their numbers as a list of floats).
    """
    np = _numpy()
    given, params = params, list(params)
    if not all(isinstance(p, Value) for p in params):
        raise TypeError("params must be Values, e.g. model.parameters()")
    if len({id(p) for p in params}) != len(params):
        raise ValueError("params holds the same Value more than once")
    if not isinstance(example_inputs, (tuple, list)):
        raise TypeError("example_inputs must be a tuple of fn's arguments, e.g. (X, y) or (x,)")
    if isinstance(check_every, bool) or not isinstance(check_every, int) or check_every < 0:
        raise ValueError(f"check_every must be an int >= 0, got {check_every!r}")

    args = [_as_array(np, arg, i) for i, arg in enumerate(example_inputs)]
    step = Compiled(fn, given, params, _record(fn, params, args, has_aux), check_every)
    # a number computed from a parameter's .data outside Value ops, or a branch on it, would be
    # frozen into the recording: with nudged parameters, the replay must still give fn's loss bit
    # for bit. (Inputs are not nudged: label checks in losses would reject them; check_every
    # covers the inputs.)
    saved = [p.data for p in params]
    try:
        for p in params:
            p.data += (abs(p.data) + 1) * _NUDGE
        step._verify(args, "for slightly changed parameters")
    finally:
        for p, data in zip(params, saved):
            p.data = data
    return step


class Compiled:
    """a recorded loss function: call it with new inputs to run forward and backward"""

    def __init__(self, fn, given, params, tape, check_every):
        np = _numpy()
        self._fn, self._params, self.check_every = fn, params, check_every
        self._has_aux = tape.aux is not None
        # the caller's list, to notice when it changes; a generator can't change
        self._given = given if isinstance(given, (list, tuple)) else params
        self._calls = 0
        self._shapes = [a.shape for a in tape.args]
        # constant leaves that exist outside fn (a forgotten parameter) could change: watch them
        self._consts = tape.consts
        self._const_data = np.array([c.data for c in tape.consts])
        self._n_params = len(params)
        self._plan = _schedule(np, tape, len(params))
        self._used = [params[r] for r in self._plan.used_refs]

    def __call__(self, *inputs):
        np = _numpy()
        self._calls += 1
        args = self._check(np, inputs)
        if self.check_every and self._calls % self.check_every == 0:
            self._verify(args, "on these inputs")
        plan = self._plan
        with np.errstate(all='ignore'):  # inf and nan propagate as in Python floats; errors raise below
            loss = self._forward(np, args)
            if plan.root_param is not None:  # the loss is a parameter itself: backward() sets 1.0
                self._params[plan.root_param].grad = 1.0
            elif plan.levels:
                self._backward(np, plan)
        if self._has_aux:
            return loss, plan.values[plan.aux_slots].tolist()
        return loss

    def _forward(self, np, args):
        plan, V = self._plan, self._plan.values
        V[:self._n_params] = np.fromiter((p.data for p in self._params), float, self._n_params)
        if args:
            V[self._n_params:plan.inputs_end] = np.concatenate([a.ravel() for a in args])
        _run_groups(np, V, plan.groups)
        return float(V[plan.root])

    def _verify(self, args, when):
        """run fn eagerly and compare its loss with the replay's, bit for bit"""
        np = _numpy()
        want = self._fn(*[_nest([Value(x) for x in a.ravel().tolist()], a.shape) for a in args])
        if self._has_aux:
            want = want[0]
        with np.errstate(all='ignore'):
            got = self._forward(np, args)
        if not isinstance(want, Value) or not (want.data == got or math.isnan(want.data) and math.isnan(got)):
            want = want.data if isinstance(want, Value) else want
            raise ValueError(f"fn gives {want!r} {when}, its recording {got!r}: its Python code depends "
                             "on the numbers (a branch on .data, or a number computed from .data outside "
                             "Value ops), so a recording can't replay it. Build such numbers with Value "
                             "ops, pass them as inputs, or leave this fn uncompiled")

    def _backward(self, np, plan):
        L, G = plan.local, plan.grads
        L[plan.initial] = np.fromiter((p.grad for p in self._used), float, len(self._used))
        _local_derivatives(np, plan.values, L, plan.local_sources)
        # G is never cleared: every slot a level reads was written earlier in this call (the root
        # here, or a child of an earlier level), and the slot holding 1.0 is never written
        G[plan.root] = 1.0
        for lo, hi, parents, segment, children, n, div, div_parents in plan.levels:
            contrib = L[lo:hi] * G[parents]
            if div is not None:  # log: eager divides out.grad by x
                contrib[div] = G[div_parents] / L[lo:hi][div]
            # bincount adds each child's contributions in array order: backward()'s order
            G[children] = np.bincount(segment, contrib, n)
        for p, g in zip(self._used, G[plan.used_slots].tolist()):
            p.grad = g

    def _check(self, np, inputs):
        if len(inputs) != len(self._shapes):
            raise TypeError(f"the recording takes {len(self._shapes)} inputs, got {len(inputs)}")
        args = [_as_array(np, arg, i) for i, arg in enumerate(inputs)]
        for i, (arg, shape) in enumerate(zip(args, self._shapes)):
            if arg.shape != shape:
                raise ValueError(f"input {i} has shape {arg.shape}, the recording has {shape}: "
                                 "a recording replays one shape (batch size); compile again for another")
        given = self._given
        if len(given) != len(self._params) or any(p is not q for p, q in zip(given, self._params)):
            raise ValueError("the params list changed since compile(): compile again")
        if self._consts:
            now = np.fromiter((c.data for c in self._consts), float, len(self._consts))
            if not np.array_equal(now, self._const_data, equal_nan=True):
                k = int(np.flatnonzero(~((now == self._const_data)
                                         | (np.isnan(now) & np.isnan(self._const_data))))[0])
                raise ValueError(f"a Value fn uses but params does not hold changed since compile() "
                                 f"({self._const_data[k]!r} -> {now[k]!r}): pass it in params")
        return args


class _Tape:
    """one recording: the graph in topological order, as plain lists"""

    def __init__(self, args, ops, lens, kids, leaves, origins, consts, aux):
        self.args, self.ops, self.lens, self.kids = args, ops, lens, kids
        self.leaves, self.origins, self.consts, self.aux = leaves, origins, consts, aux


def _record(fn, params, args, has_aux):
    """run fn on Values made from args; the graph it builds, with each leaf's origin"""
    inputs, value_args = [], []
    for arg in args:
        leaves = [Value(x) for x in arg.ravel().tolist()]
        inputs.extend(leaves)
        value_args.append(_nest(leaves, arg.shape))
    root, aux = fn(*value_args), None
    if has_aux:
        if not (isinstance(root, tuple) and len(root) == 2):
            raise TypeError(f"with has_aux=True, fn must return (loss, values), got {type(root).__name__}")
        root, aux = root[0], list(root[1])
    if not isinstance(root, Value):
        raise TypeError(f"fn must return a Value (the loss), got {type(root).__name__}")
    order = topological_order(root)
    index = dict(zip(order, range(len(order))))  # Values hash by identity
    if aux is not None:
        if not all(v in index for v in aux):
            raise ValueError("with has_aux=True, every value fn returns beside the loss must be a "
                             "Value the loss was computed from")
        aux = [index[v] for v in aux]
    prevs = list(map(_prev_of, order))
    ops = list(map(_op_of, order))
    lens = list(map(len, prevs))
    kids = list(map(index.__getitem__, itertools.chain.from_iterable(prevs)))
    leaves = [i for i, n in enumerate(lens) if not n]
    origin = {p: (_PARAM, i) for i, p in enumerate(params)}
    origin.update((v, (_INPUT, i)) for i, v in enumerate(inputs))
    origins, consts = [], []
    for i in leaves:
        v = order[i]
        kind_ref = origin.get(v)
        if kind_ref is None:
            kind_ref = (_CONST, len(consts))
            consts.append(v)
        origins.append(kind_ref)
    return _Tape(args, ops, lens, kids, leaves, origins, consts, aux)


class _Graph(NamedTuple):
    """the recording as arrays with one entry per node, in topological order (the root last)"""
    code: object         # the node's kind: _ADD, _MUL, ..., _LEAF
    opkey: object        # its _op string's key: nodes with the same key share a forward group
    kind_of: object      # a key's kind
    exponent_of: list    # a key's exponent if its op is a power, else None
    a: object            # the first child, -1 if none
    b: object            # the second child, -1 if none
    origin: object       # where a leaf's number comes from (_PARAM, _INPUT, _CONST); 0 for ops
    ref: object          # a leaf's index among the params, the flat inputs or the constants


class _Edges(NamedTuple):
    """parent -> child links, one entry per link"""
    parent: object
    child: object
    side: object         # 0 if the child is the parent's first operand (its _prev[0]), 1 if second
    owner: object        # the parent, or the top of the + chain it was folded into

    def select(self, index):
        """the links a mask or an index array picks, in its order"""
        return _Edges(*(field[index] for field in self))


class _Plan(NamedTuple):
    """what a replay runs: index arrays into one array of values, and the buffers it reuses"""
    values: object       # params, inputs, constants, a -0.0 to pad sums, then the ops in forward order
    inputs_end: int
    root: int            # the loss's slot in values
    root_param: object   # the loss's index in params if it is one, else None
    aux_slots: object
    groups: list         # forward, in order: (kind, lo, hi, x, y) per group of same-depth same-op nodes
    used_refs: list      # params the loss depends on, besides the loss itself
    used_slots: object
    initial: object      # the contributions that carry in each used parameter's .grad
    local_sources: list  # (kind, contributions, the slots their local derivatives come from, exponent)
    local: object        # each contribution's local derivative; sums' stay 1.0
    grads: object        # a gradient per value slot, and a last slot holding 1.0
    levels: list         # backward, in order: one entry per level, see _backward_levels


def _schedule(np, tape, n_params):
    """turn a recording into a _Plan: forward groups per depth and op, backward per level"""
    graph = _graph(np, tape)
    n = len(graph.code)
    root = n - 1
    is_param = graph.origin == _PARAM
    take_a, take_b, top = _fold_sums(np, graph, tape.aux)
    edges = _edges(np, graph, take_a, take_b, top)
    depth, needs_grad = _depths_and_needs_grad(np, edges, is_param)

    terms = np.bincount(edges.owner, minlength=n)   # a sum's term count; 1 or 2 for other ops
    nodes, node_groups, width = _forward_order(np, graph, top == np.arange(n), depth, terms)
    inputs_end = n_params + sum(arg.size for arg in tape.args)
    slot_of, values, pad = _value_slots(np, graph, nodes, n_params, inputs_end, tape.consts)
    groups = _forward_groups(np, graph, edges, node_groups, terms, width, slot_of, pad)

    # a gradient flows only into what a parameter is computed from: other links are dropped
    edges = edges.select(needs_grad[edges.child])
    level = _levels(np, n, edges)
    used = np.flatnonzero(is_param & (np.arange(n) != root))
    one = len(values)   # the gradient array's extra slot, holding 1.0
    child, parent_slot, position = _backward_order(np, edges, level, used, slot_of, one)
    sources, is_div = _local_sources(np, graph, edges, slot_of, position[len(used):], len(position))
    grads = np.zeros(one + 1)
    grads[one] = 1.0
    return _Plan(
        values=values, inputs_end=inputs_end, root=int(slot_of[root]),
        root_param=int(graph.ref[root]) if is_param[root] else None,
        aux_slots=slot_of[tape.aux] if tape.aux else np.zeros(0, np.int64),
        groups=groups, used_refs=graph.ref[used].tolist(), used_slots=slot_of[used],
        initial=position[:len(used)], local_sources=sources, local=np.ones(len(position)), grads=grads,
        levels=_backward_levels(np, child, parent_slot, level, is_div, slot_of))


def _graph(np, tape):
    """the recording's lists as per-node arrays"""
    lens = np.array(tape.lens, np.int64)
    opkey, kind_of, exponent_of = _op_kinds(np, tape.ops, lens)
    a, b = _operands(np, lens, np.array(tape.kids, np.int64))
    origin, ref = np.zeros(len(lens), np.int64), np.zeros(len(lens), np.int64)
    origin[tape.leaves] = [kind for kind, _ in tape.origins]
    ref[tape.leaves] = [index for _, index in tape.origins]
    code = np.where(lens > 0, kind_of[opkey], _LEAF)
    return _Graph(code, opkey, kind_of, exponent_of, a, b, origin, ref)


def _op_kinds(np, ops, lens):
    """one key per distinct _op string, and each key's kind and exponent; refuses unknown ops"""
    names = sorted(set(ops))   # sorted, not set order: string hashes change from run to run
    key_of = {op: k for k, op in enumerate(names)}
    opkey = np.array([key_of[op] for op in ops], np.int64)
    kind_of, exponent_of = np.zeros(len(names), np.int8), [None] * len(names)
    for k, op in enumerate(names):
        if not lens[opkey == k].any():
            continue  # leaves only: a leaf's _op is just a label
        kind = _OPS.get(op)
        if kind is None and op.startswith('**'):
            kind, exponent_of[k] = _POW, _parse_exponent(op)
        if kind is None:
            raise ValueError(f"compile can't replay the op {op!r}: it knows + * ** relu tanh exp log "
                             "sigmoid and the ops built from them")
        wrong = (opkey == k) & (lens != _ARITY[kind])
        if wrong.any():
            raise ValueError(f"a {op!r} node has {lens[wrong][0]} children, expected {_ARITY[kind]}")
        kind_of[k] = kind
    return opkey, kind_of, exponent_of


def _operands(np, lens, kids):
    """each node's first and second child, -1 where it has fewer"""
    if not len(kids):   # the loss is a leaf
        return np.full(len(lens), -1), np.full(len(lens), -1)
    last = len(kids) - 1
    # clamped so that leaves at the end index in range: np.where drops what they read
    first = np.minimum(np.cumsum(lens) - lens, last)
    a = np.where(lens >= 1, kids[first], -1)
    b = np.where(lens >= 2, kids[np.minimum(first + 1, last)], -1)
    return a, b


def _fold_sums(np, graph, aux):
    """which + nodes absorb their first or second operand, and the top each node is folded into"""
    # a chain of + nodes, each the only user of the one below, is one n-ary sum: folded left to
    # right it gives the chain's value bit for bit, and every term gets the top's gradient
    n, a, b = len(graph.code), graph.a, graph.b
    n_parents = np.bincount(a[a >= 0], minlength=n) + np.bincount(b[b >= 0], minlength=n)
    if aux:
        n_parents[aux] += 1  # a value asked for keeps a slot of its own: never folded away
    is_add = graph.code == _ADD
    foldable = is_add & (n_parents == 1)
    # a + node absorbs one operand at most (its first if it can), so a chain stays a line. The
    # node below's terms come first in the fold, right on either side: x + y == y + x exactly.
    # Only + nodes look at foldable[a] and [b], and they have both operands: never a -1
    take_a = is_add & foldable[a]
    take_b = is_add & ~take_a & foldable[b]
    below = np.where(take_a, a, np.where(take_b, b, -1))   # the + node folded into this one
    top = np.arange(n)
    top[below[below >= 0]] = np.flatnonzero(below >= 0)
    while True:  # pointer jumping: every folded node finds the top of its chain
        up = top[top]
        if np.array_equal(up, top):
            break
        top = up
    return take_a, take_b, top


def _edges(np, graph, take_a, take_b, top):
    """every link but the folded ones, in fold order: by owner, then parent, then side"""
    # within a sum this is the order its terms are folded in; a folded + node's links belong to
    # its chain's top, and its link to the node below disappears
    parent = np.concatenate([np.arange(len(top)), np.arange(len(top))])
    edges = _Edges(parent, np.concatenate([graph.a, graph.b]), np.repeat([0, 1], len(top)), top[parent])
    edges = edges.select((edges.child >= 0) & ~np.concatenate([take_a, take_b]))
    return edges.select(np.lexsort((edges.side, edges.parent, edges.owner)))


def _depths_and_needs_grad(np, edges, is_param):
    """each node's forward depth, and whether it is computed from a parameter"""
    # links are sorted by owner and an owner comes after its children in topological order: a
    # node's depth and flag are final before any link reads them
    depth = [0] * len(is_param)
    needs_grad = is_param.tolist()
    for s, ch in zip(edges.owner.tolist(), edges.child.tolist()):
        if depth[ch] >= depth[s]:
            depth[s] = depth[ch] + 1
        if needs_grad[ch]:
            needs_grad[s] = True
    return np.array(depth), np.array(needs_grad)


def _forward_order(np, graph, kept, depth, terms):
    """the op nodes sorted into groups of one depth, op and sum width, and each node's width"""
    # a group of sums is one table, so its sums need one width: up to 64 terms they group by their
    # exact count; longer ones by the next power of two, padded with -0.0, so the groups stay few
    rounded = 2 ** np.ceil(np.log2(np.maximum(terms, 1)))
    width = np.where(graph.code == _ADD, np.where(terms <= 64, terms, rounded), 0).astype(np.int64)
    nodes = np.flatnonzero(kept & (graph.code != _LEAF))
    nodes = nodes[np.lexsort((nodes, width[nodes], graph.opkey[nodes], depth[nodes]))]
    keys = np.stack([depth[nodes], graph.opkey[nodes], width[nodes]], 1)
    starts = np.flatnonzero(np.r_[True, np.any(keys[1:] != keys[:-1], 1)])[:len(nodes)]
    return nodes, np.split(nodes, starts[1:]) if len(nodes) else [], width


def _value_slots(np, graph, nodes, n_params, inputs_end, consts):
    """each node's slot in the value array, the array with the constants in, and the -0.0's slot"""
    # parameters, inputs, constants, a -0.0 to pad sums, then the ops in forward order: one
    # contiguous block per group
    pad = inputs_end + len(consts)
    leaf = np.flatnonzero(graph.origin)
    slot_of = np.full(len(graph.code), -1, np.int64)
    slot_of[leaf] = graph.ref[leaf] + np.array([0, 0, n_params, inputs_end])[graph.origin[leaf]]
    slot_of[nodes] = pad + 1 + np.arange(len(nodes))
    values = np.zeros(pad + 1 + len(nodes))
    values[inputs_end:pad] = [v.data for v in consts]
    values[pad] = -0.0   # x + -0.0 is x for every x, -0.0 included
    return slot_of, values, pad


def _forward_groups(np, graph, edges, node_groups, terms, width, slot_of, pad):
    """per group: its kind, its block of output slots, and the slots it reads"""
    groups = []
    for group in node_groups:
        kind = int(graph.code[group[0]])
        out = (int(slot_of[group[0]]), int(slot_of[group[-1]]) + 1)
        if kind == _ADD:
            # one row per term position, one column per sum: accumulate runs down the rows
            span = np.arange(int(width[group[0]]))[:, None]
            edge = np.searchsorted(edges.owner, group) + span   # links are sorted by owner
            inside = span < terms[group]
            # clamped so that a short sum's rows past its end index in range: np.where drops them
            table = np.where(inside, slot_of[edges.child[np.minimum(edge, len(edges.child) - 1)]], pad)
            groups.append((kind, *out, table, None))
        elif kind == _MUL:
            groups.append((kind, *out, slot_of[graph.a[group]], slot_of[graph.b[group]]))
        else:   # one operand; y is the exponent of a power
            exponent = graph.exponent_of[graph.opkey[group[0]]]
            groups.append((kind, *out, slot_of[graph.a[group]], exponent))
    return groups


def _levels(np, n, edges):
    """each node's backward level: one more than its latest parent's"""
    # a level is one bincount, so a node's contributions must all be ready when its level runs.
    # Links in reverse: an owner comes after its children, so its level is final before it is read
    level = [0] * n
    for s, ch in zip(edges.owner[::-1].tolist(), edges.child[::-1].tolist()):
        if level[s] >= level[ch]:
            level[ch] = level[s] + 1
    return np.array(level)


def _backward_order(np, edges, level, used, slot_of, one):
    """the contributions in replay order: their children, parents' slots, and each one's position"""
    # by level, then child, then in backward()'s order: parents later in topological order first,
    # then by side. Each used parameter starts from its .grad: an extra link whose local
    # derivative is p.grad and whose parent is the slot holding 1.0, added before the others
    k = len(used)
    child = np.r_[used, edges.child]
    parent = np.r_[np.full(k, len(level)), edges.parent]   # later than every node: added first
    order = np.lexsort((np.r_[np.zeros(k, np.int64), edges.side], -parent, child, level[child]))
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))
    parent_slot = np.r_[np.full(k, one), slot_of[edges.owner]][order]
    return child[order], parent_slot, position


def _local_sources(np, graph, edges, slot_of, position, n_contributions):
    """where each link's local derivative is read from, by its parent's op, and which links divide"""
    owner_code = graph.code[edges.owner]
    owner_key = graph.opkey[edges.owner]
    sources = []
    for key in np.unique(owner_key).tolist():
        kind = int(graph.kind_of[key])
        pick = np.flatnonzero((owner_key == key) & (owner_code != _ADD))
        if not len(pick):
            continue  # sums: the local derivative is 1.0, the buffer's initial value
        parent = edges.parent[pick]   # not a sum, so the parent is its own owner
        if kind == _MUL:    # other.data
            src = slot_of[np.where(edges.side[pick] == 0, graph.b[parent], graph.a[parent])]
        elif kind in (_POW, _LOG):    # x
            src = slot_of[graph.a[parent]]
        else:               # relu, tanh, exp, sigmoid: out.data
            src = slot_of[parent]
        sources.append((kind, position[pick], src, graph.exponent_of[key]))
    is_div = np.zeros(n_contributions, bool)
    # log: eager computes out.grad / x, which multiplying by 1 / x would round differently
    is_div[position[owner_code == _LOG]] = True
    return sources, is_div


def _backward_levels(np, child, parent_slot, level, is_div, slot_of):
    """per level: its contributions, the children they add to, and the ones that divide"""
    # (lo, hi) of the contributions, their parents' slots, each one's child as an index into the
    # level's children, the children's slots and count, and the dividing ones with their parents
    child_level = level[child]
    bounds = np.flatnonzero(np.r_[True, child_level[1:] != child_level[:-1], True])
    levels = []
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        children, segment = np.unique(child[lo:hi], return_inverse=True)
        parents = parent_slot[lo:hi]
        div = np.flatnonzero(is_div[lo:hi])
        levels.append((lo, hi, parents, segment, slot_of[children], len(children),
                       div if len(div) else None, parents[div] if len(div) else None))
    return levels


def _run_groups(np, V, groups):
    """every node's value, one numpy operation per group of same-depth same-op nodes"""
    for kind, lo, hi, x, y in groups:
        if kind == _MUL:
            V[lo:hi] = V[x] * V[y]
        elif kind == _ADD:
            if len(x) == 2:
                V[lo:hi] = V[x[0]] + V[x[1]]
            else:  # accumulate folds top to bottom; reduce may sum pairwise, another rounding
                V[lo:hi] = np.add.accumulate(V[x], axis=0)[-1]
        elif kind == _RELU:
            v = V[x]
            V[lo:hi] = np.where(v < 0, 0.0, v)
        else:
            V[lo:hi] = _math_op(np, kind, V[x], y)


def _math_op(np, kind, v, n):
    """tanh, exp, log, sigmoid and powers by Python's math, element by element: the eager
    engine's exact numbers (numpy's vectorised versions may differ in the last bit)"""
    if kind == _TANH:
        return list(map(math.tanh, v.tolist()))
    if kind == _EXP:
        try:
            return list(map(math.exp, v.tolist()))
        except OverflowError:
            x = next(x for x in v.tolist() if x > 700 and math.isfinite(x) and _overflows(math.exp, x))
            raise OverflowError(f"exp({x}) is too large for a float") from None
    if kind == _LOG:
        bad = v <= 0
        if bad.any():
            raise ValueError(f"log needs a positive value, got {v[bad][0]}")
        return list(map(math.log, v.tolist()))
    if kind == _SIGMOID:
        # exp(-|x|) is exp(-x) where x >= 0 and exp(x) elsewhere: eager's two branches
        e = np.array(list(map(math.exp, (-np.abs(v)).tolist())))
        return np.where(v >= 0, 1 / (1 + e), e / (1 + e))
    return _power(np, v, n, "")


def _power(np, v, n, where):
    """v ** n element by element, raising where the eager engine raises"""
    zero = (v == 0) & (n < 0)
    if zero.any():
        raise ZeroDivisionError(f"Value(0.0) ** {n}{where}: division by zero")
    if not float(n).is_integer() and (v < 0).any():
        raise ValueError(f"a negative base ({v[v < 0][0]}) to a fractional power ({n}){where} is not real")
    out = []
    for x in v.tolist():
        try:
            out.append(x ** n)
        except OverflowError:
            raise OverflowError(f"{x} ** {n}{where} is too large for a float") from None
    return out


def _local_derivatives(np, V, L, local_sources):
    """d out / d child for every edge, from this call's values; sums keep their 1.0"""
    for kind, pos, src, n in local_sources:
        v = V[src]
        if kind in (_MUL, _EXP, _LOG):    # other.data; out.data; x, which log divides by
            L[pos] = v
        elif kind == _RELU:
            L[pos] = v > 0
        elif kind == _TANH:
            L[pos] = 1 - np.array(_power(np, v, 2, ""))
        elif kind == _SIGMOID:
            L[pos] = v * (1 - v)
        else:  # n * x ** (n - 1), in the eager engine's order of operations
            L[pos] = n * np.array(_power(np, v, n - 1, " in the backward pass"))


def _overflows(f, x):
    try:
        f(x)
    except OverflowError:
        return True
    return False


def _parse_exponent(op):
    text = op[2:]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"compile can't read the exponent of the op {op!r}") from None


def _nest(flat, shape):
    """flat Values as nested lists of the given shape; a 0-d shape gives the one Value"""
    if not shape:
        return flat[0]
    for size in reversed(shape[1:]):
        flat = [flat[i:i + size] for i in range(0, len(flat), size)]
    return flat


def _as_array(np, arg, i):
    try:
        array = np.asarray(arg)
    except ValueError:
        raise ValueError(f"input {i} is ragged: nested lists must be rectangular") from None
    if array.dtype.kind not in 'iuf':
        raise TypeError(f"input {i} must hold real numbers (int or float), got {array.dtype} "
                        "(bools, Values and objects are refused)")
    return array.astype(np.float64)


def _numpy():
    try:
        import numpy
    except ImportError:
        raise ImportError("micrograd.compile needs numpy: pip install 'micrograd[fast]'") from None
    return numpy
