"""the checks, one per exercise: each runs the learner's names and raises Mistake or NotImplementedYet

A check builds every object it needs itself, so no check sees what another one did to a Value.
Expected numbers come from micrograd.engine, and from torch too when it is installed.
"""
import math
import random
import sys

from micrograd.engine import Value as Ours

LECTURE_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]
NEURON_B = 6.8813735870195432  # the lecture's bias: it makes o = tanh(n) = 0.7071


class NotImplementedYet(Exception):
    """the learner has not written this part yet (a stub still raises NotImplementedError)"""


class Mistake(Exception):
    """a classic mistake, by name, with a minimal failing example, expected vs got and a hint"""

    def __init__(self, name, example, expected, got, hint, graphs=None):
        super().__init__(name)
        self.name, self.example, self.expected, self.got, self.hint = name, example, expected, got, hint
        self.graphs = graphs  # (the learner's root, the reference's root) for --explain


def need(names, *wanted):
    missing = [w for w in wanted if names.get(w) is None]
    if missing:
        raise NotImplementedYet(f"define {', '.join(missing)}")
    return [names[w] for w in wanted]


def close(got, expected, rel=1e-9):
    return isinstance(got, (int, float)) and math.isclose(got, expected, rel_tol=rel, abs_tol=1e-12)


def run_backward(root):
    """call each node's _backward from the root down, in reverse topological order, as backward() should"""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        v, children_done = stack.pop()
        if children_done:
            order.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((child, False) for child in v._prev)
    root.grad = 1.0
    for v in reversed(order):
        v._backward()


def lecture_L(Value):
    """the lecture's first expression: L = (a*b + c) * f = -8.0"""
    a, b, c, f = Value(2.0, label='a'), Value(-3.0, label='b'), Value(10.0, label='c'), Value(-2.0, label='f')
    e = a * b
    d = e + c
    return (a, b, c, d, e, f), d * f


def lecture_neuron(Value):
    """the lecture's neuron: o = tanh(x1*w1 + x2*w2 + b) = 0.7071"""
    x1, x2, w1, w2 = Value(2.0, label='x1'), Value(0.0, label='x2'), Value(-3.0, label='w1'), Value(1.0, label='w2')
    n = x1 * w1 + x2 * w2 + Value(NEURON_B, label='b')
    return {'x1': x1, 'w1': w1, 'x2': x2, 'w2': w2}, n.tanh()


def torch_or_none():
    """torch when the learner's process has imported it already (importing it in each check's child
    took seconds); tests/test_exercises.py compares the expected numbers with torch every run"""
    return sys.modules.get('torch')


def check_value(names):
    """1. a Value holds data, its children, its op and a label; + and * make new Values"""
    Value, = need(names, 'Value')
    a, b = Value(2.0, label='a'), Value(-3.0, label='b')
    for attr in ('data', '_prev', '_op', 'label'):
        if not hasattr(a, attr):
            raise Mistake("a missing attribute", "a = Value(2.0, label='a')", f"a.{attr}", "no such attribute",
                          "the lecture's Value keeps data, _prev (its children), _op and label")
    c, d = a + b, a * b
    if not close(c.data, -1.0) or not close(d.data, -6.0):
        raise Mistake("wrong forward value", "Value(2.0) + Value(-3.0), Value(2.0) * Value(-3.0)",
                      "-1.0, -6.0", f"{c.data}, {d.data}", "the new Value's data is the sum or product of the datas")
    if set(map(id, c._prev)) != {id(a), id(b)} or c._op != '+' or d._op != '*':
        raise Mistake("children or op not recorded", "c = a + b", "c._prev holds a and b, c._op == '+'",
                      f"c._prev = {c._prev!r}, c._op = {c._op!r}",
                      "the result remembers which Values made it, so backward can walk back to them")


