"""microgpt as published: its Value (children and local gradients in __slots__), softmax, model, Adam.

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


BOS = 26  # the token after a-z that starts and ends every name


def encode(name):
    """a name of a-z as its tokens, BOS on both sides"""
    return [BOS] + [ord(ch) - ord('a') for ch in name] + [BOS]


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def rmsnorm(x):
    scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5  # once per vector, as published
    return [xi * scale for xi in x]


class MicroGPT:
    """the published one-layer model and Adam, on LocalValue or on any Value class given (ours)"""

    def __init__(self, rng, n_embd=16, n_head=4, block_size=16, vocab_size=BOS + 1, value=LocalValue):
        def matrix(nout, nin):
            return [[value(rng.gauss(0, 0.08)) for _ in range(nin)] for _ in range(nout)]
        self.n_head, self.block_size = n_head, block_size
        self.wte, self.wpe, self.lm_head = matrix(vocab_size, n_embd), matrix(block_size, n_embd), \
            matrix(vocab_size, n_embd)
        self.wq, self.wk, self.wv, self.wo = (matrix(n_embd, n_embd) for _ in range(4))
        self.fc1, self.fc2 = matrix(4 * n_embd, n_embd), matrix(n_embd, 4 * n_embd)
        self.params = [p for w in (self.wte, self.wpe, self.lm_head, self.wq, self.wk, self.wv, self.wo,
                                   self.fc1, self.fc2) for row in w for p in row]
        self.m, self.v = [0.0] * len(self.params), [0.0] * len(self.params)

    def forward(self, token, pos, keys, values):
        """the logits after token at position pos; keys, values: the cache so far, extended by one"""
        x = rmsnorm([t + p for t, p in zip(self.wte[token], self.wpe[pos])])
        residual, x = x, rmsnorm(x)
        q, k, v = linear(x, self.wq), linear(x, self.wk), linear(x, self.wv)
        keys.append(k)
        values.append(v)
        d, heads = len(q) // self.n_head, []
        for h in range(0, len(q), d):
            scores = [sum(q[h + j] * kt[h + j] for j in range(d)) / d**0.5 for kt in keys]
            weights = softmax(scores)
            heads.extend(sum(weights[t] * vt[h + j] for t, vt in enumerate(values)) for j in range(d))
        x = [a + b for a, b in zip(linear(heads, self.wo), residual)]
        hidden = [h.relu() for h in linear(rmsnorm(x), self.fc1)]
        x = [a + b for a, b in zip(linear(hidden, self.fc2), x)]
        return linear(x, self.lm_head)

    def loss(self, tokens):
        keys, values, n = [], [], len(tokens) - 1
        terms = [-softmax(self.forward(tokens[p], p, keys, values))[tokens[p + 1]].log() for p in range(n)]
        return (1 / n) * sum(terms)

    def adam(self, k, steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
        lr_t = lr * (1 - k / steps)
        for i, p in enumerate(self.params):
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * p.grad
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * p.grad**2
            m_hat, v_hat = self.m[i] / (1 - beta1**(k + 1)), self.v[i] / (1 - beta2**(k + 1))
            p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
            p.grad = 0

    def sample(self, rng, temperature=0.5):
        """a new name: tokens drawn from softmax(logits / temperature) until BOS"""
        keys, values, token, name = [], [], BOS, []
        for pos in range(self.block_size):
            probs = softmax([logit / temperature for logit in self.forward(token, pos, keys, values)])
            token = rng.choices(range(len(probs)), weights=[p.data for p in probs])[0]
            if token == BOS:
                break
            name.append(chr(ord('a') + token))
        return ''.join(name)
