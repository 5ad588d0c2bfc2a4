"""What `FlowModel.sample` and `FlowModel.interpolate` accept, and what `sample` refuses to return.

Counts and seeds go through `tfnf.rules.integers` (no wrap modulo 2**32);
numbers may be Python numbers, NumPy scalars, 0-d arrays or eager 0-d
tensors. One call returns at most `MAX_SAMPLE_BYTES`; the SavedModel's
`sample` signature asserts the same cap (`max_samples`).
"""

import math

import numpy as np
import tensorflow as tf

from tfnf.rules.finite_weights import refuse_nonfinite_weights
from tfnf.rules.integers import check_integer, seed_pair
from tfnf.rules.temperature import check_temperature as check_one_temperature

MAX_SAMPLES = 2**31 - 1
MAX_SAMPLE_BYTES = 2**32  # what one `sample` call may return: 4 GiB
N = "n (the number of samples)"


def max_samples(event_shape, dtype):
    """The most samples `[n, *event_shape]` of `dtype` one call may return (at most `MAX_SAMPLES`)."""
    return min(MAX_SAMPLES, MAX_SAMPLE_BYTES // (math.prod(event_shape) * tf.as_dtype(dtype).size))


def as_number(value):
    """A NumPy scalar, 0-d array or eager 0-d tensor as a Python number; anything else as it is
    (a 1-D eager tensor becomes an array)."""
    if tf.is_tensor(value) and hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    return value.item() if isinstance(value, np.generic) else value


def check_count(n, event_shape, dtype):
    """`sample`'s `n` as an int in `[1, 2**31)` whose samples `[n, *event_shape]` fit in `MAX_SAMPLE_BYTES`."""
    n = check_integer(n, N)
    if n <= 0:
        raise ValueError(f"{N} must be positive, got {n}")
    if n > MAX_SAMPLES:
        raise ValueError(f"{N} must be at most {MAX_SAMPLES} (int32), got {n}")
    size = n * math.prod(event_shape) * tf.as_dtype(dtype).size
    if size > MAX_SAMPLE_BYTES:
        raise ValueError(
            f"{N} = {n} would return {size / 2**30:.1f} GiB, more than one call may "
            f"({MAX_SAMPLE_BYTES // 2**30} GiB); draw them in several calls with different seeds"
        )
    return n


def check_temperature(temperature, data_flow):
    """`temperature` as a float, or a list of floats, one per level of `data_flow` (a `DataFlow`),
    each checked by `tfnf.rules.temperature`."""
    temperature = as_number(temperature)
    rule = dict(gaussian_base=data_flow.gaussian_base, base=type(data_flow.base).__name__)
    if isinstance(temperature, (list, tuple)) or (isinstance(temperature, np.ndarray) and temperature.ndim == 1):
        if len(temperature) != data_flow.num_levels:
            raise ValueError(
                f"temperature as a sequence has one value per level: this flow has {data_flow.num_levels} "
                f"level(s), got {len(temperature)} values"
            )
        return [check_one_temperature(as_number(value), **rule) for value in temperature]
    return check_one_temperature(temperature, **rule)


def sample_seed(seed):
    """`sample`'s `seed` (an int in `[0, 2**32)`, a pair of int32, or None: random) as an int32 `[2]` tensor."""
    return tf.constant(seed_pair(np.random.randint(0, 2**31 - 1) if seed is None else as_number(seed)), tf.int32)


def check_steps(steps, batch, event_shape, dtype):
    """`interpolate`'s `steps`: an int >= 2 such that the path `[batch, steps, *event_shape]` fits in one call."""
    steps = check_integer(steps, "steps")
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps} (an integer number of points)")
    most = max_samples(event_shape, dtype) // batch
    if steps > most:
        raise ValueError(
            f"steps must be at most {most} for {batch} pair(s) (one call returns at most 4 GiB), got {steps}"
        )
    return steps


def refuse_nonfinite(samples, data_flow):
    """Raise `ValueError` when `samples` hold NaN or Inf, naming why: the model's broken parts
    (`DataFlow.nonfinite_parts`, as after a diverged training run), or else an overflow."""
    if bool(tf.reduce_all(tf.math.is_finite(samples))):
        return
    refuse_nonfinite_weights(data_flow.nonfinite_parts(), "sample: the samples hold NaN or Inf;")
    raise ValueError(
        "sample: the samples hold NaN or Inf although the weights are finite: decoding these latents "
        "overflowed the model's dtype; try a lower temperature"
    )
