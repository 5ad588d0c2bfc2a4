"""`as_dataset`: in-memory arrays as the `tf.data.Dataset` every bundled dataset returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf


def as_dataset(
    arrays: np.ndarray | tuple[np.ndarray, ...], batch_size: int | None = None, shuffle: bool = False, seed: int = 0
) -> tf.data.Dataset:
    """`arrays` (an array `[N, ...]`, or a tuple of them) as a `tf.data.Dataset` of examples,
    reshuffled every epoch when `shuffle`, batched by `batch_size` (None: single examples), prefetched."""
    import tensorflow as tf  # here, so that the dataset modules load without TensorFlow

    dataset = tf.data.Dataset.from_tensor_slices(arrays)
    if shuffle:
        count = len(arrays[0]) if isinstance(arrays, tuple) else len(arrays)
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    if batch_size:
        dataset = dataset.batch(int(batch_size))
    return dataset.prefetch(tf.data.AUTOTUNE)
