"""`DenseConditioner`: the MLP that reads a vector's conditioning half."""

from __future__ import annotations

from typing import Callable, Sequence

import keras

from tfnf.nets.conditioner import VectorConditioner


@keras.saving.register_keras_serializable(package="tfnf")
class DenseConditioner(VectorConditioner):
    """MLP conditioner for vector couplings.

    Maps `x_cond: [batch, d_cond]` to transformer parameters
    `[batch, *output_shape, num_params]`. Hidden layers use `activation`
    (optionally followed by dropout while training); the last layer is
    zero-initialised so a new coupling is the identity.

    With `fourier_frequencies` `(w_1, ..., w_m)` the first layer reads
    `[x, sin(w_1 x), cos(w_1 x), ..., sin(w_m x), cos(w_m x)]`,
    `[batch, d_cond * (2m + 1)]`, instead of `x` alone: fixed Fourier features,
    which let a small MLP of a low-dimensional input represent the sharp,
    many-peaked functions a multimodal density needs (an MLP fed raw
    coordinates learns high frequencies slowly).

    Args:
      output_shape: shape of the transformed part, e.g. `(d_trans,)`.
      num_params: parameters per transformed element.
      hidden_units: widths of the hidden layers.
      activation: Keras activation of the hidden layers.
      dropout: dropout rate after each hidden layer (training only).
      context_size: None, or the width `k` of a context `[batch, k]` (a one-hot
        label or any vector) that is concatenated to `x_cond` at the input.
      fourier_frequencies: angular frequencies of the Fourier features of
        `x_cond` (empty: none); the context is never encoded.
    """

    def __init__(
        self, output_shape: Sequence[int], num_params: int, hidden_units: Sequence[int] = (64, 64),
        activation: str | Callable = "relu", **head_arguments,
    ) -> None:
        super().__init__(output_shape, num_params, **head_arguments)  # dropout, context_size, fourier_frequencies
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.activation = activation
        self.hidden_layers = [
            keras.layers.Dense(units, activation=activation, dtype=self.dtype_policy, name=f"hidden_{i}")
            for i, units in enumerate(self.hidden_units)
        ]
        self.add_output_layer()

    def get_config(self):
        config = super().get_config()
        config.update(hidden_units=self.hidden_units, activation=self.activation)
        return config

