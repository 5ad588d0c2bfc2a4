"""Checks of the flow builders' arguments, run before anything is built.

Each check returns the argument in the form the builders use (a Python
`int`, a tuple of ints, a `float`, a `tf.DType`) or raises an error whose
message names the argument, what was given and what is expected:
`TypeError` for a value of the wrong kind (`8.5` or `True` for a count, `8`
for `hidden_units`, `"0.3"` for `dropout`), `ValueError` for a value of the
right kind out of range (`0` for a count, `1.5` for `dropout`, `int32` for
`dtype`).
"""

import operator

import numpy as np
import tensorflow as tf

from tfnf.bijectors.flow_bijector import check_event_shape
from tfnf.rules.integers import check_integer
from tfnf.rules.numbers import check_fraction, check_positive

# The dtypes every builder's bijectors support in both directions (a float16
# Glow builds, but its 1x1 convolution cannot be inverted on CPU).
FLOAT_DTYPES = ("float32", "float64")


def _describe(value):
    """`8.5 (float)`: the value and its type, for a `TypeError`."""
    return f"{value!r} ({type(value).__name__})"


def as_int(value):
    """`value` as a Python int if it is an integer (Python, NumPy, 0-d integer array), else None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def integer_at_least(name, value, minimum, expected=None):
    """`value` as an `int` if it is an integer `>= minimum` (bools and floats such as
    `8.0` are not integers here; `tfnf.rules.integers.check_integer`).

    Raises:
      TypeError: `value` is not an integer.
      ValueError: it is below `minimum`.
    """
    return check_integer(value, name, minimum, expected=expected or f"an integer >= {minimum}")


def positive_int(name, value):
    """`value` as an `int` if it is an integer `>= 1`: a count or a width."""
    return integer_at_least(name, value, 1, "a positive integer")


def optional_positive_int(name, value):
    """None, or `positive_int(name, value)`."""
    return None if value is None else positive_int(name, value)


def hidden_units_tuple(name, value):
    """`value` as a tuple of ints if it is a sequence (list, tuple, 1-D array) of
    positive integers, such as `(64, 64)`; empty means no hidden layer."""
    expected = "a sequence of positive integers such as (64, 64)"
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}")
    units = []
    for unit in value:
        number = as_int(unit)
        if number is None:
            raise TypeError(f"{name} must be {expected}, got {value!r} (holding {_describe(unit)})")
        if number < 1:
            raise ValueError(f"{name} must be {expected}, got {value!r}")
        units.append(number)
    return tuple(units)


def boolean(name, value):
    """`value` as a Python `bool` if it is one (`True`, `False` or a NumPy bool); 0, 1 and strings are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


def probability(name, value):
    """`value` as a `float` if it is a real number in `[0, 1)`: a dropout rate."""
    return check_fraction(value, name)


def positive_real(name, value):
    """`value` as a `float` if it is a finite real number `> 0`: a bound or a scale."""
    return check_positive(value, name, "a finite number > 0")


def optional_seed(name, value):
    """None, or `value` as an `int` if it is an integer `>= 0`."""
    return None if value is None else integer_at_least(name, value, 0, "None or an integer >= 0")


def float_dtype(name, value):
    """`value` as a `tf.DType` if it names one of `FLOAT_DTYPES` (`"float32"`,
    `tf.float64`, `np.float32`, ...).

    Raises:
      TypeError: `value` is not a dtype at all.
      ValueError: it is a dtype the flows do not support (`int32`, `float16`, ...).
    """
    expected = " or ".join(FLOAT_DTYPES)
    try:
        dtype = tf.as_dtype(value)
    except TypeError:
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}") from None
    if dtype.name not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be {expected}, got {dtype.name}")
    return dtype


def event_shape_tuple(name, value, min_rank=1, max_rank=3):
    """`value` as a tuple of ints if it is a sequence of `min_rank` to `max_rank`
    positive integers (`check_event_shape`, which also takes `8.5` as `8`, after a
    check that every dimension is an integer)."""
    try:
        dims = list(value)
    except TypeError:
        dims = None
    if dims is None or isinstance(value, (str, bytes)) or any(as_int(d) is None for d in dims):
        raise TypeError(f"{name} must be a sequence of ints such as (8, 8, 1) or (2,), got {value!r}")
    return check_event_shape(name, [as_int(d) for d in dims], min_rank=min_rank, max_rank=max_rank)


def event_shape_of_kinds(builder, value, kinds):
    """`event_shape_tuple("event_shape", value)`, then `ValueError` unless its rank suits `kinds`
    (`("vector",)`: `(D,)`; `("image",)`: `(H, W, C)`; both)."""
    ranks = {"vector": 1, "image": 3}
    shape = event_shape_tuple("event_shape", value, min_rank=1, max_rank=3)
    if len(shape) not in {ranks[kind] for kind in kinds}:
        expected = " or ".join({"vector": "vectors (D,)", "image": "images (H, W, C)"}[kind] for kind in kinds)
        raise ValueError(f"{builder} takes {expected}, got event_shape={shape}")
    return shape


def choice(name, value, choices):
    """`value` if it is one of `choices` (strings); `ValueError` naming them otherwise."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def activation_name(name, value):
    """`value` if it names a Keras activation by string (`"tanh"`), else `TypeError`."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be the name of a Keras activation such as 'tanh', got {value!r}")
    return value


# The check of every builder argument, by name: one rule per name for every builder.
# An argument whose default is None also accepts None (`num_levels` of realnvp).
CHECKS = {
    "num_couplings": positive_int,
    "num_layers": positive_int,
    "num_levels": positive_int,
    "num_steps": positive_int,
    "num_bins": positive_int,
    "num_blocks": positive_int,
    "patch_size": positive_int,
    "width": positive_int,
    "depth": positive_int,
    "num_heads": positive_int,
    "hidden_units": hidden_units_tuple,
    "actnorm": boolean,
    "hidden_channels": positive_int,
    "dropout": probability,
    "bound": positive_real,
    "scale_bound": positive_real,
    "final_time": positive_real,
    "rtol": positive_real,
    "atol": positive_real,
    "seed": optional_seed,
    "dtype": float_dtype,
    "activation": activation_name,
    "memory_saving": boolean,
}
