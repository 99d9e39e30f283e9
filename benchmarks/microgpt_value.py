"""microgpt's Value (children and their local gradients in __slots__) and its softmax, as published.

The reference of the GPT rows (bench_gpt.py times it) and of tests/test_gpt.py (the published
algorithm the model must reproduce): one copy, standard library only, so both load it as a file.
"""
import math


class LocalValue:
    """a scalar, its children and the local gradient towards each (microgpt's Value)"""
    __slots__ = ('data', 'grad', '_children', '_local_grads')

    def __init__(self, data, children=(), local_grads=()):
        self.data, self.grad = data, 0
        self._children, self._local_grads = children, local_grads

    def __add__(self, other):
        other = other if isinstance(other, LocalValue) else LocalValue(other)
        return LocalValue(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, LocalValue) else LocalValue(other)
        return LocalValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, n):
        return LocalValue(self.data**n, (self,), (n * self.data**(n - 1),))

    def log(self):
        return LocalValue(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        return LocalValue(math.exp(self.data), (self,), (math.exp(self.data),))

    def relu(self):
        return LocalValue(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def backward(self):
        order, seen = [], set()

        def visit(v):  # recursive, as published: a step's graph is a few hundred nodes deep
            if v not in seen:
                seen.add(v)
                for child in v._children:
                    visit(child)
                order.append(v)
        visit(self)
        self.grad = 1
        for v in reversed(order):
            for child, local in zip(v._children, v._local_grads):
                child.grad += local * v.grad


def softmax(logits):
    """the published softmax: shifted by the largest logit, read from .data"""
    top = max(v.data for v in logits)
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]
