"""The rule for positive real amounts (rates, norms, budgets): a finite number above 0.

`FlowModel`'s `clip_norm` (through `GuardedUpdate`) and the command line's
`--learning-rate`, `--time-budget` and the other sizes given as numbers check
here: a value that is not a real number is a `TypeError`, one that is not
finite or not above 0 a `ValueError`, each naming the argument.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def check_positive(value: Any, name: str) -> float:
    """`value` (a Python or NumPy real number, or a 0-d array) as a float in `(0, inf)`."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r} ({type(value).__name__})")
    if not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)
