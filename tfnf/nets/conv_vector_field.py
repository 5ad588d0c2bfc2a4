"""`ConvVectorField`: the convolutional `f(t, x)` whose flow is a continuous normalizing flow over images."""

from __future__ import annotations

from typing import Callable, Sequence

import keras
import tensorflow as tf

from tfnf.nets.conditioner import context_as_planes


def time_plane(x: tf.Tensor, t: tf.Tensor) -> tf.Tensor:
    """The time `t` (`[]` or `[batch]`) as a constant channel `[batch, H, W, 1]` beside `x: [batch, H, W, C]`."""
    return tf.zeros_like(x[..., :1]) + tf.reshape(tf.cast(t, x.dtype), [-1, 1, 1, 1])


@keras.saving.register_keras_serializable(package="tfnf")
class ConvVectorField(keras.layers.Layer):
    """A time-dependent vector field `f(t, x) = dx/dt` over images `x: [batch, H, W, C]`.

    `3 x 3` convolutions ("same" padding) of `[x, t]` (`[batch, H, W, C + 1]`:
    the time as one constant input plane; `t` a scalar or one time per example
    `[batch]`), plus the context `[batch, k]` as `k` constant planes for a
    conditional field (`context_as_planes`), with `activation` hidden layers
    of `hidden_channels` and a zero-initialised `3 x 3` output convolution to
    `C` channels: a new field is zero, so its flow starts as the identity.

    Args:
      channels: `C`, the channels of the state.
      hidden_channels: channels of the hidden convolutions.
      activation: Keras activation of the hidden layers (smooth: `tanh`, `softplus`, `silu`).
      context_size: the width `k` of the context the field reads, or None.
    """

    def __init__(
        self, channels: int, hidden_channels: Sequence[int] = (32, 32), activation: str | Callable = "tanh",
        context_size: int | None = None, **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.hidden_channels = tuple(int(c) for c in hidden_channels)
        self.activation = activation
        self.context_size = None if context_size is None else int(context_size)
        policy = self.dtype_policy
        self.hidden_layers = [
            keras.layers.Conv2D(width, 3, padding="same", activation=activation, dtype=policy, name=f"hidden_{i}")
            for i, width in enumerate(self.hidden_channels)
        ]
        self.output_layer = keras.layers.Conv2D(
            self.channels, 3, padding="same", kernel_initializer="zeros", bias_initializer="zeros", dtype=policy,
            name="output",
        )

    def call(self, x, t, context=None):
        """`x: [batch, H, W, C]`, `t: []` or `[batch]` (and `context: [batch, k]`) -> `dx/dt: [batch, H, W, C]`."""
        h = tf.concat([x, time_plane(x, t)], axis=-1)
        if self.context_size is not None:
            h = context_as_planes(h, tf.cast(context, h.dtype))
        for layer in self.hidden_layers:
            h = layer(h)
        return self.output_layer(h)

    def get_config(self):
        config = super().get_config()
        config.update(
            channels=self.channels, hidden_channels=self.hidden_channels, activation=self.activation,
            context_size=self.context_size,
        )
        return config
