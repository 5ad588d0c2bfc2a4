"""`flow_matching_train_step`: one optimizer step of a continuous flow by conditional flow matching.

Conditional flow matching (Lipman et al., 2022, "Flow Matching for Generative
Modeling") trains the field `f(t, x)` of a `ContinuousFlow` by regression,
without solving its ODE. Per example, with `T` the flow's `final_time`:

* `x1`: the data in the flow's working range (dequantised and mapped through
  the inverse of the data map, `DataFlow.to_working_range`: exactly what the
  flow's bijector produces at its data end);
* `x0`: a draw of the flow's own base (the latent end, `t = 0`);
* `t ~ U[0, T]`, `s = t / T`;
* the optimal-transport conditional path
  `x_s = (1 - (1 - SIGMA_MIN) s) x0 + s x1`, a straight line from `x0` to a
  Gaussian of width `SIGMA_MIN` around `x1`, whose velocity in `t` is the
  target `u = (x1 - (1 - SIGMA_MIN) x0) / T`;
* loss: the mean over examples and elements of `(f(t, x_s) - u)^2`.

Minimising it makes the flow of `f` carry the base onto the data (convolved
with `N(0, SIGMA_MIN^2)`), so its exact density (`log_prob`, `evaluate`)
becomes a model of the data. The loss is not a log-likelihood: training logs
it as `flow_matching_loss` (with `skipped_steps`), never as `loss` or
`bits_per_dim`, which stay the exact negative log-likelihood `evaluate` and
`validation_data` report. A step whose loss or gradient is not finite is not
applied (`GuardedUpdate`), as in maximum-likelihood training.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tfnf.flows.condition import encode_context
from tfnf.keras.guarded_update import guarded_step, step_logs

#: The width of the conditional path's end around each data point (Lipman et al. use a small
#: value, 1e-4 here): small enough to be negligible against any data scale, non-zero so the
#: conditional flows stay invertible.
SIGMA_MIN = 1e-4


def conditional_ot_path(x0: tf.Tensor, x1: tf.Tensor, s: tf.Tensor, sigma_min: float = SIGMA_MIN) -> tuple:
    """The optimal-transport conditional path at `s in [0, 1]`: `x0, x1: [batch, *event]`, `s: [batch]`
    -> (`x_s: [batch, *event]`, its velocity `dx_s/ds: [batch, *event]`)."""
    s = tf.reshape(tf.cast(s, x1.dtype), [-1] + [1] * (x1.shape.rank - 1))
    x_s = (1.0 - (1.0 - sigma_min) * s) * x0 + s * x1
    return x_s, x1 - (1.0 - sigma_min) * x0


def flow_matching_loss(model: Any, x: tf.Tensor, condition: tf.Tensor | None = None) -> tf.Tensor:
    """The conditional flow-matching loss `[]` of `model` (a `FlowModel` whose objective is
    flow matching) on a batch `x: [batch, *event_shape]` in data units (and its condition)."""
    data_flow = model.data_flow
    bijector = data_flow.flow.bijector
    dtype = data_flow.dtype
    noise = None
    if data_flow.num_bins is not None:
        noise = keras.random.uniform(tf.shape(x), dtype=dtype, seed=model.noise_seed)
    x1 = data_flow.to_working_range(x, noise)
    batch = tf.shape(x1)[0]
    base_seed = keras.random.randint([2], 0, 2**31 - 1, seed=model.noise_seed, dtype="int32")
    x0 = tf.cast(data_flow.base.sample(batch, seed=base_seed), dtype)
    final_time = bijector.final_time
    t = keras.random.uniform([batch], 0.0, final_time, dtype=dtype, seed=model.noise_seed)
    x_t, velocity = conditional_ot_path(x0, x1, t / final_time)
    context = None if condition is None else encode_context(data_flow.condition_spec, condition, dtype)
    predicted = tf.cast(bijector.velocity(x_t, t, conditional_input=context), dtype)
    return tf.reduce_mean(tf.square(predicted - velocity / final_time))


def flow_matching_train_step(model: Any, data: Any) -> dict[str, tf.Tensor]:
    """One guarded optimizer step of `model` (a compiled `FlowModel` trained by flow matching) on a
    batch `data` (`x: [batch, *event]`, or `(x, condition)`); returns `flow_matching_loss` and `skipped_steps`."""
    loss, finite = guarded_step(model, data, lambda x, condition: flow_matching_loss(model, x, condition))
    model.flow_matching_tracker.update_state(tf.where(finite, loss, 0.0), sample_weight=tf.cast(finite, loss.dtype))
    return step_logs({m.name: m.result() for m in (model.flow_matching_tracker, model.skipped_tracker)})