def check_manual(names):
    """2. the gradients of L = (a*b + c) * f, worked out by hand"""
    manual_grads, = need(names, 'manual_grads')
    expected = {'L': 1.0, 'f': 4.0, 'd': -2.0, 'c': -2.0, 'e': -2.0, 'a': 6.0, 'b': -4.0}
    got = manual_grads()
    for name, want in expected.items():
        if not isinstance(got, dict) or not close(got.get(name), want):
            value = got.get(name) if isinstance(got, dict) else got
            raise Mistake("wrong hand gradient", f"dL/d{name} with a=2, b=-3, c=10, f=-2", want, value,
                          "go from L backward: dL/dd = f, then the chain rule: dL/de = dL/dd * dd/de")


def check_closures(names):
    """3. _backward closures for + and *: L's gradients, and a node used twice"""
    Value, = need(names, 'Value')
    (a, b, c, d, e, f), L = lecture_L(Value)
    if not close(L.data, -8.0):
        raise Mistake("wrong forward value", "L = (a*b + c) * f", -8.0, L.data, "see exercise 1")
    run_backward(L)
    (oa, ob, oc, od, oe, of), oL = lecture_L(Ours)
    oL.backward()
    for mine, ours, name in zip((a, b, c, d, e, f), (oa, ob, oc, od, oe, of), 'abcdef'):
        if not close(mine.grad, ours.grad):
            raise Mistake("wrong local derivative", f"{name}.grad in L = (a*b + c) * f after each _backward",
                          ours.grad, mine.grad, "for *, each side's gradient is the other side's data times out.grad",
                          graphs=(L, oL))
    for op, example in (('+', "b = a + a"), ('*', "b = a * a")):
        x = Value(3.0)
        y = x + x if op == '+' else x * x
        run_backward(y)
        want = 2.0 if op == '+' else 6.0
        if not close(x.grad, want):
            raise Mistake("= instead of += in a backward", f"{example}; b._backward() with a = Value(3.0)", want,
                          x.grad, f"a is both operands of {op}: its gradient gets two contributions. "
                          "What happens to the first one when the second arrives?")


def check_tanh(names):
    """4. tanh and the lecture's neuron: o = 0.7071, x1.grad = -1.5, w1.grad = 1.0, x2.grad = 0.5, w2.grad = 0.0"""
    Value, = need(names, 'Value')
    x = Value(0.5)
    t = x.tanh()
    run_backward(t)
    want = 1 - math.tanh(0.5) ** 2
    if close(x.grad, 1 - math.tanh(0.5)):
        raise Mistake("tanh derivative 1 - t instead of 1 - t**2", "x = Value(0.5); t = x.tanh(); t._backward()",
                      want, x.grad, "write d/dx tanh(x) out from tanh = sinh/cosh: what power of t appears?",
                      graphs=neuron_graphs(Value))
    if not close(x.grad, want):
        raise Mistake("wrong tanh derivative", "x = Value(0.5); t = x.tanh(); t._backward()", want, x.grad,
                      "d/dx tanh(x) is 1 - tanh(x)**2, and the forward pass already computed tanh(x)")
    leaves, o = lecture_neuron(Value)
    ours, oo = lecture_neuron(Ours)
    run_backward(o)
    oo.backward()
    expected = {name: v.grad for name, v in ours.items()}
    torch = torch_or_none()
    if torch is not None:  # a second opinion on the expected numbers
        tl = {k: torch.tensor(v.data, dtype=torch.float64, requires_grad=True) for k, v in ours.items()}
        (tl['x1'] * tl['w1'] + tl['x2'] * tl['w2'] + NEURON_B).tanh().backward()
        assert all(math.isclose(tl[k].grad.item(), g, rel_tol=1e-12, abs_tol=1e-15) for k, g in expected.items())
    if not close(o.data, oo.data):
        raise Mistake("wrong forward value", "the lecture's neuron o = tanh(x1*w1 + x2*w2 + b)", oo.data, o.data,
                      "n = x1*w1 + x2*w2 + b is 0.8814, and tanh(0.8814) = 0.7071")
    for name, want in expected.items():
        if not close(leaves[name].grad, want):
            raise Mistake("wrong local derivative", f"{name}.grad in the lecture's neuron", want, leaves[name].grad,
                          "o.grad = 1, n.grad = 1 - o**2 = 0.5, then + passes 0.5 on and * swaps the datas",
                          graphs=(o, oo))


