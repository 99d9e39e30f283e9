"""Value: a scalar that remembers how it was made, and backpropagates through it."""
import functools
import math
import operator

from micrograd.floats import (as_float, ieee_pow, is_int, nan_max, power, quotient, reciprocal, sech_squared,
                              sigmoid, sigmoid_slope)


class Value:
    """a scalar and its gradient"""
    # Each op keeps one backward function, shared by all its nodes, in _grad_fn; _backward makes
    # the lecture's closure on demand. A closure per node adds a function and its cells for the
    # garbage collector to track, 3x the objects: a moons step runs about 4x slower even without the
    # original's node -> closure -> node cycle, about 7x with it (benchmarks/bench_closures.py)
    # '__dict__': any other attribute, as the original's Value takes (v.name = 'x'); 32 bytes a node.
    # '__weakref__': weakref.ref(v), as the original's Value allows; 8 bytes a node.
    # An op's one or two children live in the slots _prev_a and _prev_b, not in a tuple: a tuple per
    # node is a second object for the garbage collector to track: a moons step ran 143 -> 114 ms
    # without it (with topological_order reading the slots). _prev still gives the lecture's tuple.
    # Named after _prev so that a subclass's own self._a or self._b can't change a graph
    __slots__ = ('data', 'grad', '_prev_a', '_prev_b', '_op', 'label', '_grad_fn', '__dict__', '__weakref__')

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """numpy's `x * v` for a NumPy x: a number is a Python float first; an array, of any shape, gives
        an object array of Values, each made by the Value's own op, as micrograd 0.1.0 gives"""
        op = _NUMPY_OPS.get(ufunc.__name__) if method == '__call__' and not kwargs else None
        if op is None:
            return NotImplemented  # numpy.exp(v) and the like: numpy raises its TypeError
        import numpy  # numpy called us, so it is loaded already
        if not any(isinstance(x, numpy.ndarray) for x in inputs):
            # a NumPy int stays an int, so 3 ** v is labelled '3**' as for Python's 3
            return op(*(x if isinstance(x, Value) else int(x) if is_int(x) else as_float(x) for x in inputs))
        boxed = [x if isinstance(x, numpy.ndarray) else numpy.empty((), object) for x in inputs]
        for box, x in zip(boxed, inputs):
            if box is not x:
                box[()] = x  # a Value in a 0-d object array: numpy no longer hands the op back to us
        return numpy.frompyfunc(op, 2, 1)(*boxed)

    def __init__(self, data, _children=(), _op='', label=''):
        self.data = as_float(data)
        self.grad = 0.0
        self._prev = _children  # kept in two slots (see _prev below)
        self._op = _op
        self.label = label
        self._grad_fn = Value._leaf_backward

    @property
    def _prev(self):
        """the children this Value was made from, as a tuple: (), (a,), (a, b), or all of a dot's"""
        a, b = self._prev_a, self._prev_b
        if a is None:
            return b  # () for a leaf, else the tuple of three or more
        return (a,) if b is None else (a, b)

    @_prev.setter
    def _prev(self, children):
        children = tuple(children)  # a tuple, not a set: iteration order must not depend on id()
        if len(children) == 2 and all(isinstance(c, Value) for c in children):
            self._prev_a, self._prev_b = children
        elif len(children) == 1 and isinstance(children[0], Value):
            self._prev_a, self._prev_b = children[0], None
        else:  # none, three or more (a dot), or anything but Values: the tuple itself, as it was given
            self._prev_a, self._prev_b = None, children

    @property
    def _backward(self):
        """the closure that passes self.grad on to the children, as in the lecture: o._backward()"""
        return lambda: self._grad_fn(self)

    @_backward.setter
    def _backward(self, closure):
        # an op written the lecture's way assigns its own closure: it runs in backward() like any other
        # the lecture's own __init__ in a subclass sets _backward before _op
        self._grad_fn = _Closure(closure, getattr(self, '_op', ''))

    @staticmethod
    def _leaf_backward(out):
        """a leaf has no children to pass gradient to"""

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return _result(self.data + other.data, '+', Value._add_backward, self, other)

    @staticmethod
    def _add_backward(out):  # out = a + b
        a, b = out._prev_a, out._prev_b
        a.grad += out.grad
        b.grad += out.grad

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return _result(self.data * other.data, '*', Value._mul_backward, self, other)

    @staticmethod
    def _mul_backward(out):  # out = a * b
        a, b = out._prev_a, out._prev_b
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    def __pow__(self, other):
        n = _as_exponent(other)
        return _result(power(self.data, n), f'**{n}', _pow_backward(n), self)

    def relu(self):
        return _result(0.0 if self.data < 0 else self.data, 'ReLU', Value._relu_backward, self)

    @staticmethod
    def _relu_backward(out):  # out = a.relu()
        a = out._prev_a
        # exactly 0 where x <= 0, as torch: (x > 0) * out.grad made an inf out.grad nan; a nan x passes it
        a.grad += 0.0 if out.data <= 0 else out.grad  # relu'(0) = 0, as in torch

    def abs(self):
        return _result(abs(self.data), 'abs', Value._abs_backward, self)

    __abs__ = abs  # abs(v)

    @staticmethod
    def _abs_backward(out):  # out = a.abs()
        a = out._prev_a
        a.grad += ((a.data > 0) - (a.data < 0)) * out.grad  # sign(x); abs'(0) = 0, as in torch

    def tanh(self):
        # math.tanh saturates at ±1; the exp formula overflows for large |x|
        return _result(math.tanh(self.data), 'tanh', Value._tanh_backward, self)

    @staticmethod
    def _tanh_backward(out):  # out = a.tanh()
        a = out._prev_a
        # 1 - tanh² cancels where tanh saturates (a last-bit error of out.data becomes 1e-6 at x = 11.85):
        # there the exact sech²(x) = 4e/(1 + e)², e = exp(-2|x|); torch's form where it loses no digits
        y = out.data
        a.grad += ((1 - y**2) if y**2 <= 0.5 else sech_squared(a.data)) * out.grad

    def exp(self):
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp({self.data}) is too large for a float") from None
        return _result(e, 'exp', Value._exp_backward, self)

    @staticmethod
    def _exp_backward(out):  # out = a.exp()
        a = out._prev_a
        a.grad += out.data * out.grad  # d/dx e^x = e^x

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive value, got {self.data}")
        return _result(math.log(self.data), 'log', Value._log_backward, self)

    @staticmethod
    def _log_backward(out):  # out = a.log()
        a = out._prev_a
        a.grad += out.grad / a.data  # d/dx log(x) = 1/x

    def sigmoid(self):
        return _result(sigmoid(self.data), 'sigmoid', Value._sigmoid_backward, self)

    @staticmethod
    def _sigmoid_backward(out):  # out = a.sigmoid()
        a = out._prev_a
        # s' = s (1 - s), torch's form, where s <= 0.5; above, 1 - s cancels: e / (1 + e)², e = exp(-x)
        s = out.data
        a.grad += (s * (1 - s) if s <= 0.5 else sigmoid_slope(a.data)) * out.grad

    def softplus(self):
        # log(1 + e^x) as max(x, 0) + log1p(e^-|x|): exp never sees a positive number, so no overflow
        x = self.data
        return _result(max(x, 0.0) + math.log1p(math.exp(-abs(x))), 'softplus', Value._softplus_backward, self)

    @staticmethod
    def _softplus_backward(out):  # out = a.softplus()
        a = out._prev_a
        a.grad += sigmoid(a.data) * out.grad  # d/dx log(1 + e^x) = sigmoid(x)

    def backward(self):
        """d(self)/d(v) into v.grad for every v self depends on, as torch: leaves add it to what they had"""
        order = topological_order(self)
        for v in order:
            if v._prev_a is not None or v._prev_b:  # v._prev, read from the slots: one look per node
                v.grad = 0.0  # an interior node's grad from an earlier backward() must not flow again
        self.grad += 1.0
        for v in reversed(order):
            v._grad_fn(v)  # what v._backward() does, without making a closure per node

    __radd__ = __add__  # other + self
    __rmul__ = __mul__  # other * self

    def __neg__(self):  # -self
        return self * -1

    def __sub__(self, other):  # self - other
        # a number is made a float before it is negated: -numpy.uint8(1) would wrap around to 255
        return self + (-other if isinstance(other, Value) else -as_float(other))

    def __rsub__(self, other):  # other - self
        return -self + other

    def __truediv__(self, other):  # self / other, drawn as the original's self * other**-1
        # the * node holds the quotient itself and passes out.grad / other to self: self * (1/other)
        # rounds twice, and 1/other is inf for a subnormal other (1e-310) where the quotient is a float
        other = other if isinstance(other, Value) else Value(other)
        inverse = _result(reciprocal(other.data), '**-1', _pow_backward(-1), other)  # inf if other is subnormal
        return _result(quotient(self.data, other.data), '*', Value._div_backward, self, inverse)

    @staticmethod
    def _div_backward(out):  # out = a / b, drawn as a * b**-1
        a, inverse = out._prev_a, out._prev_b
        b = inverse._prev_a
        a.grad += out.grad / b.data  # d/da a/b = 1/b, as torch computes it
        inverse.grad += a.data * out.grad  # d/d(b**-1) a * b**-1 = a; its backward gives b -a/b² * grad

    def __rtruediv__(self, other):  # other / self
        return Value(other) / self

    def __rpow__(self, other):  # other ** self, computed as a power, so 2 ** Value(3.0) is 8.0
        base = _as_exponent(other)  # an int base keeps its name in the op: '2**'
        if not base > 0:
            raise ValueError(f"number ** Value needs a positive base, got {base}")
        return _result(power(float(base), self.data), f'{base}**', _rpow_backward(float(base)), self)

    def _refuse_comparison(self, other, symbol):
        # == stays identity (the original's): Values are kept in sets and dicts, as topological_order does
        right = 'w.data' if isinstance(other, Value) else repr(other)
        raise TypeError(f"a Value can't be compared with {symbol}: compare the numbers, v.data {symbol} {right}. "
                        "A comparison is not an op: it has no gradient, and compile() would freeze a branch "
                        "on it at recording (docs/compile.md)")

    def __lt__(self, other):
        self._refuse_comparison(other, '<')

    def __le__(self, other):
        self._refuse_comparison(other, '<=')

    def __gt__(self, other):
        self._refuse_comparison(other, '>')

    def __ge__(self, other):
        self._refuse_comparison(other, '>=')

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"


