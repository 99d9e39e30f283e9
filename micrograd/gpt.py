"""A GPT made of Values: the microgpt model, the loss of one name, sampling, and the names data.

In February 2026 the author of micrograd published microgpt: a one-layer GPT trained on names in
plain Python, on a scalar autograd Value of the same kind as ours. This module builds the same
model from the same seed and computes the same numbers; each function below is one part of the
published script (linear, rmsnorm, attention, the MLP block; softmax is losses.softmax, the
same stable formula). Where the published code writes sum(wi * xi for ...), this one calls
engine.dot: one node instead of a chain of * and +, with the chain's numbers, so a step's graph
has a fraction of the nodes to build, backpropagate and record.

Two choices depend on the data, and each is made by an op, never by Python code reading .data:
which embedding row a token reads (engine.select, with the token as its index), and which
log-probability the loss takes (losses.cross_entropy, by select too). A recording of one
sequence length (micrograd.compile) then replays any name of that length. Sampling reads .data
to draw the next character: it is never compiled.
"""
import math
from importlib import resources

from micrograd.engine import Value, dot, select
from micrograd.floats import as_float
from micrograd.losses import cross_entropy, softmax
from micrograd.nn import Module, as_rng, as_size
from micrograd.optim import Adam

CHARS = 'abcdefghijklmnopqrstuvwxyz'  # the names' characters, sorted: token i is CHARS[i]


def load_names():
    """the 32,033 names of makemore's names.txt (MIT license: names.LICENSE beside it), in file order"""
    text = resources.files('micrograd').joinpath('data', 'names.txt').read_text(encoding='utf-8')
    return [line.strip() for line in text.splitlines() if line.strip()]


def linear(x, w):
    """w @ x: one dot product of x with each row of w, no bias"""
    return [dot(row, x) for row in w]


def rmsnorm(x, eps=1e-5):
    """x / sqrt(mean(x**2) + eps): every vector leaves with the same scale, no learned gain"""
    ms = dot(x, x) / len(x)
    scale = (ms + eps) ** -0.5
    return [xi * scale for xi in x]


def attention(q, keys, values, n_head):
    """causal multi-head attention of one query over the cached keys and values (its own included)

    Each head takes a slice of head_size numbers: softmax(q . k / sqrt(head_size)) weighs the
    values of that slice. Returns the heads' outputs side by side.
    """
    head_size = len(q) // n_head
    out = []
    for h in range(n_head):
        s = slice(h * head_size, (h + 1) * head_size)
        scores = [dot(q[s], k[s]) / head_size**0.5 for k in keys]
        weights = softmax(scores)
        heads_values = [v[s] for v in values]
        out.extend(dot(weights, [v[j] for v in heads_values]) for j in range(head_size))
    return out


def mlp(x, fc1, fc2):
    """fc2 @ relu(fc1 @ x): the feed-forward part of a block"""
    return linear([h.relu() for h in linear(x, fc1)], fc2)


class Block(Module):
    """one transformer layer: attention then the MLP, each on an rmsnorm of x and added back to x"""
    # its weight matrices in the published order: parameters() and the torch twin follow it
    WEIGHTS = ('attn_wq', 'attn_wk', 'attn_wv', 'attn_wo', 'mlp_fc1', 'mlp_fc2')

    def __init__(self, n_embd, n_head, std, rng):
        # one draw per weight in the published order: attention's q, k, v, o, then the MLP's two
        self.attn_wq = _matrix(rng, n_embd, n_embd, std)
        self.attn_wk = _matrix(rng, n_embd, n_embd, std)
        self.attn_wv = _matrix(rng, n_embd, n_embd, std)
        self.attn_wo = _matrix(rng, n_embd, n_embd, std)
        self.mlp_fc1 = _matrix(rng, 4 * n_embd, n_embd, std)
        self.mlp_fc2 = _matrix(rng, n_embd, 4 * n_embd, std)
        self.n_head = n_head

    def __call__(self, x, keys, values):
        """x at the next position; keys and values: this layer's cache, which it extends by one"""
        h = rmsnorm(x)
        q = linear(h, self.attn_wq)
        keys.append(linear(h, self.attn_wk))
        values.append(linear(h, self.attn_wv))
        heads = attention(q, keys, values, self.n_head)
        x = _add(x, linear(heads, self.attn_wo))
        return _add(x, mlp(rmsnorm(x), self.mlp_fc1, self.mlp_fc2))

    def parameters(self):
        return [p for name in self.WEIGHTS for row in getattr(self, name) for p in row]


