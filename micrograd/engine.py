"""Value: a scalar that remembers how it was made, and backpropagates through it."""
import math
import numbers


def _as_float(data):
    if type(data) is float:  # the hot path: skip the checks below
        return data
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        # bool is refused on purpose: Value(a > b) is almost always a bug
        raise TypeError(f"Value needs a real number (int or float), got {type(data).__name__}")
    return float(data)


class Value:
    """a scalar and its gradient"""
    # Slots, not a __dict__, and no closure per node: each op stores its backward function, shared
    # by all its nodes, in _grad_fn, and _backward makes the closure on demand. A closure stored
    # per node refers back to its node: a reference cycle that only Python's cyclic garbage
    # collector can free, and that collector then takes most of a training step's time.
    __slots__ = ('data', 'grad', '_prev', '_op', 'label', '_grad_fn')

    def __init__(self, data, _children=(), _op='', label=''):
        self.data = _as_float(data)
        self.grad = 0.0
        self._prev = tuple(_children)  # a tuple, not a set: iteration order must not depend on id()
        self._op = _op
        self.label = label
        self._grad_fn = Value._leaf_backward

    @property
    def _backward(self):
        """the closure that passes self.grad on to the children, as in the lecture: o._backward()"""
        return lambda: self._grad_fn(self)

    @_backward.setter
    def _backward(self, closure):
        # an op written the lecture's way assigns its own closure: it runs in backward() like any other
        self._grad_fn = lambda out: closure()

    @staticmethod
    def _leaf_backward(out):
        """a leaf has no children to pass gradient to"""

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), '+')
        out._grad_fn = Value._add_backward
        return out

    @staticmethod
    def _add_backward(out):  # out = self + other
        self, other = out._prev
        self.grad += out.grad
        other.grad += out.grad

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), '*')
        out._grad_fn = Value._mul_backward
        return out

    @staticmethod
    def _mul_backward(out):  # out = self * other
        self, other = out._prev
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    def __pow__(self, other):
        if isinstance(other, Value):
            raise TypeError("the exponent must be an int or float, not a Value; "
                            "for a learnable exponent write (b * a.log()).exp()")
        if isinstance(other, bool) or not isinstance(other, numbers.Real):
            raise TypeError(f"the exponent must be an int or float, got {type(other).__name__}")
        if not isinstance(other, int):
            other = float(other)  # a numpy.float32 exponent would round the power to float32
        if self.data == 0 and other < 0:
            raise ZeroDivisionError(f"Value(0.0) ** {other}: division by zero")
        if self.data < 0 and not float(other).is_integer():
            raise ValueError(f"a negative base ({self.data}) to a fractional power ({other}) is not real")
        try:
            out = Value(self.data ** other, (self,), f'**{other}')
        except OverflowError:
            raise OverflowError(f"{self.data} ** {other} is too large for a float") from None

        # the exponent is a number, not a child, so this op's backward function is a closure over it
        def _pow_backward(out):  # out = self ** other
            self, = out._prev
            self.grad += other * self.data ** (other - 1) * out.grad  # d/dx x^n = n x^(n-1)
        out._grad_fn = _pow_backward
        return out

    def relu(self):
        out = Value(0.0 if self.data < 0 else self.data, (self,), 'ReLU')
        out._grad_fn = Value._relu_backward
        return out

    @staticmethod
    def _relu_backward(out):  # out = self.relu()
        self, = out._prev
        self.grad += (out.data > 0) * out.grad  # relu'(0) = 0, as in torch

    def tanh(self):
        # math.tanh saturates at ±1; the exp formula overflows for large |x|
        out = Value(math.tanh(self.data), (self,), 'tanh')
        out._grad_fn = Value._tanh_backward
        return out

    @staticmethod
    def _tanh_backward(out):  # out = self.tanh()
        self, = out._prev
        self.grad += (1 - out.data**2) * out.grad

    def exp(self):
        try:
            out = Value(math.exp(self.data), (self,), 'exp')
        except OverflowError:
            raise OverflowError(f"exp({self.data}) is too large for a float") from None
        out._grad_fn = Value._exp_backward
        return out

    @staticmethod
    def _exp_backward(out):  # out = self.exp()
        self, = out._prev
        self.grad += out.data * out.grad  # d/dx e^x = e^x

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive value, got {self.data}")
        out = Value(math.log(self.data), (self,), 'log')
        out._grad_fn = Value._log_backward
        return out

    @staticmethod
    def _log_backward(out):  # out = self.log()
        self, = out._prev
        self.grad += out.grad / self.data  # d/dx log(x) = 1/x

    def sigmoid(self):
        # exp of a negative number only: exp(-x) would overflow for x below about -709
        if self.data >= 0:
            s = 1 / (1 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            s = e / (1 + e)
        out = Value(s, (self,), 'sigmoid')
        out._grad_fn = Value._sigmoid_backward
        return out

    @staticmethod
    def _sigmoid_backward(out):  # out = self.sigmoid()
        self, = out._prev
        self.grad += out.data * (1 - out.data) * out.grad  # s' = s (1 - s)

    def backward(self):
        """fill .grad of every node this one depends on with d(self)/d(node)"""
        order = _topo_order(self)
        self.grad = 1.0
        for v in reversed(order):
            v._grad_fn(v)  # what v._backward() does, without making a closure per node

    def __neg__(self):  # -self
        return self * -1

    def __radd__(self, other):  # other + self
        return self + other

    def __sub__(self, other):  # self - other
        return self + (-other)

    def __rsub__(self, other):  # other - self
        return other + (-self)

    def __rmul__(self, other):  # other * self
        return self * other

    def __truediv__(self, other):  # self / other
        return self * other**-1

    def __rtruediv__(self, other):  # other / self
        return other * self**-1

    def __rpow__(self, other):  # other ** self = exp(self * log(other)), for other > 0
        if _as_float(other) <= 0:
            raise ValueError(f"number ** Value needs a positive base, got {other}")
        return (self * math.log(other)).exp()

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"


def _topo_order(root):
    """every node root depends on, each after its children, in a fixed order"""
    # an explicit stack, not recursion: graphs get far deeper than Python's frame limit.
    # Each entry holds an iterator over the node's children, so a node is visited once
    # and in the same order as the original's recursive walk.
    order, seen, stack = [], {root}, [(root, iter(root._prev))]
    while stack:
        v, children = stack[-1]
        for child in children:
            if child not in seen:
                seen.add(child)
                stack.append((child, iter(child._prev)))
                break
        else:
            stack.pop()
            order.append(v)
    return order
