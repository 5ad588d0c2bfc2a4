"""The temperature rule: a finite number >= 0, and exactly 1 for a base that is not Gaussian.

Every path that takes a temperature (`FlowModel.sample`, `DataFlow.latent_sample`
and so the SavedModel's `sample` signatures, the TensorBoard sample-grid
callback, `tfnf train --temperatures`, `tfnf sample --temperature`) checks it
here, with the same messages. A mistake of type is a `TypeError`, a value out of
range or a temperature other than 1 for a non-Gaussian base a `ValueError`.

For a Gaussian base the temperature scales the base's standardised noise; any
other base has no such scale, so it is sampled as it is, at temperature 1.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

DEFAULT_GAUSSIAN = 0.7  # the command line's sampling temperature for a Gaussian base
NOT_GAUSSIAN = "temperature is defined for Gaussian bases only"
IN_RANGE = "must be finite and >= 0"


def not_gaussian_message(name: str, base: str) -> str:
    """What a temperature other than 1 for the non-Gaussian base `base` (a class name) is told,
    up to the value given (appended as `, got ...` by the caller, a Python value or a tensor)."""
    return f"{name} must be 1 for this model: {NOT_GAUSSIAN}, and its base is {base}"


def check_temperature(value: Any, name: str = "temperature", gaussian_base: bool = True, base: str = "") -> float:
    """`value` as a float: a real number (Python or NumPy), finite and >= 0, and 1 unless
    `gaussian_base`; `base` names the base distribution's class in the message.

    Raises `TypeError` for a value that is not a real number, `ValueError` for
    one out of range or not 1 for a non-Gaussian base.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not 0 <= value < math.inf:
        raise ValueError(f"{name} {IN_RANGE}, got {value!r}")
    if not gaussian_base and value != 1:
        raise ValueError(f"{not_gaussian_message(name, base)}, got {value!r}")
    return value


def default_temperature(gaussian_base: bool) -> float:
    """The temperature the command line samples at when none is given."""
    return DEFAULT_GAUSSIAN if gaussian_base else 1.0
