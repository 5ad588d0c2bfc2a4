"""Validation of data handed to a `FlowModel`: shape, dtype, NaN, range."""

import numpy as np
import tensorflow as tf


def check_data(x, event_shape, num_bins=None, name="x"):
    """Check a concrete batch `x: [batch, *event_shape]` and return it as a NumPy array.

    Raises `TypeError` for non-numeric data, `ValueError` for a wrong shape,
    NaN/Inf values, or (with `num_bins`) pixels outside `[0, num_bins)`.
    """
    if isinstance(x, (tf.Tensor, tf.Variable)):
        x = x.numpy()
    array = np.asarray(x)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    event_shape = tuple(event_shape)
    if array.ndim != len(event_shape) + 1 or tuple(array.shape[1:]) != event_shape:
        raise ValueError(
            f"{name} must have shape [batch, {', '.join(map(str, event_shape))}], got {list(array.shape)}"
        )
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or Inf values ({int(np.sum(~np.isfinite(array)))} of {array.size})")
    if num_bins is not None and array.size:
        low, high = array.min(), array.max()
        if low < 0 or high >= num_bins:
            raise ValueError(
                f"{name} must hold pixel values in [0, {num_bins}) for num_bins={num_bins}, "
                f"got values in [{low}, {high}]"
            )
    return array
