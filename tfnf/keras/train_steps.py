"""`train_step` and `test_step`: one optimizer step of a `FlowModel`, and one evaluation batch.

`train_step` follows the model's objective: flow matching
(`flow_matching_train_step`) or maximum likelihood, whose loss, as that of
every `test_step`, is the mean negative dequantised log-likelihood (nats per example).
A training step whose loss or gradient is not finite is not applied
(`GuardedUpdate`) and is counted in `skipped_steps`; the loss and bits/dim
metrics average applied steps only (`AppliedStepsMean`).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from tfnf.keras.flow_matching_step import flow_matching_train_step
from tfnf.keras.guarded_update import guarded_step, step_logs


def train_step(model: Any, data: Any) -> dict[str, tf.Tensor]:
    """One guarded optimizer step of `model` (a compiled `FlowModel`) on a batch `data`
    (`x: [batch, *event]`, or `(x, condition)`); returns the logs of its metrics: by flow matching
    for a model whose `objective` is `"flow_matching"`, by maximum likelihood otherwise."""
    if model.objective == "flow_matching":
        return flow_matching_train_step(model, data)

    def negative_log_likelihood(x, condition):
        return -tf.reduce_mean(model(x, training=True, condition=condition))

    loss, finite = guarded_step(model, data, negative_log_likelihood)
    weight = tf.cast(finite, loss.dtype)
    model.loss_tracker.update_state(tf.where(finite, loss, 0.0), sample_weight=weight)
    bits_per_dim = model.data_flow.nats_to_bits_per_dim(loss)
    model.bits_per_dim_tracker.update_state(tf.where(finite, bits_per_dim, 0.0), sample_weight=weight)
    return step_logs({m.name: m.result() for m in model.metrics})


def test_step(model: Any, data: Any) -> dict[str, tf.Tensor]:
    """The dequantised objective of `model` (a `FlowModel`) on a batch `data`, dropout off;
    returns the logs of its loss and bits/dim."""
    x, condition = model.input_checks.step_data(data)
    log_prob = model.dequantized_objective(x, condition)  # outside Keras' training context: no dropout
    loss = -tf.reduce_mean(log_prob)
    batch = tf.cast(tf.shape(log_prob)[0], loss.dtype)
    model.loss_tracker.update_state(loss, sample_weight=batch)
    model.bits_per_dim_tracker.update_state(model.data_flow.nats_to_bits_per_dim(loss), sample_weight=batch)
    return step_logs({m.name: m.result() for m in (model.loss_tracker, model.bits_per_dim_tracker)})
