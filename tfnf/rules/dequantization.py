"""Dequantisation: discrete data `x` (integer levels) become `x + u`, `u` in `[0, 1)` per element.

`DataFlow.dequantize` (training and `evaluate`, with TensorFlow's noise) and the
command line's seeded evaluation (NumPy's noise, so a live model and its export
see the same values) both add the noise here; `check_dequantization` is
`FlowModel`'s `dequantization` argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEQUANTIZATIONS = ("uniform", "variational")


def dequantize(x: Any, uniform_noise: Any) -> Any:
    """`x + u` for pixels `x: [..., *event]` and noise `u ~ U[0, 1)` of the same shape
    (NumPy arrays or tensors of one float dtype), kept below `x + 1`: in float32, `255 + u`
    rounds to 256 for `u` within 2e-5 of 1, a value outside `[0, 256)`, so the sum is capped at
    the largest float below `x + 1`."""
    if isinstance(x, np.ndarray) and isinstance(uniform_noise, np.ndarray):
        return np.minimum(x + uniform_noise, np.nextafter(x + 1, x))
    import tensorflow as tf

    return tf.minimum(x + uniform_noise, tf.math.nextafter(x + 1, x))


def check_dequantization(dequantization: Any, num_bins: int | None) -> str:
    """`dequantization` checked: one of `DEQUANTIZATIONS`, `"variational"` only with
    discrete data (`num_bins` set). Raises `ValueError` naming the argument."""
    if not (isinstance(dequantization, str) and dequantization in DEQUANTIZATIONS):
        raise ValueError(f"dequantization must be one of {DEQUANTIZATIONS}, got {dequantization!r}")
    if dequantization == "variational" and num_bins is None:
        raise ValueError("dequantization='variational' needs discrete data: set num_bins (got num_bins=None)")
    return dequantization