class GPT(Module):
    """microgpt's model: token and position embeddings, n_layer blocks, an lm_head; vocabulary chars + BOS"""

    def __init__(self, chars=CHARS, n_layer=1, n_embd=16, n_head=4, block_size=16, std=0.08, rng=None):
        if not isinstance(chars, str) or not chars or len(set(chars)) != len(chars):
            raise ValueError(f"chars must be a non-empty string of distinct characters, got {chars!r}")
        n_layer, n_embd = as_size(n_layer, 'n_layer'), as_size(n_embd, 'n_embd')
        n_head, block_size = as_size(n_head, 'n_head'), as_size(block_size, 'block_size')
        if n_embd % n_head:
            raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head})")
        rng = as_rng(rng)
        self.chars = chars
        self.bos = len(chars)  # the token that starts and ends every name, after the characters
        self.block_size = block_size
        vocab_size = len(chars) + 1
        # one draw per weight in the published order, so the same seeded rng gives the same model
        self.wte = _matrix(rng, vocab_size, n_embd, std)
        self.wpe = _matrix(rng, self.block_size, n_embd, std)
        self.lm_head = _matrix(rng, vocab_size, n_embd, std)
        self.layers = [Block(n_embd, n_head, std, rng) for _ in range(n_layer)]

    def parameters(self):
        embeddings = [p for w in (self.wte, self.wpe, self.lm_head) for row in w for p in row]
        return embeddings + [p for layer in self.layers for p in layer.parameters()]

    def encode(self, name):
        """a name as its tokens, BOS on both sides: 'ab' -> [BOS, 0, 1, BOS]; bad names raise"""
        if not isinstance(name, str):
            raise TypeError(f"a name must be a str, got {type(name).__name__}")
        if not name:
            raise ValueError("a name needs at least one character, got ''")
        for i, ch in enumerate(name):
            if ch not in self.chars:
                raise ValueError(f"{ch!r} at position {i} of {name!r} is not in the vocabulary "
                                 f"{_describe(self.chars)}")
        if len(name) >= self.block_size:
            raise ValueError(f"{name!r} has {len(name)} characters; a block of {self.block_size} "
                             f"positions holds names of at most {self.block_size - 1}")
        return [self.bos] + [self.chars.index(ch) for ch in name] + [self.bos]

    def logits(self, token, pos, cache):
        """the scores of the token after `token` at position pos; cache: each layer's (keys, values) so far"""
        embedding = [select(column, token) for column in zip(*self.wte)]  # the row of `token`, by an op
        x = rmsnorm(_add(embedding, self.wpe[pos]))
        for layer, (keys, values) in zip(self.layers, cache):
            x = layer(x, keys, values)
        return linear(x, self.lm_head)

    def loss(self, tokens):
        """mean cross-entropy of predicting each of tokens[1:] from the tokens before it

        tokens: ints or Values holding ints, such as encode(name); compile() passes Values.
        """
        n = len(tokens) - 1
        if not 1 <= n <= self.block_size:
            raise ValueError(f"loss needs 2 to {self.block_size + 1} tokens (block_size "
                             f"{self.block_size}), got {len(tokens)}")
        tokens = [t if isinstance(t, Value) else Value(t) for t in tokens]  # one leaf per token
        self._check_tokens(tokens)
        cache = self._empty_cache()
        logits = [self.logits(tokens[pos], pos, cache) for pos in range(n)]
        return cross_entropy(logits, tokens[1:])  # its select picks each target's log-probability

    def sample(self, rng=None, temperature=0.5):
        """a new name: tokens drawn one by one from softmax(logits / temperature) until BOS"""
        if not 0 < as_float(temperature, 'temperature') < math.inf:
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        rng = as_rng(rng)
        cache, token, name = self._empty_cache(), self.bos, []
        # block_size - 1 characters at most: encode() and training take no more, since the name's
        # closing BOS needs the last position
        for pos in range(self.block_size - 1):
            weights = _weights(self.logits(token, pos, cache), temperature)
            token = rng.choices(range(len(weights)), weights=weights)[0]
            if token == self.bos:
                break
            name.append(self.chars[token])
        return ''.join(name)

    def to_torch(self):
        """an equivalent torch.nn.Module with these weights in float64; module(tokens) gives every
        position's logits, module.loss(tokens) the mean cross-entropy, as loss() here"""
        return _torch_twin(self)

    def _check_tokens(self, tokens):
        # validation only: it raises or passes, the ops choose (an input's number, which compile allows)
        for i, t in enumerate(tokens):
            if not (t.data.is_integer() and 0 <= t.data <= self.bos):
                raise ValueError(f"token {t.data:g} at position {i} is not a token id in 0..{self.bos}")

    def _empty_cache(self):
        return [([], []) for _ in self.layers]

    def __repr__(self):
        return (f"GPT(vocab {len(self.chars) + 1}, n_layer={len(self.layers)}, n_embd={len(self.wte[0])}, "
                f"n_head={self.layers[0].n_head}, block_size={self.block_size}, "
                f"{len(self.parameters())} parameters)")


