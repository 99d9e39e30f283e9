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

from micrograd.engine import Value, _topo_order

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
        _schedule(self, tape, len(params))

    def __call__(self, *inputs):
        np = _numpy()
        self._calls += 1
        args = self._check(np, inputs)
        if self.check_every and self._calls % self.check_every == 0:
            self._verify(args, "on these inputs")
        with np.errstate(all='ignore'):  # inf and nan propagate as in Python floats; errors raise below
            loss = self._forward(np, args)
            if self._root_param is not None:  # the loss is a parameter itself: backward() sets 1.0
                self._params[self._root_param].grad = 1.0
            elif self._levels:
                self._backward(np, self._values)
        if self._has_aux:
            return loss, self._values[self._aux_slots].tolist()
        return loss

    def _forward(self, np, args):
        V = self._values
        V[:self._n_params] = np.fromiter((p.data for p in self._params), float, self._n_params)
        if args:
            V[self._n_params:self._inputs_end] = np.concatenate([a.ravel() for a in args])
        _run_groups(np, V, self._groups)
        return float(V[self._root])

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

    def _backward(self, np, V):
        L, G = self._local, self._grads
        L[self._initial] = np.fromiter((p.grad for p in self._used), float, len(self._used))
        _local_derivatives(np, V, L, self._locals)
        G[self._root] = 1.0
        for lo, hi, parents, segment, children, n, div, div_parents in self._levels:
            contrib = L[lo:hi] * G[parents]
            if div is not None:  # log: eager divides out.grad by x
                contrib[div] = G[div_parents] / L[lo:hi][div]
            G[children] = np.bincount(segment, contrib, n)
        for p, g in zip(self._used, G[self._used_slots].tolist()):
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
    order = _topo_order(root)
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