def neuron_graphs(Value):
    """the learner's neuron and ours, to show side by side"""
    return lecture_neuron(Value)[1], lecture_neuron(Ours)[1]


def check_backward(names):
    """5. backward(): a topological sort, the root's grad set to 1, each _backward called once in reverse"""
    Value, = need(names, 'Value')
    a, c = Value(2.0), Value(-3.0)
    b = a * c
    e = b + b
    e.backward()
    oa, oc = Ours(2.0), Ours(-3.0)
    ob = oa * oc
    oe = ob + ob
    oe.backward()
    example = "b = a * c; e = b + b; e.backward() with a = Value(2.0), c = Value(-3.0)"
    if e.grad == 0:
        raise Mistake("the root's grad not set to 1", example, "e.grad == 1.0", e.grad,
                      "every gradient is a product that starts at the root: what is de/de?")
    if not close(a.grad, oa.grad):
        if isinstance(a.grad, (int, float)) and abs(a.grad) > abs(oa.grad):
            raise Mistake("backward without a visited set", example, oa.grad, a.grad,
                          "b is reached twice from e: how many times should b._backward run?")
        raise Mistake("backward in creation order", example, oa.grad, a.grad,
                      "a node may only pass its gradient on once it has received all of it, from every node that "
                      "uses it: which order guarantees that?")


def check_ops(names):
    """6. exp, **, /, -, the reflected operators, and tanh rebuilt from exp with the same gradients"""
    Value, = need(names, 'Value')
    try:
        Value(3.0) + 2
        Value(3.0) * 2
    except (AttributeError, TypeError) as e:
        raise Mistake("a number operand not wrapped in a Value", "Value(3.0) + 2", "Value(data=5.0)",
                      f"{type(e).__name__}: {e}", "2 has no .data or .grad: what could it become first?")
    try:
        2 * Value(3.0)
        2 + Value(3.0)
    except TypeError as e:
        raise Mistake("missing reflected operators", "2 * Value(3.0)", "Value(data=6.0)", f"TypeError: {e}",
                      "Python tries int.__mul__ first and then asks the right-hand operand: which method does it call?")
    cases = [("a - b", lambda a, b: a - b), ("a / b", lambda a, b: a / b), ("a ** 3", lambda a, b: a ** 3),
             ("a.exp()", lambda a, b: a.exp()), ("-a", lambda a, b: -a), ("2 - a", lambda a, b: 2 - a),
             ("2 / a", lambda a, b: 2 / a), ("a * 2 + 1", lambda a, b: a * 2 + 1)]
    for text, fn in cases:
        a, b = Value(1.5), Value(-0.5)
        y = fn(a, b)
        run_backward(y)
        oa, ob = Ours(1.5), Ours(-0.5)
        oy = fn(oa, ob)
        oy.backward()
        if not close(y.data, oy.data) or not close(a.grad, oa.grad) or not close(b.grad, ob.grad):
            raise Mistake("wrong result or gradient", f"{text} with a = Value(1.5), b = Value(-0.5)",
                          f"{oy.data}, a.grad {oa.grad}, b.grad {ob.grad}",
                          f"{y.data}, a.grad {a.grad}, b.grad {b.grad}",
                          "derived ops are one line on top of +, * and **: a - b is a + (-b), a / b is a * b**-1")
    a, k = Value(1.5), Value(2.0)
    try:
        y = a ** k
    except (TypeError, AssertionError, AttributeError):
        y = None
    if y is not None:
        run_backward(y)
        if not close(k.grad, 1.5 ** 2 * math.log(1.5)):
            raise Mistake("__pow__ with a Value exponent", "Value(1.5) ** Value(2.0)",
                          "a clear error (the lecture's ** takes an int or float), or k.grad = a**k * log(a)",
                          f"{y!r} with k.grad = {k.grad}", "d/dx x**k = k * x**(k-1) holds for a constant k: "
                          "what should happen when k itself is a Value with a gradient?")
    x = Value(0.7)
    e2 = (x * 2).exp()
    t = (e2 - 1) / (e2 + 1)
    run_backward(t)
    if not close(t.data, math.tanh(0.7)) or not close(x.grad, 1 - math.tanh(0.7) ** 2):
        raise Mistake("tanh from exp differs", "x = Value(0.7); e = (2*x).exp(); (e - 1) / (e + 1)",
                      f"{math.tanh(0.7)}, x.grad {1 - math.tanh(0.7) ** 2}", f"{t.data}, x.grad {x.grad}",
                      "built from exp, -, + and / the same tanh must come out, with the same gradient")


