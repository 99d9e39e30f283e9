"""watch: while a function records, its own reads of watched numbers are refused; the engine's are not."""
import threading

import pytest

from micrograd.engine import Value
from micrograd.watch import Watch, recording_here


def test_a_read_of_a_parameters_number_names_this_file_and_line():
    w = Value(0.5)
    with pytest.raises(ValueError, match=r"test_watch.py:\d+: fn reads the number \(\.data\) of a parameter"):
        with Watch([w], []):
            w.data
    assert Value.__dict__['data'] is Watch.slot and w.data == 0.5


def test_a_value_computed_from_an_input_is_refused_but_the_engines_reads_pass():
    x = Value(2.0)
    with pytest.raises(ValueError, match="computed from the inputs"):
        with Watch([], [x]):
            y = (x * 3.0).tanh()   # the engine reads x's number: allowed
            y.data


def test_unwatched_values_may_be_read_and_written():
    w, c = Value(0.5), Value(3.0)
    with Watch([w], []):
        assert (c * 2.0).data == 6.0
        c.data, c.grad = 0.25, 1.5
        assert c.grad == 1.5
    assert (c.data, c.grad) == (0.25, 1.5)


@pytest.mark.parametrize("write", [lambda w: setattr(w, 'data', 0.25), lambda w: setattr(w, 'grad', 0.0)],
                         ids=["data", "grad"])
def test_a_watched_values_numbers_are_not_written(write):
    w = Value(0.5)
    with pytest.raises(ValueError, match=r"test_watch.py:\d+: fn writes the"):
        with Watch([w], []):
            write(w)
    assert (w.data, w.grad) == (0.5, 0.0)   # refused before it was written


def test_recording_here_only_inside_the_block_and_in_its_thread():
    seen = []
    with Watch([], []):
        assert recording_here()
        thread = threading.Thread(target=lambda: seen.append(recording_here()))
        thread.start()
        thread.join()
        with pytest.raises(RuntimeError, match="can't record inside"):
            with Watch([], []):
                pass
    assert seen == [False] and not recording_here()