def _schedule(c, tape, n_params):
    """turn a recording into index arrays: forward groups per depth and op, backward per level"""
    np = _numpy()
    ops, n = tape.ops, len(tape.ops)
    # one key per distinct _op string: nodes group by it, and it gives the kind and the exponent
    names = sorted(set(ops))
    key_of = {op: k for k, op in enumerate(names)}
    opkey = np.array([key_of[op] for op in ops], np.int64)
    kind_of, exponent_of = np.zeros(len(names), np.int8), [None] * len(names)
    lens = np.array(tape.lens, np.int64)
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
    code = np.where(lens > 0, kind_of[opkey], _LEAF)
    kids = np.array(tape.kids, np.int64)
    first = np.minimum(np.cumsum(lens) - lens, max(len(kids) - 1, 0))
    a = np.where(lens >= 1, kids[first] if len(kids) else -1, -1)
    b = np.where(lens >= 2, kids[np.minimum(first + 1, max(len(kids) - 1, 0))] if len(kids) else -1, -1)
    root = n - 1
    leaf = np.array(tape.leaves, np.int64)
    leaf_kind = np.array([kind for kind, _ in tape.origins], np.int64)
    leaf_ref = np.array([ref for _, ref in tape.origins], np.int64)
    is_param = np.zeros(n, bool)
    is_param[leaf[leaf_kind == _PARAM]] = True
    param_ref = np.zeros(n, np.int64)
    param_ref[leaf] = leaf_ref

    # a chain of + nodes, each the only user of the one below, is one n-ary sum: folded left to
    # right it gives the chain's value bit for bit, and every term gets the top's gradient
    n_parents = np.bincount(a[a >= 0], minlength=n) + np.bincount(b[b >= 0], minlength=n)
    if tape.aux:
        n_parents[tape.aux] += 1  # a value asked for keeps a slot of its own: never folded away
    is_add = code == _ADD
    foldable = is_add & (n_parents == 1)
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
    kept = top == np.arange(n)

    # edges parent -> child in backward() order: by parent position, then slot. A folded + node's
    # edges belong to its chain's top; its link to the node below disappears
    parent = np.concatenate([np.arange(n), np.arange(n)])
    child = np.concatenate([a, b])
    slot = np.repeat([0, 1], n)
    live = (child >= 0) & ~np.concatenate([take_a, take_b])
    parent, child, slot = parent[live], child[live], slot[live]
    owner = top[parent]
    by_owner = np.lexsort((slot, parent, owner))   # a sum's terms in fold order
    parent, child, slot, owner = parent[by_owner], child[by_owner], slot[by_owner], owner[by_owner]

    # depth (forward) and whether a gradient is needed, children before parents
    depth = [0] * n
    grad = is_param.tolist()
    for s, ch in zip(owner.tolist(), child.tolist()):
        if depth[ch] >= depth[s]:
            depth[s] = depth[ch] + 1
        if grad[ch]:
            grad[s] = True
    depth = np.array(depth)
    grad = np.array(grad)

    # slots in the value array: parameters, inputs, constants, a -0.0 to pad sums, then the ops
    # in forward order, one contiguous block per group
    n_inputs = sum(arg.size for arg in tape.args)
    pad = n_params + n_inputs + len(tape.consts)
    slot_of = np.full(n, -1, np.int64)
    slot_of[leaf] = leaf_ref + np.array([0, 0, n_params, n_params + n_inputs])[leaf_kind]
    terms = np.bincount(owner, minlength=n)
    # sums of up to 64 terms group by their exact count; longer ones by the next power of two
    rounded = 2 ** np.ceil(np.log2(np.maximum(terms, 1)))
    width = np.where(code == _ADD, np.where(terms <= 64, terms, rounded), 0)
    nodes = np.flatnonzero(kept & (code != _LEAF))
    keys = np.stack([depth[nodes], opkey[nodes], width[nodes].astype(np.int64)])
    nodes = nodes[np.lexsort(np.vstack([nodes, keys[::-1]]))]
    keys = np.stack([depth[nodes], opkey[nodes], width[nodes].astype(np.int64)], 1)
    slot_of[nodes] = pad + 1 + np.arange(len(nodes))
    c._values = np.zeros(pad + 1 + len(nodes))
    c._values[n_params + n_inputs:pad] = [v.data for v in tape.consts]
    c._values[pad] = -0.0   # x + -0.0 is x for every x, -0.0 included
    c._n_params, c._inputs_end, c._root = n_params, n_params + n_inputs, int(slot_of[root])
    c._root_param = int(param_ref[root]) if is_param[root] else None
    c._aux_slots = slot_of[tape.aux] if tape.aux else np.zeros(0, np.int64)

    # forward groups: same depth, same op, same number of terms
    c._groups = []
    starts = np.flatnonzero(np.r_[True, np.any(keys[1:] != keys[:-1], 1)])[:len(nodes)]
    ends = np.r_[starts[1:], len(nodes)]
    first_edge = np.searchsorted(owner, nodes)   # edges are sorted by owner: each node's terms
    for lo, hi in zip(starts.tolist(), ends.tolist()):
        group = nodes[lo:hi]
        kind = int(code[group[0]])
        out = (pad + 1 + lo, pad + 1 + hi)
        if kind == _ADD:
            # one row per term position, one column per sum: accumulate runs down the rows
            span = np.arange(int(width[group[0]]))[:, None]
            edge = first_edge[lo:hi] + span
            inside = span < terms[group]
            table = np.where(inside, slot_of[child[np.minimum(edge, len(child) - 1)]], pad)
            c._groups.append((kind, *out, table, None))
        elif kind == _MUL:
            c._groups.append((kind, *out, slot_of[a[group]], slot_of[b[group]]))
        else:
            c._groups.append((kind, *out, slot_of[a[group]], exponent_of[opkey[group[0]]]))

    # backward: each child's gradient is the sum of its edges' contributions, in the order
    # backward() adds them (parents later in topological order first, then by slot). A child's
    # level is one more than its latest parent's, so all its contributions are ready at once
    need = grad[child]
    parent, child, slot, owner = parent[need], child[need], slot[need], owner[need]
    level = [0] * n
    for s, ch in zip(owner[::-1].tolist(), child[::-1].tolist()):
        if level[s] >= level[ch]:
            level[ch] = level[s] + 1
    level = np.array(level)
    # each used parameter starts from its .grad: a first edge whose local value is p.grad and
    # whose parent is a slot ONE holding 1.0
    used = np.flatnonzero(is_param & (np.arange(n) != root))
    one = len(c._values)
    k = len(used)
    e_child = np.r_[used, child]
    e_parent = np.r_[np.full(k, n), parent]    # later than every node: added first
    order = np.lexsort((np.r_[np.zeros(k, np.int64), slot], -e_parent, e_child, level[e_child]))
    e_child = e_child[order]
    e_owner_slot = np.r_[np.full(k, one), slot_of[owner]][order]
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))
    c._initial = position[:k]
    c._used = [c._params[r] for r in param_ref[used].tolist()]
    c._used_slots = slot_of[used]

    # what each edge's local derivative is read from, by its parent's op
    owner_code = code[owner]
    operand = slot_of[a[parent]]
    c._locals = []
    for key in np.unique(opkey[owner]).tolist():
        kind = int(kind_of[key])
        pick = np.flatnonzero((opkey[owner] == key) & (owner_code != _ADD))
        if not len(pick):
            continue  # sums: the local derivative is 1.0, set once below
        pos = position[k + pick]
        if kind == _MUL:    # other.data
            src = slot_of[np.where(slot[pick] == 0, b[parent[pick]], a[parent[pick]])]
        elif kind in (_POW, _LOG):    # x
            src = operand[pick]
        else:               # relu, tanh, exp, sigmoid: out.data
            src = slot_of[owner[pick]]
        c._locals.append((kind, pos, src, exponent_of[key]))
    c._local = np.ones(len(order))
    is_div = np.zeros(len(order), bool)
    is_div[position[k + np.flatnonzero(owner_code == _LOG)]] = True

    c._grads = np.zeros(one + 1)
    c._grads[one] = 1.0
    c._levels = []
    e_level = level[e_child]
    bounds = np.flatnonzero(np.r_[True, e_level[1:] != e_level[:-1], True])
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        kids_here, segment = np.unique(e_child[lo:hi], return_inverse=True)
        parents = e_owner_slot[lo:hi]
        div = np.flatnonzero(is_div[lo:hi])
        c._levels.append((lo, hi, parents, segment, slot_of[kids_here], len(kids_here),
                          div if len(div) else None, parents[div] if len(div) else None))


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


def _local_derivatives(np, V, L, locals_):
    """d out / d child for every edge, from this call's values; sums keep their 1.0"""
    for kind, pos, src, n in locals_:
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
