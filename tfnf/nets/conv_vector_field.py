"""`ConvVectorField`: the convolutional `f(t, x)` whose flow is a continuous normalizing flow over images."""

from __future__ import annotations

from typing import Callable, Sequence

import keras
import tensorflow as tf

from tfnf.nets.conditioner import context_as_planes
from tfnf.nets.vector_field import TimeField


def time_plane(x: tf.Tensor, t: tf.Tensor) -> tf.Tensor:
    """The time `t` (`[]` or `[batch]`) as a constant channel `[batch, H, W, 1]` beside `x: [batch, H, W, C]`."""
    return tf.zeros_like(x[..., :1]) + tf.reshape(tf.cast(t, x.dtype), [-1, 1, 1, 1])


@keras.saving.register_keras_serializable(package="tfnf")
class ConvVectorField(TimeField):
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

    join_time = staticmethod(time_plane)
    join_context = staticmethod(context_as_planes)

    def __init__(
        self, channels: int, hidden_channels: Sequence[int] = (32, 32), activation: str | Callable = "tanh",
        context_size: int | None = None, **kwargs,
    ) -> None:
        super().__init__(activation, context_size, **kwargs)
        self.channels = int(channels)
        self.hidden_channels = tuple(int(c) for c in hidden_channels)
        self.add_layers(self.hidden_channels, self.channels)

    def make_layer(self, width, name, activation=None, zero=False):
        zeros = dict(kernel_initializer="zeros", bias_initializer="zeros") if zero else {}
        return keras.layers.Conv2D(
            width, 3, padding="same", activation=activation, dtype=self.dtype_policy, name=name, **zeros
        )

    def get_config(self):
        config = super().get_config()
        config.update(channels=self.channels, hidden_channels=self.hidden_channels)
        return config