def amax(values):
    """the largest of values; its gradient goes to the winner, split evenly among ties as torch.amax"""
    # not detached: where a stable softmax or log-sum-exp subtracts it, its gradient cancels
    values = _as_values(values, 'amax')
    out = Value(nan_max([v.data for v in values]), values, 'max')
    out._grad_fn = _amax_backward
    return out


def _amax_backward(out):  # out = amax(values)
    # torch's rule for every value, losers too: their 0 * out.grad is nan when an inf or nan flows in
    ties = sum(v.data == out.data for v in out._prev)  # 0 when the max is nan: then all get nan
    for v in out._prev:
        v.grad += out.grad / ties * (v.data == out.data) if ties else math.nan  # d max/d x = 1/ties if x won


def dot(ws, xs):
    """w0*x0 + w1*x1 + ... as one node, with the numbers of the chain of * and + summed left to right"""
    # one node instead of 2n - 1: a linear layer's graph, most of a GPT's, shrinks by half or more
    ws, xs = _as_values(ws, 'dot'), _as_values(xs, 'dot')
    if len(ws) != len(xs):
        raise ValueError(f"dot needs two lists of the same length, got {len(ws)} and {len(xs)}")
    total = ws[0].data * xs[0].data
    for w, x in zip(ws[1:], xs[1:]):
        total += w.data * x.data
    out = Value(total, (*ws, *xs), 'dot')
    out._grad_fn = _dot_backward
    return out