def lecture_parameters(model):
    """the lecture's order: layer by layer, neuron by neuron, its weights then its bias"""
    return [p for layer in model.layers for n in layer.neurons for p in n.w + [n.b]]


def check_nn(names):
    """7. Neuron, Layer, MLP and parameters(): MLP(3, [4, 4, 1]) has 41 in the lecture's order"""
    Value, Neuron, Layer, MLP = need(names, 'Value', 'Neuron', 'Layer', 'MLP')
    model = MLP(3, [4, 4, 1])
    params = model.parameters()
    if len(params) == 32:
        raise Mistake("parameters() missing the bias", "len(MLP(3, [4, 4, 1]).parameters())", 41, 32,
                      "a neuron has nin weights and one more number it learns")
    if len(params) != 41:
        raise Mistake("wrong number of parameters", "len(MLP(3, [4, 4, 1]).parameters())", 41, len(params),
                      "3*4 + 4 in the first layer, 4*4 + 4 in the second, 4 + 1 in the last")
    want = lecture_parameters(model)
    if [id(p) for p in params] != [id(p) for p in want]:
        raise Mistake("parameters in the wrong order", "MLP(3, [4, 4, 1]).parameters()",
                      "layer by layer, neuron by neuron, its weights then its bias",
                      "another order", "a saved model or an optimizer's state meets the parameters in this order")
    x = [2.0, 3.0, -1.0]
    out = model(x)
    out = out[0] if isinstance(out, list) else out
    ours = forward_with([Ours(p.data) for p in params], x)
    if not close(out.data, ours.data):
        raise Mistake("wrong forward value", "MLP(3, [4, 4, 1])([2.0, 3.0, -1.0])", ours.data, out.data,
                      "each neuron is tanh(sum(wi*xi) + b), each layer feeds the next")


def forward_with(params, x, sizes=(3, 4, 4, 1)):
    """the lecture's MLP on x, its parameters given in the lecture's order (micrograd.engine Values)"""
    it = iter(params)
    for nout in sizes[1:]:
        x = [(sum((next(it) * xi for xi in x), Ours(0.0)) + next(it)).tanh() for _ in range(nout)]
    return x[0]


def reference_losses(values, steps, lr, zero_grad=True):
    """the lecture's loop from these starting values; zero_grad=False is the lecture's own first bug"""
    params = [Ours(v) for v in values]
    losses = []
    for _ in range(steps):
        ypred = [forward_with(params, x) for x in LECTURE_XS]
        loss = sum(((yout - ygt) ** 2 for ygt, yout in zip(LECTURE_YS, ypred)), Ours(0.0))
        if zero_grad:
            for p in params:
                p.grad = 0.0
        loss.backward()
        for p in params:
            p.data += -lr * p.grad
        losses.append(loss.data)
    return losses


