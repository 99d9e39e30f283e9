# %% [markdown]
# # micrograd, built by you
#
# Follow the lecture and fill in each exercise; replace every `raise NotImplementedError`.
# After each one, run the check below it (or `python -m micrograd.exercises check exercises.py`).
# Keep the lecture's names (Value, data, grad, _prev, _op, label, _backward, Neuron.w, Neuron.b,
# Layer.neurons, MLP.layers): the checker uses them.

# %%
import math
import random

from micrograd.exercises import check

# %% [markdown]
# ## Exercise 1: a Value
# A Value holds `data`, its children `_prev`, the `_op` that made it and a `label`;
# `a + b` and `a * b` give new Values that remember a and b. Start `grad` at 0.0 and `_backward`
# as a function that does nothing.
#
# ## Exercise 3: _backward for + and *
# In `__add__` and `__mul__`, set `out._backward` to a closure that passes `out.grad` to the operands.
#
# ## Exercise 4: tanh
# `tanh()` returns a Value; its `_backward` uses the derivative of tanh.
#
# ## Exercise 5: backward()
# Order the graph topologically, set the root's grad, call each `_backward` in the right order.
#
# ## Exercise 6: more ops
# `exp()`, `__pow__` (an int or float exponent), `__truediv__`, `__neg__`, `__sub__`, and the
# reflected `__radd__`, `__rmul__`, `__rsub__`, `__rtruediv__`; a plain number operand works too.

# %%
class Value:
    def __init__(self, data, _children=(), _op='', label=''):
        raise NotImplementedError("exercise 1: store data, grad, _backward, _prev, _op and label")

    def __add__(self, other):
        raise NotImplementedError("exercise 1 and 3: + and its _backward")

    def __mul__(self, other):
        raise NotImplementedError("exercise 1 and 3: * and its _backward")

    def tanh(self):
        raise NotImplementedError("exercise 4: tanh and its _backward")

    def backward(self):
        raise NotImplementedError("exercise 5: backward by topological sort")

    def exp(self):
        raise NotImplementedError("exercise 6: exp")

    def __pow__(self, other):
        raise NotImplementedError("exercise 6: ** with an int or float exponent")

    def __repr__(self):
        return f"Value(data={getattr(self, 'data', '?')})"

# %% check: 1, 3, 4, 5, 6

# %% [markdown]
# ## Exercise 2: the lecture's L by hand
# a = 2.0, b = -3.0, c = 10.0, e = a*b, d = e + c, f = -2.0, L = d*f = -8.0.
# Work out dL/dx for each by hand (no code from exercise 3) and return them by label.

# %%
def manual_grads():
    raise NotImplementedError("exercise 2: return {'L': ..., 'f': ..., 'd': ..., and so on}")

# %% check: 2

# %% [markdown]
# ## Exercise 7: Neuron, Layer, MLP
# A Neuron(nin) has weights `w` (a list) and a bias `b`, and gives tanh(w . x + b);
# a Layer(nin, nout) holds `neurons`; MLP(nin, nouts) holds `layers`. `parameters()` lists them
# layer by layer, neuron by neuron, weights then bias. MLP(3, [4, 4, 1]) has 41.
# A Layer with one neuron returns that one Value, as in the lecture.

# %%
class Neuron:
    def __init__(self, nin):
        raise NotImplementedError("exercise 7: Neuron")


class Layer:
    def __init__(self, nin, nout):
        raise NotImplementedError("exercise 7: Layer")


class MLP:
    def __init__(self, nin, nouts):
        raise NotImplementedError("exercise 7: MLP")

# %% check: 7

# %% [markdown]
# ## Exercise 8: training
# `train(model, xs, ys, steps, lr)` runs the lecture's loop `steps` times on xs and ys:
# forward all samples, loss = the sum of squared errors, backward, p.data += -lr * p.grad.
# Return the list of the losses' `.data`, one per step.

# %%
def train(model, xs, ys, steps, lr):
    raise NotImplementedError("exercise 8: the training loop")

# %% check: 8

# %% [markdown]
# ## Exercise 9 (bonus): softmax cross-entropy
# `softmax_cross_entropy(logits, target)`: logits a list of Values, target an index; returns
# -log(softmax(logits)[target]) as a Value, built from your ops (add a `log` to Value).
#
# ## Exercise 10 (bonus): a deep graph
# Make backward() work on a chain of 5000 + nodes (Python stops recursion near 1000 frames).

# %%
def softmax_cross_entropy(logits, target):
    raise NotImplementedError("exercise 9: softmax cross-entropy")

# %% check: 9, 10