def adam(model, steps, lr=0.01):
    """microgpt's optimizer: Adam with betas (0.85, 0.99), eps 1e-8, lr decaying linearly to 0 over steps"""
    return Adam(model.parameters(), lr=lambda k: lr * (1 - k / steps), betas=(0.85, 0.99), eps=1e-8)


def train_step(model, optimizer, tokens):
    """forward, backward and update on one name's tokens; returns its loss before the update"""
    loss = model.loss(tokens)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.data


def compiled_train_step(model):
    """a train_step that replays recordings of model.loss (micrograd.compile, numpy): one per name
    length, made on the first name of that length; the same losses and gradients, bit for bit"""
    from micrograd.compile import compile

    replay = compile(model.loss, model)

    def step(model_, optimizer, tokens):
        if model_ is not model:
            raise ValueError("this compiled step trains the model it was made for, not another")
        optimizer.zero_grad()
        loss = replay(tokens)  # the numbers of model.loss(tokens) and its backward()
        optimizer.step()
        return loss
    step.compiled = replay
    return step


def train(model, names, steps, optimizer=None, report=None, step=train_step):
    """steps of step() on one name each, names[k % len(names)], as microgpt; returns every step's loss"""
    optimizer = optimizer or adam(model, steps)
    encoded = {}
    losses = []
    for k in range(steps):
        name = names[k % len(names)]
        if name not in encoded:
            encoded[name] = model.encode(name)
        losses.append(step(model, optimizer, encoded[name]))
        if report is not None:
            report(k, losses[-1])
    return losses


def _add(xs, ys):
    return [x + y for x, y in zip(xs, ys)]


def _weights(logits, temperature):
    """softmax(logits / temperature) as numbers to draw a token by"""
    scaled = [logit / temperature for logit in logits]
    if any(math.isinf(x.data) for x in scaled):
        # a temperature so small that 1/temperature takes a logit past the float range: softmax's limit
        # as the temperature falls, the likeliest tokens only
        best = max(logit.data for logit in logits)
        return [float(logit.data == best) for logit in logits]
    return [p.data for p in softmax(scaled)]


def _matrix(rng, nout, nin, std):
    return [[Value(rng.gauss(0, std)) for _ in range(nin)] for _ in range(nout)]


def _describe(chars):
    return "a-z" if chars == CHARS else repr(chars)


def _torch_twin(model):
    from micrograd.interop import import_torch

    torch = import_torch('GPT.to_torch')
    nn, F = torch.nn, torch.nn.functional

    def weight(rows):
        return nn.Parameter(torch.tensor([[v.data for v in row] for row in rows], dtype=torch.float64))

    def rms(x):
        return x * (x.pow(2).mean(-1, keepdim=True) + 1e-5).rsqrt()

    class TorchBlock(nn.Module):
        def __init__(self, block):
            super().__init__()
            for name in Block.WEIGHTS:
                setattr(self, name, weight(getattr(block, name)))
            self.n_head = block.n_head

        def forward(self, x):
            T, C = x.shape
            h = rms(x)
            q, k, v = (F.linear(h, w).view(T, self.n_head, -1).transpose(0, 1)
                       for w in (self.attn_wq, self.attn_wk, self.attn_wv))
            mask = torch.ones(T, T, dtype=torch.bool).tril()
            scores = (q @ k.transpose(1, 2) / q.shape[-1]**0.5).masked_fill(~mask, -math.inf)
            heads = (scores.softmax(-1) @ v).transpose(0, 1).reshape(T, C)
            x = x + F.linear(heads, self.attn_wo)
            return x + F.linear(F.linear(rms(x), self.mlp_fc1).relu(), self.mlp_fc2)

    class TorchGPT(nn.Module):
        """microgpt as a batched torch module, float64: forward(tokens) -> logits of every position"""

        def __init__(self):
            super().__init__()
            self.wte, self.wpe, self.lm_head = weight(model.wte), weight(model.wpe), weight(model.lm_head)
            self.layers = nn.ModuleList(TorchBlock(block) for block in model.layers)

        def forward(self, tokens):
            tokens = torch.as_tensor(tokens)
            x = rms(self.wte[tokens] + self.wpe[:len(tokens)])
            for layer in self.layers:
                x = layer(x)
            return F.linear(x, self.lm_head)

        def loss(self, tokens):
            tokens = torch.as_tensor(tokens)
            return F.cross_entropy(self(tokens[:-1]), tokens[1:])

    return TorchGPT()