def _dot_backward(out):  # out = sum of w_i * x_i
    children = out._prev
    n = len(children) // 2
    for w, x in zip(children[:n], children[n:]):
        w.grad += x.data * out.grad  # d/dw_i = x_i
        x.grad += w.data * out.grad  # d/dx_i = w_i


def select(values, index):
    """values[index]; index is an int or a Value holding one (a token id), and gets no gradient"""
    # the choice is made inside the op, so a compiled replay makes it again from each call's index
    values = _as_values(values, 'select')
    index = index if isinstance(index, Value) else Value(as_float(index, "select's index"))
    out = Value(values[_as_index(index.data, len(values))].data, (*values, index), 'select')
    out._grad_fn = _select_backward
    return out


def _select_backward(out):  # out = values[index]
    *values, index = out._prev
    values[int(index.data)].grad += out.grad  # d values[i] / d values[j] = 1 if i == j else 0


def topological_order(root):
    """every Value root depends on, each after its children, root last (backward() runs it reversed)"""
    order = []
    try:
        _build_topo(root, {root}, order)
    except RecursionError:  # deeper than Python's frame limit: the same order, from a stack of our own
        return _deep_topological_order(root)
    return order


def _build_topo(v, seen, order):
    """the lecture's recursive build_topo, reading the slots: _prev would build a tuple a look"""
    a = v._prev_a
    if a is not None:  # one or two children
        if a not in seen:
            seen.add(a)
            _build_topo(a, seen, order)
        b = v._prev_b
        if b is not None and b not in seen:
            seen.add(b)
            _build_topo(b, seen, order)
    else:  # a leaf, or three children or more (a dot) in the tuple v._prev_b
        for child in v._prev_b:
            if child not in seen:
                seen.add(child)
                _build_topo(child, seen, order)
    order.append(v)


