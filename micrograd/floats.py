"""Numbers in, Python floats out: the conversion and the float math the engine's ops share.

Every number the library takes in goes through as_float, so all arithmetic runs in Python's
floats (IEEE doubles, as torch float64), never in NumPy's types. The rest is each op's float math
where Python's own operators would raise or depend on order: the engine calls them, and so can a
compiled replay, so both make the same decisions.
"""
import math
import numbers


def as_float(x, name=None):
    """x as a Python float, so no arithmetic ever runs in NumPy's or Fraction's types

    name: what x is, for the error ('lr', "mse_loss's targets[1]"); None for a Value's data.
    """
    if type(x) is float:  # the hot path: skip the checks below
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        # bool is refused on purpose: Value(a > b) is almost always a bug (numpy.bool_ is no Real);
        # so is an array of any shape, a 0-d one included: pass arr.item()
        what = type(x).__name__
        if name:
            raise TypeError(f"{name} must be a real number, got {what}")
        if isinstance(x, str):  # text read from a file or input(): show it, and the conversion
            raise TypeError(f"Value needs a real number (int or float), got str {x[:40]!r}: "
                            f"convert it first, Value(float({x[:40]!r}))")
        if hasattr(x, '__array_interface__'):  # Value(array) or Value(1.0) * array
            raise TypeError(f"Value needs a real number (int or float), got {what}: pass one number "
                            "(arr.item()), or put the array on the left, array * value, for an array of Values")
        raise TypeError(f"Value needs a real number (int or float), got {what}")
    try:
        f = float(x)
    except OverflowError:
        f = math.inf
    if math.isinf(f) and x != f:  # a huge int raises above; numpy.longdouble('1e400') gives inf
        raise OverflowError(f"{name + ' is ' if name else ''}{_abbreviated(x)} is too large for a float "
                            "(at most ~1.8e308)")
    return f


def as_non_negative(x, name):
    """x as a Python float >= 0 (a rate, a decay, a penalty's weight), or an error naming it"""
    value = as_float(x, name)
    if not value >= 0:  # `not >=` refuses NaN too
        raise ValueError(f"{name} must be a non-negative number, got {x!r}")
    return value


def is_int(x):
    """x is an int or a NumPy integer, and not a bool: a size, seed or index of True is a bug"""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _abbreviated(x):
    # str() of an int over 4300 digits raises ValueError, and it would fill the screen anyway
    if isinstance(x, numbers.Integral) and x.bit_length() > 10_000:
        return f"an int of {x.bit_length()} bits"
    return f"{str(x)[:20]}..."


def power(x, n):
    """x ** n for a float x, or an error naming the numbers where it has no float value"""
    if x == 0 and n < 0:
        raise ZeroDivisionError(f"division by zero: {x} ** {n}")
    if x < 0 and not float(n).is_integer():
        raise ValueError(f"a negative base ({x}) to a fractional power ({n}) is not real")
    if n == 0.5:  # sqrt, as torch computes it: correctly rounded, and sqrt(-0.0) is -0.0
        return math.sqrt(x)
    if n == -1 and math.isfinite(1.0 / x):  # 1 / x, as torch: C's pow differs in the last bit at times
        return 1.0 / x
    try:
        return x ** n
    except OverflowError:
        raise OverflowError(f"{x} ** {n} is too large for a float") from None


def quotient(x, y):
    """x / y for floats, as Python divides (inf where it overflows), or an error naming a zero divisor"""
    if y == 0:
        raise ZeroDivisionError(f"division by zero: {x} / {y}")
    return x / y


def reciprocal(x):
    """1 / x for a float x, inf for a subnormal x as IEEE (x ** -1 would raise): a division's **-1 node"""
    if x == 0:
        raise ZeroDivisionError(f"division by zero: 1 / {x}")
    return 1.0 / x


def ieee_pow(x, n):
    """x ** n, but ±inf where Python raises (0 ** -n, overflow), as IEEE and torch give it"""
    try:
        return x ** n
    except (ZeroDivisionError, OverflowError):
        odd = float(n).is_integer() and n % 2 == 1
        return math.copysign(math.inf, x) if odd else math.inf


def nan_max(xs):
    """the largest of xs, or nan if one is nan, as torch.amax: Python's max would depend on the order"""
    return math.nan if any(map(math.isnan, xs)) else max(xs)


def sigmoid(x):
    """1 / (1 + e^-x) for a float x"""
    # exp of a non-positive number only: exp(-x) would overflow for x below about -709
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def sigmoid_slope(x):
    """s(x) (1 - s(x)) for x > 0, where s is near 1 and 1 - s would cancel: e / (1 + e)², e = e^-x"""
    e = math.exp(-x)
    return e / (1 + e)**2


def sech_squared(x):
    """1 - tanh(x)², for |x| where tanh is near ±1 and 1 - tanh² would cancel: 4e / (1 + e)², e = e^-2|x|"""
    e = math.exp(-2 * abs(x))  # never overflows; 0 far out, where the slope is 0 too
    return 4 * e / (1 + e)**2
