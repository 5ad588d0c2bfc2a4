"""`array_batches`: in-memory arrays as the `tf.data` batches `fit` reads.

Keras turns arrays given to `fit` into a `tf.data` pipeline of its own on
every call, tracing several dataset functions each time (about a quarter of a
second, most of a short `fit`'s overhead). For arrays that fit comfortably in
memory `FlowModel.fit` builds the same batches from a pipeline with no Python
functions to trace: shuffled every epoch (unless `shuffle=False`), the last
batch smaller when the examples do not divide evenly, as Keras does.
"""

import numpy as np
import tensorflow as tf

MAX_IN_GRAPH_BYTES = 1 << 28  # larger arrays keep Keras' own pipeline (it shuffles indices, not copies)
KERAS_DEFAULT_BATCH_SIZE = 32


def fits_in_graph(*arrays):
    """Whether `arrays` (None allowed) are NumPy arrays small enough to batch in a `tf.data` pipeline."""
    present = [a for a in arrays if a is not None]
    return all(isinstance(a, np.ndarray) for a in present) and sum(a.nbytes for a in present) <= MAX_IN_GRAPH_BYTES


def array_batches(x, y=None, batch_size=None, shuffle=True):
    """Batches of `x: [N, ...]` (and `y: [N, ...]`, as `(x, y)` pairs), `batch_size` each (32 when None).

    Returns a `tf.data.Dataset` of `[batch, ...]` tensors, reshuffled every epoch when `shuffle`.
    """
    batch_size = KERAS_DEFAULT_BATCH_SIZE if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size}")
    dataset = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        dataset = dataset.shuffle(len(x), reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
