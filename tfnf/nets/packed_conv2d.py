"""`PackedConv2D`: a stride-1, "same"-padded convolution whose kernel and bias are one variable."""

from __future__ import annotations

from typing import Callable

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfnf")
class PackedConv2D(keras.layers.Layer):
    """`activation(conv2d(x, kernel, padding="same") + bias)`, with `kernel` and `bias` stored as
    the rows of one variable `kernel_and_bias: [k * k * C_in + 1, filters]`.

    The map is Keras' `Conv2D(filters, k, padding="same")`; only the storage
    differs. Every variable costs an optimizer a few small updates per step
    (Adam: three, plus its two slots), which on a CPU weigh as much as the
    arithmetic when a flow has many small layers: one variable per layer
    halves them. `kernel` (`[k, k, C_in, filters]`) and `bias` (`[filters]`)
    are read-only views of the packed variable.

    `x: [batch, H, W, C_in] -> [batch, H, W, filters]`.

    Args:
      filters: output channels.
      kernel_size: odd side `k` of the square kernel.
      activation: a Keras activation (name or callable), None for none.
      zero_initialized: start with kernel and bias zero (Glow's last conditioner
        layer, so a new flow is the identity); otherwise the kernel starts
        Glorot-uniform as in `Conv2D` and the bias at zero.
    """

    def __init__(
        self, filters: int, kernel_size: int, activation: str | Callable | None = None,
        zero_initialized: bool = False, **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = int(filters)
        if int(kernel_size) < 1 or int(kernel_size) % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd integer, got {kernel_size!r}")
        self.kernel_size = (int(kernel_size), int(kernel_size))
        self.activation = keras.activations.get(activation)
        self.zero_initialized = bool(zero_initialized)
        self.use_bias = True
        self.kernel_and_bias = None

    def build(self, input_shape):
        """Create the packed `[k * k * C_in + 1, filters]` kernel-and-bias for inputs `[batch, H, W, C_in]`."""
        channels_in = input_shape[-1]
        if channels_in is None:
            raise ValueError(f"{self.name} needs a known number of input channels, got input shape {input_shape}")
        k = self.kernel_size[0]
        self._kernel_shape = (k, k, int(channels_in), self.filters)

        def initializer(shape, dtype=None):
            if self.zero_initialized:
                return tf.zeros(shape, dtype)
            kernel = keras.initializers.GlorotUniform()(self._kernel_shape, dtype)
            return tf.concat([tf.reshape(kernel, [-1, self.filters]), tf.zeros([1, self.filters], dtype)], axis=0)

        self.kernel_and_bias = self.add_weight(
            shape=(k * k * int(channels_in) + 1, self.filters), initializer=initializer, name="kernel_and_bias"
        )
        self.built = True

    @property
    def kernel(self):
        """`[k, k, C_in, filters]`, a view of all rows but the last."""
        return self.kernel_with_bias()[0]

    @property
    def bias(self):
        """`[filters]`, the last row."""
        return self.kernel_with_bias()[1]

    def kernel_with_bias(self):
        """`(kernel [k, k, C_in, filters], bias [filters])` from one split of the variable (one op
        and one gradient, where a slice for each would be two of each)."""
        rows, bias = tf.split(self.kernel_and_bias, [self.kernel_and_bias.shape[0] - 1, 1], axis=0)
        return tf.reshape(rows, self._kernel_shape), tf.reshape(bias, [self.filters])

    def call(self, x):
        """`activation(conv2d(x) + bias)`: `x: [batch, H, W, C_in]` -> `[batch, H, W, filters]` ("same" padding)."""
        kernel, bias = self.kernel_with_bias()
        y = tf.nn.conv2d(x, tf.cast(kernel, x.dtype), strides=1, padding="SAME")
        return self.activation(tf.nn.bias_add(y, tf.cast(bias, x.dtype)))

    def compute_output_shape(self, input_shape):
        """`[batch, H, W, filters]` for inputs `[batch, H, W, C_in]`."""
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size[0],
            activation=keras.activations.serialize(self.activation),
            zero_initialized=self.zero_initialized,
        )
        return config