def _deep_topological_order(root):
    # an explicit stack, not recursion: graphs get far deeper than Python's frame limit. The Value on
    # top stays until its children are in order, pushing the first one not seen yet each time: the
    # order of the original's recursive walk. It reads the slots, as _prev would build a tuple a look
    order, seen, stack = [], {root}, [root]
    wide = {}  # a Value with three children or more (a dot) -> an iterator, so each is looked at once
    while stack:
        v = stack[-1]
        a = v._prev_a
        if a is not None:  # one or two children
            if a not in seen:
                seen.add(a)
                stack.append(a)
                continue
            b = v._prev_b
            if b is not None and b not in seen:
                seen.add(b)
                stack.append(b)
                continue
        elif v._prev_b:  # three children or more, in the tuple v._prev_b
            children = wide.get(v)
            if children is None:
                children = wide[v] = iter(v._prev_b)
            for child in children:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
                    break
            else:
                order.append(stack.pop())
            continue
        order.append(stack.pop())  # a leaf, or all its children are in order
    return order


@functools.lru_cache(maxsize=256)
def _pow_backward(n):
    """the backward function of x ** n, one per exponent, shared by all its nodes"""
    special = {0: _flat_backward, -1: _reciprocal_backward, 0.5: _sqrt_backward}
    return special.get(n) or _PowBackward(n)


class _PowBackward:
    """x ** n's backward for one n: a module-level class, so a graph pickles (by n) and deep-copies"""
    __slots__ = ('n',)

    def __init__(self, n):
        self.n = n

    def __call__(self, out):  # out = a ** n
        a = out._prev_a
        a.grad += self.n * ieee_pow(a.data, self.n - 1) * out.grad  # d/dx x^n = n x^(n-1)

    def __reduce__(self):
        return _pow_backward, (self.n,)  # unpickled as the one shared object of its exponent


