"""`ResidualDenseConditioner`: a residual MLP that reads a vector's conditioning half."""

from __future__ import annotations

from typing import Callable, Sequence

import keras

from tfnf.nets.conditioner import VectorConditioner


@keras.saving.register_keras_serializable(package="tfnf")
class ResidualDenseConditioner(VectorConditioner):
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
        self, output_shape: Sequence[int], num_params: int, hidden_size: int = 64, num_blocks: int = 2,
        activation: str | Callable = "relu", **head_arguments,
    ) -> None:
        super().__init__(output_shape, num_params, **head_arguments)  # dropout, context_size, fourier_frequencies
        self.hidden_size = int(hidden_size)
        self.num_blocks = int(num_blocks)
        if self.hidden_size < 1 or self.num_blocks < 0:
            raise ValueError(
                f"hidden_size must be >= 1 and num_blocks >= 0, got hidden_size={hidden_size!r}, num_blocks={num_blocks!r}"
            )
        self.activation = activation
        self.activation_fn = keras.activations.get(activation)
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
        self.add_output_layer()

    def get_config(self):
        config = super().get_config()
        config.update(hidden_size=self.hidden_size, num_blocks=self.num_blocks, activation=self.activation)
        return config

    def call(self, x, context=None, training=None):
        """`x: [batch, d_cond]` (and `context: [batch, k]`) -> `[batch, *output_shape, num_params]`."""
        h = self.input_layer(self.first_input(x, context))
        for inner, outer in zip(self.block_inputs, self.block_outputs):
            a = inner(self.activation_fn(h))
            if self.dropout_layer is not None:
                a = self.dropout_layer(a, training=training)
            h = h + outer(a)
        return self.as_params(self.output_layer(self.activation_fn(h)))
