"""`MADE`: the masked autoencoder for distribution estimation (Germain et al., 2015).

A feed-forward network over `x: [batch, D]` whose weight matrices are
multiplied by fixed binary masks so that output `i` depends only on inputs
`x_1 .. x_{i-1}` (the natural order `0 .. D-1`). One pass therefore gives the
parameters of every conditional `p(x_i | x_<i)` at once; that is what makes a
masked autoregressive flow's density (MAF) or sampling (IAF) parallel.

Masks come from *degrees*: input `i` has degree `i + 1`; hidden unit `k`
gets degree `1 + k mod (D - 1)` (cycling through `1 .. D - 1`, so every
degree is present whenever a layer is at least `D - 1` wide); a hidden unit
sees inputs of degree `<=` its own, and output `i` sees hidden units of
degree `< i + 1`. Output 0 sees nothing and is a learned constant.

A conditional MADE (`context_size=k`) also reads a context `[batch, k]`
through unmasked weights into every hidden unit and every output: the context
has degree 0, so every conditional `p(x_i | x_<i, context)` sees all of it
(output 0 included) and the autoregressive property in `x` is kept.
"""

from __future__ import annotations

from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfnf.nets.hashed_dropout import HashedDropout


def made_masks(num_inputs, hidden_units, num_params):
    """The binary masks of a MADE, a list of `[fan_in, fan_out]` float arrays.

    `num_inputs` is `D`; the output layer has `D * num_params` units, unit
    `i * num_params + p` being parameter `p` of element `i`.
    """
    input_degrees = np.arange(1, num_inputs + 1)
    degrees = [input_degrees]
    for units in hidden_units:
        degrees.append(1 + np.arange(units) % max(num_inputs - 1, 1))
    masks = [(d_out[None, :] >= d_in[:, None]).astype("float32") for d_in, d_out in zip(degrees[:-1], degrees[1:])]
    output_degrees = np.repeat(input_degrees, num_params)
    masks.append((output_degrees[None, :] > degrees[-1][:, None]).astype("float32"))
    return masks


def check_context_given(layer, context):
    """Raise `ValueError` unless `context` is given exactly when `layer.context_size` is set."""
    if (context is None) != (layer.context_size is None):
        raise ValueError(
            f"this {type(layer).__name__} reads context_size={layer.context_size}, but it was called "
            f"{'without' if context is None else 'with'} a context"
        )


def masked_dense(h, kernel, bias, mask, context_kernel=None, context=None):
    """One masked dense layer: `h @ (kernel * mask) + bias`, plus `context @ context_kernel` when a
    context `[batch, k]` is given (read through unmasked weights). `h: [batch, fan_in]` -> `[batch, fan_out]`."""
    out = tf.matmul(h, kernel * tf.constant(mask, dtype=kernel.dtype)) + bias
    if context is not None:
        out = out + tf.matmul(tf.cast(context, out.dtype), context_kernel)
    return out


@keras.saving.register_keras_serializable(package="tfnf")
class MADE(keras.layers.Layer):
    """Masked MLP: `x: [batch, D] -> params: [batch, D, num_params]`, autoregressive in `x`.

    `params[:, i]` depends only on `x[:, :i]`. Kernels and biases are Keras
    weights (the masks are constants, not weights); the output layer is
    zero-initialised, so a new masked autoregressive flow is the identity.

    Args:
      num_inputs: `D`, the size of the vector.
      num_params: parameters emitted per element (the transformer's `num_params`).
      hidden_units: widths of the hidden layers (each at least `D - 1` wide for
        every conditional to see all of its inputs).
      activation: Keras activation of the hidden layers.
      dropout: dropout rate after each hidden layer (training only).
      context_size: None, or the width `k` of a context `[batch, k]` that
        `call(x, context=...)` reads through unmasked weights into every hidden
        unit and output (the output's are zero-initialised, as its kernel).
    """

    def __init__(
        self, num_inputs: int, num_params: int, hidden_units: Sequence[int] = (64, 64),
        activation: str | Callable = "relu", dropout: float = 0.0, context_size: int | None = None, **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.num_inputs = int(num_inputs)
        self.num_params = int(num_params)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        if self.num_inputs < 1 or self.num_params < 1 or any(u < 1 for u in self.hidden_units):
            raise ValueError(
                f"num_inputs, num_params and hidden_units must be positive, got "
                f"num_inputs={num_inputs!r}, num_params={num_params!r}, hidden_units={hidden_units!r}"
            )
        if context_size is not None and (isinstance(context_size, bool) or int(context_size) != context_size or context_size < 1):
            raise ValueError(f"context_size must be a positive integer or None, got {context_size!r}")
        self.context_size = None if context_size is None else int(context_size)
        self.activation_name = activation
        self.activation = keras.activations.get(activation)
        self.dropout = float(dropout)
        self.dropout_layer = HashedDropout(self.dropout, dtype=self.dtype_policy) if self.dropout else None
        self._masks = made_masks(self.num_inputs, self.hidden_units, self.num_params)
        self.kernels, self.biases = [], []
        widths = [self.num_inputs, *self.hidden_units, self.num_inputs * self.num_params]
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            last = i == len(widths) - 2
            name = "output" if last else f"hidden_{i}"
            self.kernels.append(
                self.add_weight(
                    shape=(fan_in, fan_out),
                    initializer="zeros" if last else "glorot_uniform",
                    name=f"{name}_kernel",
                )
            )
            self.biases.append(self.add_weight(shape=(fan_out,), initializer="zeros", name=f"{name}_bias"))
        self.context_kernels = []
        if self.context_size is not None:
            for i, fan_out in enumerate(widths[1:]):
                last = i == len(widths) - 2
                self.context_kernels.append(
                    self.add_weight(
                        shape=(self.context_size, fan_out),
                        initializer="zeros" if last else "glorot_uniform",
                        name=f"{'output' if last else f'hidden_{i}'}_context_kernel",
                    )
                )
        self.built = True

    def call(self, x, context=None, training=None):
        """`x: [batch, D]` (and `context: [batch, k]` when conditional) -> `[batch, D, num_params]`."""
        check_context_given(self, context)
        h = x
        last = len(self.kernels) - 1
        for i, (kernel, bias, mask) in enumerate(zip(self.kernels, self.biases, self._masks)):
            h = masked_dense(h, kernel, bias, mask, self.context_kernels[i] if context is not None else None, context)
            if i < last:
                h = self.activation(h)
                if self.dropout_layer is not None:
                    h = self.dropout_layer(h, training=training)
        return tf.reshape(h, [-1, self.num_inputs, self.num_params])

    def get_config(self):
        config = super().get_config()
        config.update(
            num_inputs=self.num_inputs,
            num_params=self.num_params,
            hidden_units=self.hidden_units,
            activation=self.activation_name,
            dropout=self.dropout,
            context_size=self.context_size,
        )
        return config
