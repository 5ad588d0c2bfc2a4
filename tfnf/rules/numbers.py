"""The rules for real amounts: positive ones (rates, norms, budgets, bounds: a finite
number above 0) and fractions (dropout: a number in `[0, 1)`).

`FlowModel`'s `clip_norm` (through `GuardedUpdate`), the builders' bounds and
dropout rates (`tfnf.flows.argument_checks`) and the command line's
`--learning-rate`, `--time-budget` and the other sizes given as numbers check
here: a value that is not a real number is a `TypeError`, one out of range a
`ValueError`, each naming the argument.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def check_real(value: Any, name: str, expected: str = "a real number") -> float:
    """`value` (a Python or NumPy real number, or a 0-d array) as a float; `TypeError`
    naming `name` and `expected` for anything else (bools, strings, tensors)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    return float(value)


def check_positive(value: Any, name: str, expected: str = "a positive number") -> float:
    """`value` as a float in `(0, inf)` (see `check_real`; `ValueError` outside it)."""
    number = check_real(value, name, expected)
    if not 0 < number < math.inf:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number


def check_fraction(value: Any, name: str, expected: str = "a number in [0, 1)") -> float:
    """`value` as a float in `[0, 1)`, a rate such as dropout (see `check_real`; `ValueError` outside it)."""
    number = check_real(value, name, expected)
    if not 0.0 <= number < 1.0:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return number
