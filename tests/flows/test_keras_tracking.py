"""A Keras 3 model holding a glow tracks and trains every parameter."""

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import tfnf
from tfnf.bijectors import ActNorm, Coupling, Invertible1x1Conv, collect_keras_layers


class HoldsAFlow(keras.Model):
    def __init__(self, flow):
        super().__init__()
        self.flow = flow
        self.flow_layers = collect_keras_layers(flow)

    def call(self, x):
        return -self.flow.log_prob(x)


def expected_parameter_count(flow, hidden):
    """Parameters of a glow counted from its bijectors' shapes, independently of Keras."""
    total = 0
    for module in flow.bijector.submodules:
        if isinstance(module, ActNorm):
            total += 2 * module.event_shape_in[-1]
        elif isinstance(module, Invertible1x1Conv):
            c = module.event_shape_in[-1]
            total += c * c  # L below, U above, raw log|s| on the diagonal of one matrix (P, signs fixed)
        elif isinstance(module, Coupling):
            c_in = module.conditioner.hidden_channels
            cond = module._mask.conditioner_input_shape[-1]
            out = module._mask.transformed_shape[-1] * module.transformer.num_params
            if c_in is None:
                total += 9 * cond * out + out
            else:
                total += 9 * cond * hidden + hidden + hidden * hidden + hidden + 9 * hidden * out + out
    return total


def test_every_glow_parameter_is_tracked_and_trained():
    flow = tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=2, hidden_channels=16, seed=0)
    model = HoldsAFlow(flow)
    count = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    assert count == expected_parameter_count(flow, 16) > 0
    names = {v.path for v in model.trainable_variables}
    assert not any("permutation" in n or "sign_s" in n or "initialized" in n for n in names)

    x = load_digits().images[:256, :, :, None].astype("float32")
    x = (x + np.random.default_rng(0).uniform(size=x.shape)) / 17.0 - 0.5
    tfnf.bijectors.initialize_actnorms(flow, x)
    optimizer = keras.optimizers.Adam(1e-2)
    before = [v.numpy().copy() for v in model.trainable_variables]
    for step in range(3):
        batch = tf.constant(x[64 * step : 64 * step + 64])
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model(batch))
        gradients = tape.gradient(loss, model.trainable_variables)
        assert all(g is not None for g in gradients)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    unchanged = [v.path for v, b in zip(model.trainable_variables, before) if np.array_equal(v.numpy(), b)]
    assert not unchanged