def check_training(names):
    """8. the training loop on the lecture's four samples with the squared error: train(model, xs, ys, steps, lr)"""
    MLP, train = need(names, 'MLP', 'train')
    model = MLP(3, [4, 4, 1])
    rng = random.Random(21)
    start = [rng.uniform(-1, 1) for _ in model.parameters()]
    for p, v in zip(model.parameters(), start):
        p.data, p.grad = v, 0.0
    steps, lr = 10, 0.05
    got = train(model, [list(x) for x in LECTURE_XS], list(LECTURE_YS), steps, lr)
    want = reference_losses(start, steps, lr)
    got = [float(v.data if hasattr(v, 'data') else v) for v in got] if isinstance(got, (list, tuple)) else got
    if isinstance(got, list) and len(got) == steps and all(close(g, w, 1e-7) for g, w in zip(got, want)):
        return
    example = f"train(MLP(3, [4, 4, 1]), xs, ys, steps={steps}, lr={lr}) from fixed starting parameters"
    if isinstance(got, list) and all(close(g, w, 1e-7) for g, w in zip(got, reference_losses(start, steps, lr, False))):
        raise Mistake("forgetting zero_grad in the loop", example, [round(w, 6) for w in want],
                      [round(g, 6) for g in got], "backward adds to .grad: what do the grads hold when the second "
                      "step's backward begins?")
    raise Mistake("wrong losses", example, [round(w, 6) for w in want], got,
                  "each step: forward all four samples, loss = sum((yout - ygt)**2), zero the grads, backward, "
                  "p.data += -lr * p.grad; return the losses' .data")


def check_softmax(names):
    """9 (bonus). softmax cross-entropy: softmax_cross_entropy(logits, target) = -log(softmax(logits)[target])"""
    Value, fn = need(names, 'Value', 'softmax_cross_entropy')
    from micrograd.losses import cross_entropy
    data = [2.0, -1.0, 0.5]
    logits, ours = [Value(v) for v in data], [Ours(v) for v in data]
    loss = fn(logits, 2)
    run_backward(loss)
    oloss = cross_entropy([ours], [2])
    oloss.backward()
    torch = torch_or_none()
    if torch is not None:  # a second opinion on the expected numbers
        t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        torch.nn.functional.cross_entropy(t[None], torch.tensor([2])).backward()
        assert all(math.isclose(g, o.grad, rel_tol=1e-12, abs_tol=1e-15) for g, o in zip(t.grad.tolist(), ours))
    for mine, o, what in [(loss, oloss, "loss")] + [(m, x, f"logits[{i}].grad") for i, (m, x) in
                                                    enumerate(zip(logits, ours))]:
        got, want = (mine.data, o.data) if what == "loss" else (mine.grad, o.grad)
        if not close(got, want):
            raise Mistake("wrong softmax cross-entropy", f"{what} for logits [2.0, -1.0, 0.5], target 2", want, got,
                          "loss = -log(exp(l[t]) / sum(exp(l))); its gradient to l[i] is softmax(l)[i] - (i == t)")


def check_deep(names):
    """10 (bonus). a deep graph: backward through 5000 nodes must not hit the recursion limit"""
    Value, = need(names, 'Value')
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y + x
    try:
        y.backward()
    except RecursionError:
        raise Mistake("recursion limit in backward", "x = Value(0.5); y = x; 5000 times y = y + x; y.backward()",
                      "x.grad = 5001.0", "RecursionError", "a recursive build_topo needs one Python frame per "
                      "node: can the walk keep its own stack instead?") from None
    if not close(x.grad, 5001.0):
        raise Mistake("wrong gradient on a deep graph", "y = x + x + ... (5001 times x); y.backward()", 5001.0,
                      x.grad, "every + passes its out.grad to both operands")


EXERCISES = [check_value, check_manual, check_closures, check_tanh, check_backward, check_ops, check_nn,
             check_training, check_softmax, check_deep]