def _flat_backward(out):  # out = a ** 0
    a = out._prev_a
    a.grad += 0.0  # x^0 is flat: torch gives 0 whatever flows in, 0 * inf and 0 * nan included


def _reciprocal_backward(out):  # out = a ** -1
    a = out._prev_a
    # -grad / x², divided twice: x**-2 overflows for |x| < 1e-154 where the gradient is finite
    a.grad += -(out.grad / a.data) / a.data


def _sqrt_backward(out):  # out = a ** 0.5
    a = out._prev_a
    a.grad += 0.5 * ieee_pow(out.data, -1) * out.grad  # as torch, 0.5 * (1 / sqrt(x)): -inf at -0.0


@functools.lru_cache(maxsize=256)
def _rpow_backward(base):
    """the backward function of base ** x, one per base, shared by all its nodes"""
    return _RpowBackward(base)


class _RpowBackward:
    """base ** x's backward for one base, pickled by its base as _PowBackward"""
    __slots__ = ('base',)

    def __init__(self, base):
        self.base = base

    def __call__(self, out):  # out = base ** a
        a = out._prev_a
        a.grad += out.data * math.log(self.base) * out.grad  # d/dx b^x = b^x log(b)

    def __reduce__(self):
        return _rpow_backward, (self.base,)


class _Closure:
    """a custom op's closure, assigned the lecture's way (out._backward = _backward), run by backward()"""
    __slots__ = ('closure', 'op')

    def __init__(self, closure, op):
        self.closure, self.op = closure, op

    def __call__(self, out):
        self.closure()

    def __reduce__(self):
        # a copy would still pass gradients to the old graph's nodes, the ones the closure holds
        raise TypeError(f"can't pickle or copy a graph with the custom op {self.op!r}: its _backward is "
                        "a closure over its own nodes. Write its backward as a shared function in "
                        "out._grad_fn (docs/testing.md), or rebuild the graph instead of copying it")


# numpy's ufuncs for Python's operators; comparisons too, so they reach Value's own refusal
_NUMPY_OPS = {'add': operator.add, 'subtract': operator.sub, 'multiply': operator.mul,
              'divide': operator.truediv, 'power': operator.pow, 'less': operator.lt,
              'less_equal': operator.le, 'greater': operator.gt, 'greater_equal': operator.ge}


def _result(data, op, grad_fn, a, b=None):
    """what an op returns: Value(data, (a, b), op) with the op's backward function in _grad_fn"""
    # made without calling Value(...), whose call of __init__ costs more than the rest of the op:
    # the forward pass of a moons step took 46 -> 35 ms (collector off)
    out = _new(Value)
    out.data = data  # a Python float: every op computes with floats only
    out.grad = 0.0
    out._prev_a, out._prev_b = a, b
    out._op = op
    out.label = ''
    out._grad_fn = grad_fn
    return out


_new = object.__new__


def _as_values(values, op):
    values = [v if isinstance(v, Value) else Value(v) for v in values]
    if not values:
        raise ValueError(f"{op} needs at least one value")
    return values


def _as_index(i, n):
    if not (i.is_integer() and 0 <= i < n):
        raise IndexError(f"select needs an integer index in 0..{n - 1}, got {i:g}")
    return int(i)


def _as_exponent(n):
    """an int exponent stays an int (x ** 2 is labelled '**2'), any other real becomes a float"""
    if isinstance(n, Value):
        raise TypeError("the exponent must be an int or float, not a Value; "
                        "for a learnable exponent write (b * a.log()).exp()")
    if is_int(n):
        as_float(n)  # refuses an int beyond the float range, as it would be in the arithmetic
        return int(n)  # numpy.int64 too: its ** would wrap around or refuse negative powers
    return as_float(n)
