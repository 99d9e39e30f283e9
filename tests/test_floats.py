"""micrograd.floats: every number becomes a Python float, and the ops' float math gives torch's numbers."""
import math
import re
from fractions import Fraction

import numpy as np
import pytest
import torch

import mpmath

from micrograd.floats import (as_float, as_non_negative, ieee_pow, is_int, nan_max, power, quotient, reciprocal,
                              sech_squared, sigmoid, sigmoid_slope)


@pytest.mark.parametrize("x, expected", [
    (3, 3.0), (Fraction(1, 4), 0.25), (np.int8(-5), -5.0), (np.uint64(2**63), 2.0**63),
    (np.float32(0.1), 0.10000000149011612), (np.float16(0.5), 0.5), (math.inf, math.inf),
])
def test_as_float_gives_a_python_float_of_the_same_number(x, expected):
    f = as_float(x)
    assert type(f) is float and f == expected


@pytest.mark.parametrize("x", [True, np.bool_(False), "1.0", None, 1j, np.array(1.0)])
def test_as_float_refuses_what_is_not_a_real_number_naming_it(x):
    with pytest.raises(TypeError, match="lr must be a real number, got"):
        as_float(x, 'lr')


@pytest.mark.parametrize("x", [10**400, -10**400, np.longdouble('1e400')])
def test_as_float_refuses_numbers_beyond_the_float_range(x):
    with pytest.raises(OverflowError, match="^lr is .* too large for a float"):
        as_float(x, 'lr')


def test_power_raises_where_the_power_has_no_float_value():
    with pytest.raises(ZeroDivisionError, match="division by zero: 0.0 \\*\\* -1"):
        power(0.0, -1)
    with pytest.raises(ValueError, match="negative base"):
        power(-8.0, 1 / 3)
    with pytest.raises(OverflowError, match="too large for a float"):
        power(10.0, 400)


@pytest.mark.parametrize("x, n", [(0.0, -1), (-0.0, -1), (0.0, -0.5), (0.0, -2), (1e-200, -2),
                                  (-1e-200, -3), (10.0, 400), (2.0, 3)])
def test_ieee_pow_gives_torchs_infinities(x, n):
    expected = torch.pow(torch.tensor(x, dtype=torch.float64), n).item()
    assert ieee_pow(x, n) == expected


def test_nan_max_is_nan_whatever_the_order():
    assert math.isnan(nan_max([1.0, math.nan])) and math.isnan(nan_max([math.nan, 1.0]))
    assert nan_max([1.0, 3.0, 2.0]) == 3.0


@pytest.mark.parametrize("x", [-1000.0, -30.0, -1.0, 0.0, 0.5, 30.0, 1000.0])
def test_sigmoid_matches_torch_without_overflow(x):
    expected = torch.sigmoid(torch.tensor(x, dtype=torch.float64)).item()
    assert sigmoid(x) == pytest.approx(expected, rel=1e-15, abs=1e-300)


def test_as_float_names_an_int_too_long_to_print():
    # str() of an int over 4300 digits raises ValueError: the message must not call it
    with pytest.raises(OverflowError, match="x is an int of 16610 bits is too large for a float"):
        as_float(10**5000, 'x')


@pytest.mark.parametrize("x, expected", [
    (3, True), (-2, True), (np.int64(5), True), (np.uint8(0), True), (10**400, True),
    (True, False), (np.bool_(True), False), (3.0, False), (np.float64(2), False), (Fraction(4, 2), False),
    ('3', False), (np.array(3), False),
])
def test_is_int_holds_for_ints_and_numpy_integers_never_bools_or_floats(x, expected):
    assert is_int(x) is expected


@pytest.mark.parametrize("x", [0, 0.0, np.float32(0.25), Fraction(1, 3), math.inf])
def test_as_non_negative_gives_the_python_float_of_a_number_at_or_above_zero(x):
    value = as_non_negative(x, 'lr')
    assert type(value) is float and value == float(x)


@pytest.mark.parametrize("x", [-1, -1e-300, np.float32(-0.5), math.nan])
def test_as_non_negative_refuses_negatives_and_nan_naming_them(x):
    with pytest.raises(ValueError, match=r"^lr must be a non-negative number, got "):
        as_non_negative(x, 'lr')


@pytest.mark.parametrize("x, y", [(1.0, 3.0), (1e-300, 1e-310), (0.0, 5e-324), (-2.0, 5e-324), (1e300, 1e-10)])
def test_quotient_and_reciprocal_are_python_division_inf_included(x, y):
    assert quotient(x, y) == x / y == (torch.tensor(x, dtype=torch.float64) / y).item()
    assert reciprocal(y) == 1.0 / y  # inf for a subnormal y, where y ** -1 raises
    with pytest.raises(ZeroDivisionError, match=re.escape(f"division by zero: {x} / 0.0")):
        quotient(x, 0.0)
    with pytest.raises(ZeroDivisionError, match="division by zero: 1 / -0.0"):
        reciprocal(-0.0)


@pytest.mark.parametrize("x", [0.0, -0.0, 2.0, 1e-300, 0.3])
def test_power_of_a_half_and_of_minus_one_are_torchs_sqrt_and_reciprocal(x):
    t = torch.tensor(x, dtype=torch.float64)
    got, want = power(x, 0.5), (t ** 0.5).item()
    assert got == want and math.copysign(1, got) == math.copysign(1, want)  # -0.0 at -0.0
    if x != 0:
        assert power(x, -1) == (t ** -1).item() == 1 / x


@pytest.mark.parametrize("x", [0.9, 3.0, 11.85, 19.5, 30.0, 300.0, -11.85])
def test_sigmoid_slope_and_sech_squared_are_exact_where_the_plain_forms_cancel(x):
    mpmath.mp.prec = 200
    X = mpmath.mpf(x)
    sigmoid_exact = mpmath.exp(-abs(X)) / (1 + mpmath.exp(-abs(X)))**2
    for got, exact in [(sech_squared(x), mpmath.sech(X)**2), (sigmoid_slope(abs(x)), sigmoid_exact)]:
        assert got == pytest.approx(float(exact), rel=1e-15, abs=0)
