"""`VectorField`: the MLP `f(t, x)` whose flow is a continuous normalizing flow over vectors,
and `TimeField`, what it shares with the image field (`ConvVectorField`)."""

from __future__ import annotations

from typing import Callable, Sequence

import keras
import tensorflow as tf

from tfnf.nets.conditioner import context_as_features


def time_column(x: tf.Tensor, t: tf.Tensor) -> tf.Tensor:
    """The time `t` (`[]`, one for the batch, or `[batch]`) as a column `[batch, 1]` beside `x: [batch, D]`."""
    return tf.zeros_like(x[..., :1]) + tf.reshape(tf.cast(t, x.dtype), [-1, 1])


class TimeField(keras.layers.Layer):
    """The base of the time-dependent fields `f(t, x) = dx/dt`: the state with the time
    joined (`join_time`), the context joined for a conditional field (`join_context`),
    hidden layers with `activation`, and a zero-initialised output layer, so a new field is
    zero and its flow starts as the identity. A subclass says how a layer is made
    (`make_layer`) and calls `add_layers` from its constructor.

    Args:
      activation: Keras activation of the hidden layers (smooth: `tanh`, `softplus`, `silu`;
        the ODE solver and the trace of `df/dx` need a smooth field).
      context_size: the width `k` of the context the field reads, or None.
    """

    join_time = staticmethod(time_column)
    join_context = staticmethod(context_as_features)

    def __init__(self, activation: str | Callable = "tanh", context_size: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.activation = activation
        self.context_size = None if context_size is None else int(context_size)

    def make_layer(self, width: int, name: str, activation=None, zero: bool = False) -> keras.layers.Layer:
        """A layer of `width` outputs (zero-initialised weights with `zero`)."""
        raise NotImplementedError

    def add_layers(self, hidden_widths: Sequence[int], output_width: int) -> None:
        """The hidden layers, then the zero-initialised output layer."""
        self.hidden_layers = [
            self.make_layer(width, f"hidden_{i}", self.activation) for i, width in enumerate(hidden_widths)
        ]
        self.output_layer = self.make_layer(output_width, "output", zero=True)

    def call(self, x, t, context=None):
        """`x: [batch, *state]`, `t: []` or `[batch]` (and `context: [batch, k]`) -> `dx/dt`, shaped as `x`."""
        h = tf.concat([x, self.join_time(x, t)], axis=-1)
        if self.context_size is not None:
            h = self.join_context(h, tf.cast(context, h.dtype))
        for layer in self.hidden_layers:
            h = layer(h)
        return self.output_layer(h)

    def get_config(self):
        config = super().get_config()
        config.update(activation=self.activation, context_size=self.context_size)
        return config


@keras.saving.register_keras_serializable(package="tfnf")
class VectorField(TimeField):
    """A time-dependent vector field `f(t, x) = dx/dt` over vectors `x: [batch, D]`.

    An MLP of `[x, t]` (`[batch, D + 1]`; `t` a scalar for the whole batch or
    one time per example `[batch]`), plus the context `[batch, k]` for a
    conditional field (`context_as_features`), with `activation` hidden layers
    of `hidden_units` and a zero-initialised output layer `[batch, D]` (see `TimeField`).

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
        super().__init__(activation, context_size, **kwargs)
        self.size = int(size)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.add_layers(self.hidden_units, self.size)

    def make_layer(self, width, name, activation=None, zero=False):
        zeros = dict(kernel_initializer="zeros", bias_initializer="zeros") if zero else {}
        return keras.layers.Dense(width, activation=activation, dtype=self.dtype_policy, name=name, **zeros)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, hidden_units=self.hidden_units)
        return config
