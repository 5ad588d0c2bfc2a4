"""The one integer check: counts, seeds and versions, refused by name instead of wrapped or truncated.

Every path (Python API, SavedModel inputs checked on the Python side, command line)
calls `check_integer`, so `sample(2, seed=2**32)`, `-n 3000000000` and
`--model-version -1` fail with a message naming the argument, never wrap
modulo 2**32 or reach TensorFlow as an int32 overflow.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

MAX_INT32 = 2**31 - 1
MAX_SEED = 2**32 - 1  # NumPy's and Keras' seed range (`keras.utils.set_random_seed`)


def check_integer(
    value: Any, name: str, minimum: int | None = None, maximum: int | None = None, expected: str | None = None,
) -> int:
    """`value` as a Python `int`, or an error naming `name`.

    Accepts Python and NumPy integers, 0-d integer arrays and eager integer
    tensors (anything with `.numpy()`). Raises `TypeError` for anything else
    (bools, floats such as `8.0`, strings) and `ValueError` for a value outside
    `[minimum, maximum]`. `expected` (e.g. `"a positive integer"`) phrases both
    messages as `"<name> must be <expected>, got ..."`.
    """
    if hasattr(value, "numpy") and not isinstance(value, (bool, np.generic, np.ndarray)):
        try:
            value = value.numpy()
        except Exception:  # a symbolic tensor has no value to check
            raise TypeError(f"{name} must be a concrete integer, got {value!r}") from None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be {expected or 'an integer'}, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {expected or f'>= {minimum}'}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be {expected or f'<= {maximum}'}, got {value}")
    return value


def check_seed(seed: Any, name: str = "seed") -> int:
    """An integer seed in `[0, 2**32 - 1]` (the range NumPy and Keras take), checked by name."""
    return check_integer(seed, name, 0, MAX_SEED)


def seed_pair(seed: Any, name: str = "seed") -> np.ndarray:
    """A stateless-random seed `int32 [2]` for TensorFlow from an integer seed or a pair.

    An integer `s` in `[0, 2**32)` becomes `[low 31 bits, bit 31]`, so distinct
    seeds give distinct pairs and `s < 2**31` keeps the pair `[s, 0]`. A pair
    (two integers each in the int32 range) is used as given.
    """
    if np.ndim(seed) == 1 and not isinstance(seed, (str, bytes)):
        values = list(np.asarray(seed.numpy() if hasattr(seed, "numpy") else seed))
        if len(values) != 2:
            raise ValueError(f"{name} must be an integer or a pair of integers, got {len(values)} values")
        pair = [check_integer(v, f"{name}[{i}]", -MAX_INT32 - 1, MAX_INT32) for i, v in enumerate(values)]
        return np.asarray(pair, np.int32)
    value = check_seed(seed, name)
    return np.asarray([value & MAX_INT32, value >> 31], np.int32)
