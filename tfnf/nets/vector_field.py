"""`VectorField`: the MLP `f(t, x)` whose flow is a continuous normalizing flow over vectors."""

from __future__ import annotations

from typing import Callable, Sequence

import keras
import tensorflow as tf

from tfnf.nets.conditioner import context_as_features


def time_column(x: tf.Tensor, t: tf.Tensor) -> tf.Tensor:
    """The time `t` (`[]`, one for the batch, or `[batch]`) as a column `[batch, 1]` beside `x: [batch, D]`."""
    return tf.zeros_like(x[..., :1]) + tf.reshape(tf.cast(t, x.dtype), [-1, 1])


@keras.saving.register_keras_serializable(package="tfnf")
class VectorField(keras.layers.Layer):
    """A time-dependent vector field `f(t, x) = dx/dt` over vectors `x: [batch, D]`.

    An MLP of `[x, t]` (`[batch, D + 1]`; `t` a scalar for the whole batch or
    one time per example `[batch]`), plus the context `[batch, k]` for a
    conditional field (`context_as_features`), with `activation` hidden layers
    of `hidden_units` and a zero-initialised output layer `[batch, D]`: a new
    field is zero, so the flow it generates starts as the identity. Use a
    smooth activation (`tanh`, `softplus`, `silu`): the ODE solver and the
    trace of `df/dx` need a smooth field.

    Args:
      size: `D`, the width of the state.
      hidden_units: widths of the hidden layers.
      activation: Keras activation of the hidden layers.
      context_size: the width `k` of the context the field reads, or None.
    """

    def __init__(
        self, size: int, hidden_units: Sequence[int] = (64, 64), activation: str | Callable = "tanh",
        context_size: int | None = None, **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.size = int(size)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        self.context_size = None if context_size is None else int(context_size)
        policy = self.dtype_policy
        self.hidden_layers = [
            keras.layers.Dense(units, activation=activation, dtype=policy, name=f"hidden_{i}")
            for i, units in enumerate(self.hidden_units)
        ]
        self.output_layer = keras.layers.Dense(
            self.size, kernel_initializer="zeros", bias_initializer="zeros", dtype=policy, name="output"
        )

    def call(self, x, t, context=None):
        """`x: [batch, D]`, `t: []` or `[batch]` (and `context: [batch, k]`) -> `dx/dt: [batch, D]`."""
        h = tf.concat([x, time_column(x, t)], axis=-1)
        if self.context_size is not None:
            h = context_as_features(h, tf.cast(context, h.dtype))
        for layer in self.hidden_layers:
            h = layer(h)
        return self.output_layer(h)

    def get_config(self):
        config = super().get_config()
        config.update(
            size=self.size, hidden_units=self.hidden_units, activation=self.activation, context_size=self.context_size
        )
        return config
