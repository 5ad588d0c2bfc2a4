"""`ResidualDenseConditioner`: a residual MLP that reads a vector's conditioning half."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import keras
import tensorflow as tf

from tfnf.nets.conditioner import Conditioner, context_as_features
from tfnf.nets.fourier_features import fourier_features
from tfnf.nets.hashed_dropout import HashedDropout


@keras.saving.register_keras_serializable(package="tfnf")
class ResidualDenseConditioner(Conditioner):
    """Residual MLP conditioner for vector couplings.

    Maps `x_cond: [batch, d_cond]` to transformer parameters
    `[batch, *output_shape, num_params]`:

        h = Dense(hidden_size)(x_cond)
        h = h + Dense(activation(Dense(activation(h))))      (num_blocks times)
        params = Dense_zero(activation(h))

    The skip connections let a deep conditioner train as easily as a shallow
    one; the output layer is zero-initialised so a new coupling is the
    identity. Dropout (training only) follows the first activation of each
    block.

    Args:
      output_shape: shape of the transformed part, e.g. `(d_trans,)`.
      num_params: parameters per transformed element.
      hidden_size: width of every hidden layer (the residual stream).
      num_blocks: number of residual blocks (each two dense layers).
      activation: Keras activation inside the blocks.
      dropout: dropout rate inside each block (training only).
      context_size: None, or the width `k` of a context `[batch, k]`
        concatenated to `x_cond` at the input.
      fourier_frequencies: angular frequencies of Fourier features of `x_cond`
        read by the input layer (see `DenseConditioner`; empty: none).
    """

    def __init__(
        self,
        output_shape: Sequence[int],
        num_params: int,
        hidden_size: int = 64,
        num_blocks: int = 2,
        activation: str | Callable = "relu",
        dropout: float = 0.0,
        context_size: int | None = None,
        fourier_frequencies: Sequence[float] = (),
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in output_shape)
        self.num_params = int(num_params)
        self.hidden_size = int(hidden_size)
        self.num_blocks = int(num_blocks)
        if self.hidden_size < 1 or self.num_blocks < 0:
            raise ValueError(
                f"hidden_size must be >= 1 and num_blocks >= 0, got hidden_size={hidden_size!r}, num_blocks={num_blocks!r}"
            )
        self.activation = activation
        self.activation_fn = keras.activations.get(activation)
        self.dropout = float(dropout)
        self.context_size = None if context_size is None else int(context_size)
        self.fourier_frequencies = tuple(float(w) for w in fourier_frequencies or ())
        policy = self.dtype_policy
        self.input_layer = keras.layers.Dense(self.hidden_size, dtype=policy, name="input")
        self.block_inputs = [
            keras.layers.Dense(self.hidden_size, activation=activation, dtype=policy, name=f"block{i}_in")
            for i in range(self.num_blocks)
        ]
        self.block_outputs = [
            keras.layers.Dense(self.hidden_size, dtype=policy, name=f"block{i}_out") for i in range(self.num_blocks)
        ]
        self.hidden_layers = [self.input_layer, *self.block_inputs, *self.block_outputs]
        self.dropout_layer = HashedDropout(self.dropout, dtype=policy) if self.dropout else None
        self.output_layer = keras.layers.Dense(
            math.prod(self.target_shape) * self.num_params,
            kernel_initializer="zeros",
            bias_initializer="zeros",
            dtype=policy,
            name="output",
        )
        self.param_shape = (*self.target_shape, self.num_params)

    def get_config(self):
        config = super().get_config()
        config.update(
            output_shape=self.target_shape,
            num_params=self.num_params,
            hidden_size=self.hidden_size,
            num_blocks=self.num_blocks,
            activation=self.activation,
            dropout=self.dropout,
            context_size=self.context_size,
            fourier_frequencies=self.fourier_frequencies,
        )
        return config

    def encode(self, x):
        """`[batch, d_cond]` -> its Fourier features (`x` as is without frequencies)."""
        return fourier_features(x, self.fourier_frequencies)

    join_context = staticmethod(context_as_features)

    def call(self, x, context=None, training=None):
        """`x: [batch, d_cond]` (and `context: [batch, k]`) -> `[batch, *output_shape, num_params]`."""
        context = self.check_context(context)
        x = self.encode(x)
        h = x if context is None else self.join_context(x, tf.cast(context, x.dtype))
        h = self.input_layer(h)
        for inner, outer in zip(self.block_inputs, self.block_outputs):
            a = inner(self.activation_fn(h))
            if self.dropout_layer is not None:
                a = self.dropout_layer(a, training=training)
            h = h + outer(a)
        params = self.output_layer(self.activation_fn(h))
        return tf.reshape(params, tf.concat([tf.shape(params)[:-1], list(self.param_shape)], axis=0))
