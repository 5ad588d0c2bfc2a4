"""`Conditioner`: the base of the networks that emit a coupling's parameters, and its two kinds:
`VectorConditioner` (MLPs of a vector's conditioning half) and `ImageConditioner` (conv nets of
an image's conditioning part)."""

from __future__ import annotations

import math
from typing import Sequence

import keras
import tensorflow as tf

from tfnf.nets.fourier_features import fourier_features
from tfnf.nets.hashed_dropout import HashedDropout
from tfnf.nets.packed_conv2d import PackedConv2D


def context_as_features(x: tf.Tensor, context: tf.Tensor) -> tf.Tensor:
    """`[batch, d]` and `[batch, k]` -> `[batch, d + k]`: the context as extra input features (MLPs)."""
    return tf.concat([x, context], axis=-1)


def context_as_planes(x: tf.Tensor, context: tf.Tensor) -> tf.Tensor:
    """`[batch, H, W, C_in]` and `[batch, k]` -> `[batch, H, W, C_in + k]`: the context as `k` constant
    extra channels (conv nets)."""
    planes = tf.zeros_like(x[..., :1]) + context[:, None, None, :]  # keeps the static H, W and k
    return tf.concat([x, planes], axis=-1)


class Conditioner(keras.layers.Layer):
    """Hidden layers (each followed by dropout while training), then an output
    layer whose last axis is reshaped to `param_shape`.

    A subclass's constructor calls `super().__init__(num_params, dropout,
    context_size, **kwargs)`, sets `hidden_layers` (a list of layers), and
    ends with `add_head(output_layer, param_shape)`, which adds the dropout
    layer and the output layer after the hidden ones (so the variables keep
    that order); `param_shape` is the trailing shape of the emitted parameters,
    e.g. `(out_channels, num_params)`. A conditional network (`context_size`
    set) joins its context with `join_context(x, context)`
    (`context_as_features` or `context_as_planes`, or its own).

    Args:
      num_params: parameters per transformed element.
      dropout: dropout rate after hidden activations (training only).
      context_size: None, or the width `k` of a context `[batch, k]` the network also reads.
    """

    def __init__(self, num_params: int, dropout: float = 0.0, context_size: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_params = int(num_params)
        self.dropout = float(dropout)
        self.context_size = None if context_size is None else int(context_size)

    def add_head(self, output_layer: keras.layers.Layer, param_shape: Sequence[int]) -> None:
        """The dropout layer (if any) and `output_layer`, whose outputs are reshaped to `param_shape`."""
        self.dropout_layer = HashedDropout(self.dropout, dtype=self.dtype_policy) if self.dropout else None
        self.output_layer = output_layer
        self.param_shape = tuple(param_shape)

    def get_config(self):
        config = super().get_config()
        config.update(num_params=self.num_params, dropout=self.dropout, context_size=self.context_size)
        return config

    def check_context(self, context):
        """`context: [batch, k]` for a conditional network, None otherwise; raises `ValueError`."""
        if self.context_size is None:
            if context is not None:
                raise ValueError(f"{self.name} is unconditional but received a context")
            return None
        if context is None:
            raise ValueError(
                f"{self.name} is conditional (context_size={self.context_size}) but received no context; "
                "pass conditional_input=[batch, context_size]"
            )
        if context.shape.rank is not None and context.shape[-1] is not None and context.shape[-1] != self.context_size:
            raise ValueError(
                f"{self.name} expects a context of width {self.context_size}, got shape {context.shape.as_list()}"
            )
        return context

    def join_context(self, x, context):
        """The first layer's input: the features `x` with the context `[batch, k]` joined (each network's own way)."""
        raise NotImplementedError

    def encode(self, x):
        """Features of the conditioning part that the first layer reads (default: `x` itself)."""
        return x

    def first_input(self, x: tf.Tensor, context: tf.Tensor | None) -> tf.Tensor:
        """What the first layer reads: `encode(x)`, joined with the checked context if there is one."""
        context = self.check_context(context)
        x = self.encode(x)
        return x if context is None else self.join_context(x, tf.cast(context, x.dtype))

    def as_params(self, outputs: tf.Tensor) -> tf.Tensor:
        """The output layer's `[batch, ..., n]` -> `[batch, ..., *param_shape]`."""
        return tf.reshape(outputs, tf.concat([tf.shape(outputs)[:-1], list(self.param_shape)], axis=0))

    def call(self, x, context=None, training=None):
        """Parameters `[batch, *output_shape, num_params]` of `x: [batch, d_cond]`
        (and a context `[batch, k]` if the conditioner reads one)."""
        h = self.first_input(x, context)
        for layer in self.hidden_layers:
            h = layer(h)
            if self.dropout_layer is not None:
                h = self.dropout_layer(h, training=training)
        return self.as_params(self.output_layer(h))


class VectorConditioner(Conditioner):
    """A conditioner of a vector's conditioning half `[batch, d_cond]`: optional Fourier
    features of it, the context as extra features, and a zero-initialised dense output
    layer (`add_output_layer`, called last by the subclass), so a new coupling is the identity.

    Args:
      output_shape: shape of the transformed part, e.g. `(d_trans,)`.
      num_params, dropout, context_size: as `Conditioner`.
      fourier_frequencies: angular frequencies of Fourier features of `x_cond`
        (see `DenseConditioner`; empty: none).
    """

    join_context = staticmethod(context_as_features)

    def __init__(
        self, output_shape: Sequence[int], num_params: int, dropout: float = 0.0, context_size: int | None = None,
        fourier_frequencies: Sequence[float] = (), **kwargs,
    ) -> None:
        super().__init__(num_params, dropout, context_size, **kwargs)
        self.target_shape = tuple(int(d) for d in output_shape)
        self.fourier_frequencies = tuple(float(w) for w in fourier_frequencies or ())

    def add_output_layer(self) -> None:
        """The zero-initialised dense output layer, `[batch, prod(output_shape) * num_params]`."""
        output_layer = keras.layers.Dense(
            math.prod(self.target_shape) * self.num_params, kernel_initializer="zeros", bias_initializer="zeros",
            dtype=self.dtype_policy, name="output",
        )
        self.add_head(output_layer, (*self.target_shape, self.num_params))

    def get_config(self):
        config = super().get_config()
        config.update(output_shape=self.target_shape, fourier_frequencies=self.fourier_frequencies)
        return config

    def encode(self, x):
        """`[batch, d_cond]` -> `[batch, d_cond * (2m + 1)]` (`x` as is without frequencies)."""
        return fourier_features(x, self.fourier_frequencies)


class ImageConditioner(Conditioner):
    """A conditioner of an image's conditioning part `[batch, H, W, C_in]`: the context as
    constant extra channels, and a zero-initialised 3x3 output convolution
    (`add_output_layer`, called last by the subclass) emitting `[batch, H, W, out_channels, num_params]`.

    Args:
      out_channels: channels of the transformed part.
      num_params, dropout, context_size: as `Conditioner`.
    """

    join_context = staticmethod(context_as_planes)

    def __init__(
        self, out_channels: int, num_params: int, dropout: float = 0.0, context_size: int | None = None, **kwargs,
    ) -> None:
        super().__init__(num_params, dropout, context_size, **kwargs)
        self.out_channels = int(out_channels)

    def add_output_layer(self) -> None:
        """The zero-initialised `PackedConv2D` 3x3 output convolution."""
        output_layer = PackedConv2D(
            self.out_channels * self.num_params, 3, zero_initialized=True, dtype=self.dtype_policy, name="conv_out"
        )
        self.add_head(output_layer, (self.out_channels, self.num_params))

    def get_config(self):
        config = super().get_config()
        config.update(out_channels=self.out_channels)
        return config
