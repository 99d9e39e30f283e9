"""Refuse reads of the numbers a recording can't replay: the `.data` watcher compile() records under.

    with Watch(params, inputs):    # Value.data is this Watch until the block ends
        loss = fn(*inputs)         # fn's own read of w.data for a parameter w raises ValueError

A recording freezes every decision fn makes in Python, so while fn records, a read of `.data` by
fn's own code of a parameter, an input or a Value computed from them is refused, naming the file
and line. The engine's ops read numbers freely (each replay makes their decisions again); the
library's other modules may read inputs, and Values computed from inputs alone, to check labels.

What runs once while fn records would never run again in a replay, so writes are refused too: a
parameter's or input's `.data` (an optimizer's step inside fn) or `.grad` (zero_grad(), or a
backward() inside fn, which would add the gradient a second time), and any read of a parameter's
`.grad` (clipping by hand). Each refusal names the line of fn's code that led to it.
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
    grad_slot = Value.__dict__['grad']
    lock = threading.Lock()         # one recording at a time swaps the slot

    def __init__(self, params, inputs):
        self.sources = dict.fromkeys(params, "a parameter")
        self.sources.update(dict.fromkeys(inputs, "an input"))
        self.clean = set()    # Values known not to be computed from a watched one
        self.made = {}        # the Values made while the block runs (their first .data write), in order
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

    def __set__(self, v, x, _set=slot.__set__):
        if v in self.sources:   # a new Value's first number, from Value.__init__, is never one
            self._refuse_write(v, 'data', sys._getframe(1))
        self.made[v] = None
        _set(v, x)

    def stale(self, values):
        """the first of values made before the block, from a parameter (a scaled weight kept from an
        earlier step): eager uses the number it had then, a replay would compute it again"""
        for v in values:
            if v not in self.made and v._prev and self._origin(v) is not None:
                return v
        return None

    def _refuse_write(self, v, field, caller):
        if threading.get_ident() != self.thread:
            return
        if field == 'grad' and _inside(caller, Value.backward.__code__):
            what = ("fn calls backward(), which adds the gradient here and the compiled step adds it "
                    "again: return the loss from fn instead; each call of the step runs backward once")
        else:
            what = (f"fn writes the {'number' if field == 'data' else 'gradient'} (.{field}) of "
                    f"{self.sources[v]}, which a replay would never do again (zero_grad(), an "
                    "optimizer's step() or a hand-written update): do it outside fn, after each call")
        self._refuse(what, caller)

    def _refuse(self, what, caller):
        caller = _users_frame(caller)
        self.error = self.error or ValueError(f"{caller.f_code.co_filename}:{caller.f_lineno}: {what}")
        raise self.error

    def _check(self, v, caller):
        if threading.get_ident() != self.thread:
            return   # another thread's read: not fn's
        what = self._origin(v)
        library = caller.f_globals.get('__name__', '').startswith('micrograd.')
        if what is None or library and what in ("an input", _INPUTS_ONLY):
            return
        where = (f" (in {caller.f_globals['__name__']}.{caller.f_code.co_name}, which can't run inside a "
                 "compiled fn)" if library else "")
        self._refuse(f"fn reads the number (.data) of {what}{where} while compile() records it; a recording "
                     "can't make that decision again on new numbers. Make it with an op: relu, Value.abs(), "
                     "engine.amax(...), engine.select(values, index), sigmoid or softplus; or pass the "
                     "number as an input, or leave fn uncompiled", caller)

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
        Value.data, Value.grad = self, _GradWatch(self)
        return self

    def __exit__(self, *exc_info):
        Value.data, Value.grad = Watch.slot, Watch.grad_slot
        Watch.lock.release()
        if self.error is not None:
            raise self.error


def recording_here():
    """whether this thread is recording a function (its Value.data reads are watched)"""
    slot = Value.__dict__['data']
    return isinstance(slot, Watch) and slot.thread == threading.get_ident()


class _GradWatch:
    """Value.grad while a function records: a parameter's gradient is neither read nor written by fn"""

    def __init__(self, watch):
        self.watch = watch

    def __get__(self, v, owner=None, _get=Watch.grad_slot.__get__, _engine=vars(engine)):
        if v is None:
            return self
        if v in self.watch.sources and self.watch.sources[v] == "a parameter":
            # the engine's backward functions read it to add to it: their write is what is refused
            caller = sys._getframe(1)
            if threading.get_ident() == self.watch.thread and caller.f_globals is not _engine:
                self.watch._refuse(f"fn reads the gradient (.grad) of a parameter while compile() records "
                                   "it: the recording would freeze it (clip or scale gradients outside fn, "
                                   "after each call)", caller)
        return _get(v)

    def __set__(self, v, x, _set=Watch.grad_slot.__set__):
        if v in self.watch.sources:   # a new Value's 0.0, from Value.__init__, is never one
            self.watch._refuse_write(v, 'grad', sys._getframe(1))
        _set(v, x)


def _inside(frame, code):
    """whether frame runs code, or is called by it from within micrograd"""
    while frame is not None and frame.f_globals.get('__name__', '').startswith('micrograd.'):
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


def _users_frame(frame):
    """the first frame outside micrograd: the line of fn's code a refusal points to"""
    while frame.f_back is not None and frame.f_globals.get('__name__', '').startswith('micrograd.'):
        frame = frame.f_back
    return frame
