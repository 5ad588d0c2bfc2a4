"""`draw_samples`: `FlowModel.sample` for concrete arguments: checks, the latent draw and the
decoding in chunks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from tfnf.keras.sampling_arguments import check_count, check_temperature, refuse_nonfinite, sample_seed

SAMPLE_CHUNK = 4096  # samples decoded per call by `FlowModel.sample`


def draw_samples(
    data_flow: Any, input_checks: Any, compiled: Callable, n: Any, temperature: Any = 1.0, seed: Any = None,
    condition: Any = None, chunk: int = SAMPLE_CHUNK,
) -> tf.Tensor:
    """`n` samples `[n, *event_shape]` of `data_flow` (a `DataFlow`) in data units.

    The arguments are checked as `FlowModel.sample` documents (the condition by
    `input_checks`, the model's `InputChecks`); samples holding NaN or Inf are a
    `ValueError`. `compiled(method, jit_compile=None, reduce_retracing=True)`
    gives the model's `tf.function` of a `DataFlow` method. The latent is drawn
    without XLA (in a graph: eager TFP costs milliseconds), so a seed gives the
    same samples whatever `jit_compile` is, and decoded `chunk` at a time, so a
    large `n` never holds every conditioner activation at once."""
    n = check_count(n, data_flow.event_shape, data_flow.dtype)
    temperature, seed = check_temperature(temperature, data_flow), sample_seed(seed)
    condition = input_checks.condition(condition, n)
    condition = None if condition is None else tf.constant(condition)
    # one trace per temperature shape (a number, or one per level)
    latent_sample = compiled(data_flow.latent_sample, jit_compile=False, reduce_retracing=False)
    z = latent_sample(tf.constant(n, tf.int32), tf.constant(temperature, data_flow.dtype), seed)
    decode = compiled(data_flow.decode)
    if n <= chunk:
        x = decode(z, condition)
    else:
        x = tf.concat([
            decode(z[i : i + chunk], None if condition is None else condition[i : i + chunk])
            for i in range(0, n, chunk)
        ], axis=0)
    refuse_nonfinite(x, data_flow)  # a diverged model's NaN samples are an error, as its save is
    return x
