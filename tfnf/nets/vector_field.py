"""`VectorField`: the MLP `f(t, x)` whose flow is a continuous normalizing flow."""

from __future__ import annotations

from typing import Callable, Sequence

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfnf")
class VectorField(keras.layers.Layer):
    """A time-dependent vector field `f(t, x) = dx/dt` over vectors `x: [batch, D]`.

    An MLP of `[x, t]` (`[batch, D + 1]`, `t` broadcast over the batch) with
    `activation` hidden layers of `hidden_units` and a zero-initialised
    output layer `[batch, D]`: a new field is zero, so the flow it generates
    starts as the identity. Use a smooth activation (`tanh`, `softplus`): the
    ODE solver and the trace of `df/dx` need a smooth field.

    Args:
      size: `D`, the width of the state.
      hidden_units: widths of the hidden layers.
      activation: Keras activation of the hidden layers.
    """

    def __init__(
        self, size: int, hidden_units: Sequence[int] = (64, 64), activation: str | Callable = "tanh", **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.size = int(size)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        policy = self.dtype_policy
        self.hidden_layers = [
            keras.layers.Dense(units, activation=activation, dtype=policy, name=f"hidden_{i}")
            for i, units in enumerate(self.hidden_units)
        ]
        self.output_layer = keras.layers.Dense(
            self.size, kernel_initializer="zeros", bias_initializer="zeros", dtype=policy, name="output"
        )

    def call(self, x, t):
        """`x: [batch, D]`, `t: []` -> `dx/dt: [batch, D]`."""
        h = tf.concat([x, tf.ones_like(x[..., :1]) * tf.cast(t, x.dtype)], axis=-1)
        for layer in self.hidden_layers:
            h = layer(h)
        return self.output_layer(h)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, hidden_units=self.hidden_units, activation=self.activation)
        return config
