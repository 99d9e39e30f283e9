"""Refuse reads of the numbers a recording can't replay: the `.data` watcher compile() records under.

    with Watch(params, inputs):    # Value.data is this Watch until the block ends
        loss = fn(*inputs)         # fn's own read of w.data for a parameter w raises ValueError

A recording freezes every decision fn makes in Python, so while fn records, a read of `.data` by
fn's own code of a parameter, an input or a Value computed from them is refused, naming the file
and line. The engine's ops read numbers freely (each replay makes their decisions again); the
library's other modules may read inputs, and Values computed from inputs alone, to check labels.
"""
import sys
import threading

from micrograd import engine
from micrograd.engine import Value

_INPUTS_ONLY = "a Value computed from the inputs"


class Watch:
    """Value.data while a function records: refuses reads of watched numbers by its own code

    On entering, the `data` slot of Value is swapped for this descriptor; it is restored when the
    block ends, whether it returns or raises. Other threads reading .data meanwhile get their
    numbers, a little slower. The first refusal is raised again at the end, also if fn caught it.
    """
    slot = Value.__dict__['data']   # the slot descriptor of Value.data, for reads that skip the watch
    lock = threading.Lock()         # one recording at a time swaps the slot
    __set__ = staticmethod(slot.__set__)   # writes go straight to the slot

    def __init__(self, params, inputs):
        self.sources = dict.fromkeys(params, "a parameter")
        self.sources.update(dict.fromkeys(inputs, "an input"))
        self.clean = set()    # Values known not to be computed from a watched one
        self.thread = threading.get_ident()
        self.error = None     # the first refusal

    def __get__(self, v, owner=None, _caller=sys._getframe, _engine=vars(engine), _data=slot.__get__):
        # the hot path of a recording: every op reads its operands' numbers through here. Defaults
        # bind the globals, so an engine read costs a frame lookup and one identity test
        if v is None:
            return self
        if _caller(1).f_globals is not _engine:
            self._check(v, _caller(1))
        return _data(v)

    def _check(self, v, caller):
        if threading.get_ident() != self.thread:
            return   # another thread's read: not fn's
        what = self._origin(v)
        library = caller.f_globals.get('__name__', '').startswith('micrograd.')
        if what is None or library and what in ("an input", _INPUTS_ONLY):
            return
        self.error = self.error or ValueError(
            f"{caller.f_code.co_filename}:{caller.f_lineno}: fn reads the number (.data) of {what} "
            "while compile() records it; a recording can't make that decision again on new numbers. "
            "Make it with an op: relu, Value.abs(), engine.amax(...), engine.select(values, index), "
            "sigmoid or softplus; or pass the number as an input, or leave fn uncompiled")
        raise self.error

    def _origin(self, v):
        """what v is, if it is watched: a parameter, an input or a Value computed from them"""
        if v in self.sources:
            return self.sources[v]
        found, seen, stack = set(), set(), [v]
        while stack:
            u = stack.pop()
            if u in self.sources:
                found.add(self.sources[u])
            elif u not in seen and u not in self.clean:
                seen.add(u)
                stack.extend(u._prev)
        if not found:
            self.clean |= seen
            return None
        # labels made from the inputs (2 * y - 1) may be checked by the losses, as the inputs may
        return _INPUTS_ONLY if found == {"an input"} else "a Value computed from the parameters"

    def __enter__(self):
        if recording_here():
            raise RuntimeError("compile can't record inside a function it is recording")
        Watch.lock.acquire()
        Value.data = self
        return self

    def __exit__(self, *exc_info):
        Value.data = Watch.slot
        Watch.lock.release()
        if self.error is not None:
            raise self.error


def recording_here():
    """whether this thread is recording a function (its Value.data reads are watched)"""
    slot = Value.__dict__['data']
    return isinstance(slot, Watch) and slot.thread == threading.get_ident()
