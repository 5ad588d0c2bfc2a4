"""`array_batches`: in-memory arrays as the `tf.data` batches `fit` reads.

Keras turns arrays given to `fit` into a `tf.data` pipeline of its own on
every call, tracing several dataset functions each time (about a quarter of a
second, most of a short `fit`'s overhead). For arrays that fit comfortably in
memory `FlowModel.fit` builds the batches from a pipeline with no Python
functions to trace.

Shuffled batches are all full-sized: an epoch is `ceil(N / batch_size)`
batches of one shuffled pass over the examples followed by the start of a
second, differently shuffled pass (the batch Keras would leave smaller is
completed with randomly chosen examples), so every example is seen each epoch. One batch shape means XLA
compiles the train step once instead of twice. Unshuffled batches are
Keras' own: in order, the last one smaller.

The pipeline runs without tf.data's autotuning: it has nothing to tune (no
`map`, no parallelism), and the autotuner's background thread made the end
of a `fit` wait for it, for a random time (measured: between 0 and 1.3 s
after 50 Glow steps on digits that took 1.3 s), a large per-call overhead on
short `fit` calls. Batches are prefetched two ahead. A `tf.data.Dataset`
handed to `fit` is read the same way unless its options ask for autotuning
(`untuned_unless_asked`).
"""

import math

import numpy as np
import tensorflow as tf

MAX_IN_GRAPH_BYTES = 1 << 28  # larger arrays keep Keras' own pipeline (it shuffles indices, not copies)
KERAS_DEFAULT_BATCH_SIZE = 32
PREFETCH_BATCHES = 2


def fits_in_graph(*arrays):
    """Whether `arrays` (None allowed) are NumPy arrays small enough to batch in a `tf.data` pipeline."""
    present = [a for a in arrays if a is not None]
    return all(isinstance(a, np.ndarray) for a in present) and sum(a.nbytes for a in present) <= MAX_IN_GRAPH_BYTES


def array_batches(x, y=None, batch_size=None, shuffle=True):
    """Batches of `x: [N, ...]` (and `y: [N, ...]`, as `(x, y)` pairs), `batch_size` each (32 when None).

    Returns a `tf.data.Dataset` of `[batch, ...]` tensors, one epoch of
    `ceil(N / batch_size)` batches. With `shuffle` every batch is full (all of
    `x` when `N < batch_size`) and each iteration reshuffles; without, one
    pass in order.
    """
    batch_size = KERAS_DEFAULT_BATCH_SIZE if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size}")
    dataset = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    steps_per_epoch = math.ceil(len(x) / batch_size)
    if not shuffle:
        return untuned(dataset.batch(batch_size).prefetch(PREFETCH_BATCHES))
    dataset = dataset.shuffle(len(x), reshuffle_each_iteration=True).repeat()
    batch_size = min(batch_size, len(x))  # fewer examples than a batch: every batch is all of them
    # endless before `take`, so nothing is dropped; the batch dimension becomes static
    batches = dataset.batch(batch_size, drop_remainder=True).take(steps_per_epoch)
    return untuned(batches.prefetch(PREFETCH_BATCHES))


def untuned(dataset):
    """`dataset` with tf.data's autotuning off (see the module docstring)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def untuned_unless_asked(dataset):
    """A `tf.data.Dataset` given to `fit` (or as its validation data), read without tf.data's
    autotuning unless its options ask for it (`options.autotune.enabled = True`).

    The autotuner's thread delays the end of every `fit` (and validation) that reads the
    dataset, as for arrays (module docstring); measured on digits Glow, 50-step fits on
    `digits(batch_size=64).repeat()`: between 0.09 and 4.6 s spent outside the train steps
    per `fit` with it, 0.09 to 0.15 s without. Without the tuner, `map(...,
    num_parallel_calls=AUTOTUNE)` runs on as many threads as tf.data's thread pool has and
    `prefetch(AUTOTUNE)` keeps its own buffer adjustment. Anything else passes through."""
    if not isinstance(dataset, tf.data.Dataset) or dataset.options().autotune.enabled is not None:
        return dataset
    return untuned(dataset)


def fit_arguments_as_batches(x: object, y: object, kwargs: dict, distributed: bool) -> tuple[object, object, dict]:
    """`fit`'s `(x, y, kwargs)` with in-memory arrays (and validation arrays) as `array_batches`,
    where Keras' own handling is not needed: `validation_split`, `steps_per_epoch`,
    `shuffle="batch"`, a distribution strategy (`distributed`) and large arrays keep it. Datasets
    (and validation datasets) are read without autotuning unless they ask for it
    (`untuned_unless_asked`)."""
    x = untuned_unless_asked(x)
    if isinstance(kwargs.get("validation_data"), tf.data.Dataset):
        kwargs = {**kwargs, "validation_data": untuned_unless_asked(kwargs["validation_data"])}
    if (
        kwargs.get("validation_split") or kwargs.get("steps_per_epoch") is not None
        or kwargs.get("shuffle", True) not in (True, False)
        or distributed
        or not fits_in_graph(x, y)
    ):
        return x, y, kwargs
    kwargs = dict(kwargs)
    batch_size = kwargs.pop("batch_size", None)
    x = array_batches(x, y, batch_size, kwargs.pop("shuffle", True))
    kwargs["shuffle"] = False  # the batches shuffle themselves
    validation = kwargs.get("validation_data")
    if isinstance(validation, tuple) and len(validation) <= 2 and fits_in_graph(*validation):
        validation_batch_size = kwargs.pop("validation_batch_size", None) or batch_size
        kwargs["validation_data"] = array_batches(*validation, batch_size=validation_batch_size, shuffle=False)
    return x, None, kwargs
