"""The trace of `df/dx` a continuous flow integrates: exact, or Hutchinson's estimate with a fixed probe.

`tfb.FFJORD` takes a `trace_augmentation_fn(ode_fn, state_shape, dtype)` returning
`augmented(t, (x, log_det), **kwargs) -> (f(t, x), per-element trace terms)`;
the terms are summed over the event by the bijector. `trace_augmentation`
picks one by the number of dimensions `D` of an event:

* exact (`tfb.ffjord.trace_jacobian_exact`, the diagonal of `df/dx` by `D`
  derivative passes per evaluation of `f`) for `D <= EXACT_TRACE_MAX_DIMS`;
* Hutchinson's estimator above it (`hutchinson_trace`): one vector-Jacobian
  product per evaluation, `tr(A) ~ e^T A e` for a Rademacher probe `e`.

The Hutchinson probe is drawn once from a FIXED seed (`HUTCHINSON_SEED`) and
shared by every example, every time step and every solve: the log-density is
then a deterministic function of `x` (equal in memory, after a reload and in
an export), and over the probe's distribution it is an unbiased estimate of
the exact one (for a field with a diagonal Jacobian it is exact, as `e_i^2 = 1`).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import tensorflow as tf
import tensorflow_probability as tfp

#: Events of at most this many dimensions get the exact trace; larger ones Hutchinson's estimate.
#: At 32 the exact trace's 32 derivative passes per field evaluation already cost an order of
#: magnitude more than the field itself; 2-D toys and small vectors stay exact.
EXACT_TRACE_MAX_DIMS = 32
#: The stateless seed of the Hutchinson probe.
HUTCHINSON_SEED = (20190, 1810)
TRACES = ("auto", "exact", "hutchinson")


def rademacher_probe(event_shape: Sequence[int], dtype: tf.DType, seed: Sequence[int] = HUTCHINSON_SEED) -> tf.Tensor:
    """`[*event_shape]` independent signs `+-1` from the stateless `seed` (a pair of ints)."""
    uniform = tf.random.stateless_uniform(list(event_shape), seed=tf.constant(seed, tf.int32), dtype=tf.float32)
    return tf.cast(tf.where(uniform < 0.5, -1.0, 1.0), dtype)


def hutchinson_trace(seed: Sequence[int] = HUTCHINSON_SEED) -> Callable:
    """A `trace_augmentation_fn` for `tfb.FFJORD`: Hutchinson's estimate `e * (e^T df/dx)` per element
    (summed over the event: `e^T (df/dx) e`), `e` the Rademacher probe of `seed` shared by the batch."""

    def augmentation(ode_fn, state_shape, dtype):
        del state_shape  # the probe takes the static event shape of the state itself

        def augmented(time, state_and_log_det, **kwargs):
            state, _ = state_and_log_det
            probe = rademacher_probe(state.shape[1:], state.dtype, seed)
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(state)
                derivative = ode_fn(time, state, **kwargs)
            vjp = tape.gradient(derivative, state, output_gradients=tf.zeros_like(derivative) + probe)
            return derivative, probe * vjp

        return augmented

    return augmentation


def resolve_trace(trace: str, event_shape: Sequence[int]) -> str:
    """`"exact"` or `"hutchinson"`: `trace` itself, or for `"auto"` the choice by `EXACT_TRACE_MAX_DIMS`."""
    if trace not in TRACES:
        raise ValueError(f"trace must be one of {TRACES}, got {trace!r}")
    if trace != "auto":
        return trace
    return "exact" if math.prod(event_shape) <= EXACT_TRACE_MAX_DIMS else "hutchinson"


def trace_augmentation(trace: str) -> Callable:
    """The `trace_augmentation_fn` of a resolved `trace` (`"exact"` or `"hutchinson"`)."""
    return tfp.bijectors.ffjord.trace_jacobian_exact if trace == "exact" else hutchinson_trace()
