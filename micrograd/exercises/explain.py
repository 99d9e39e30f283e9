"""--explain: the explorer's page of the reference graph beside the learner's, to see where the grads part"""
import pathlib
import shutil

from micrograd.engine import Value as Ours


def mirror(root):
    """the learner's graph as micrograd Values whose _backward runs the learner's own _backward"""
    made, stack = {}, [(root, False)]
    while stack:
        v, children_done = stack.pop()
        if children_done:
            if id(v) not in made:
                made[id(v)] = _twin(v, [made[id(c)] for c in v._prev])
        elif id(v) not in made:
            stack.append((v, True))
            stack.extend((child, False) for child in v._prev)
    return made[id(root)]


def _twin(v, children):
    twin = Ours(float(v.data), tuple(children), str(getattr(v, '_op', '')), str(getattr(v, 'label', '')))
    if children:
        def _backward():  # the learner's numbers in, the learner's backward, its grads back out
            v.grad = twin.grad
            for c, t in zip(v._prev, children):
                c.grad = t.grad
            v._backward()
            for c, t in zip(v._prev, children):
                t.grad = c.grad
        twin._backward = _backward
    return twin


def write_pages(directory, yours, reference):
    """write reference.html and yours.html into directory; a message saying what was written or why not"""
    if shutil.which('dot') is None:
        return ("the explorer pages need Graphviz's dot program to lay the graph out: install graphviz "
                "(apt install graphviz, brew install graphviz) and run again")
    from micrograd.viz import explore
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    explore(reference).save(directory / 'reference.html')
    explore(mirror(yours)).save(directory / 'yours.html')
    return f"open {directory / 'reference.html'} and {directory / 'yours.html'} to see where the grads part"
