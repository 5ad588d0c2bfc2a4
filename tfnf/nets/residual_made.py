"""`ResidualMADE`: a MADE whose hidden layers are residual blocks (Nash & Durkan's masked residual net).

All hidden units share one width `H` and one fixed degree assignment
(`1 + k mod (D - 1)`, as in `MADE`), so a masked dense layer from hidden to
hidden may keep a unit's degree (`>=` mask) and a skip connection
`h + block(h)` adds two quantities that see the same inputs: the
autoregressive property survives any number of blocks. Layout:

    x [batch, D] -> masked dense (D -> H)
      -> num_blocks x [ h + masked dense(act(masked dense(act(h)))) ]
      -> act -> masked dense (H -> D * num_params), zero-initialised

The second dense layer of every block is zero-initialised too, so each block
starts as the identity and the network as a whole starts at zero output (a
new flow is the identity). A context `[batch, k]` (degree 0) is read through
unmasked weights into the first hidden layer, every block and the output.
"""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from tfnf.nets.hashed_dropout import HashedDropout
from tfnf.nets.made import check_context_given, made_masks, masked_dense


@keras.saving.register_keras_serializable(package="tfnf")
class ResidualMADE(keras.layers.Layer):
    """Masked residual network: `x: [batch, D] -> params: [batch, D, num_params]`, autoregressive in `x`.

    `params[:, i]` depends only on `x[:, :i]`, as for `MADE`.

    Args:
      num_inputs: `D`, the size of the vector.
      num_params: parameters emitted per element.
      hidden_size: `H`, the width of every hidden layer (at least `D - 1` for
        every conditional to see all of its inputs).
      num_blocks: residual blocks (two masked dense layers each); 0 gives a
        one-hidden-layer MADE.
      activation: Keras activation.
      dropout: dropout rate inside each block (training only).
      context_size: None, or the width `k` of a context `[batch, k]` that
        `call(x, context=...)` reads.
    """

    def __init__(
        self, num_inputs: int, num_params: int, hidden_size: int = 64, num_blocks: int = 2,
        activation: str | Callable = "relu", dropout: float = 0.0, context_size: int | None = None, **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        values = dict(num_inputs=num_inputs, num_params=num_params, hidden_size=hidden_size)
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"ResidualMADE: {key} must be a positive integer, got {value!r}")
        if isinstance(num_blocks, bool) or not isinstance(num_blocks, (int, np.integer)) or num_blocks < 0:
            raise ValueError(f"ResidualMADE: num_blocks must be an integer >= 0, got {num_blocks!r}")
        if context_size is not None and (
            isinstance(context_size, bool) or not isinstance(context_size, (int, np.integer)) or context_size < 1
        ):
            raise ValueError(f"ResidualMADE: context_size must be a positive integer or None, got {context_size!r}")
        self.num_inputs, self.num_params = int(num_inputs), int(num_params)
        self.hidden_size, self.num_blocks = int(hidden_size), int(num_blocks)
        self.context_size = None if context_size is None else int(context_size)
        self.activation_name = activation
        self.activation = keras.activations.get(activation)
        self.dropout = float(dropout)
        self.dropout_layer = HashedDropout(self.dropout, dtype=self.dtype_policy) if self.dropout else None
        # MADE's masks for two hidden layers of width H: input -> hidden, hidden -> hidden (degrees
        # kept, so the skip connections stay autoregressive), hidden -> output
        self._input_mask, self._hidden_mask, self._output_mask = made_masks(
            self.num_inputs, (self.hidden_size, self.hidden_size), self.num_params
        )
        size, outputs = self.hidden_size, self.num_inputs * self.num_params
        # (name, fan_in, fan_out, zero-initialised): the kernels in the order `call` uses them
        layout = [("input", self.num_inputs, size, False)]
        for b in range(self.num_blocks):
            layout += [(f"block{b}_first", size, size, False), (f"block{b}_second", size, size, True)]
        layout.append(("output", size, outputs, True))
        self.kernels, self.biases, self.context_kernels = [], [], []
        for name, fan_in, fan_out, zero in layout:
            init = "zeros" if zero else "glorot_uniform"
            self.kernels.append(self.add_weight(shape=(fan_in, fan_out), initializer=init, name=f"{name}_kernel"))
            self.biases.append(self.add_weight(shape=(fan_out,), initializer="zeros", name=f"{name}_bias"))
            if self.context_size is not None:
                self.context_kernels.append(
                    self.add_weight(shape=(self.context_size, fan_out), initializer=init, name=f"{name}_context_kernel")
                )
        self.built = True

    def _dense(self, index, h, mask, context):
        context_kernel = self.context_kernels[index] if context is not None else None
        return masked_dense(h, self.kernels[index], self.biases[index], mask, context_kernel, context)

    def call(self, x, context=None, training=None):
        """`x: [batch, D]` (and `context: [batch, k]` when conditional) -> `[batch, D, num_params]`."""
        check_context_given(self, context)
        h = self._dense(0, x, self._input_mask, context)
        for b in range(self.num_blocks):
            first, second = 1 + 2 * b, 2 + 2 * b
            t = self._dense(first, self.activation(h), self._hidden_mask, context)
            t = self.activation(t)
            if self.dropout_layer is not None:
                t = self.dropout_layer(t, training=training)
            h = h + self._dense(second, t, self._hidden_mask, context)
        out = self._dense(len(self.kernels) - 1, self.activation(h), self._output_mask, context)
        return tf.reshape(out, [-1, self.num_inputs, self.num_params])

    def get_config(self):
        config = super().get_config()
        config.update(
            num_inputs=self.num_inputs,
            num_params=self.num_params,
            hidden_size=self.hidden_size,
            num_blocks=self.num_blocks,
            activation=self.activation_name,
            dropout=self.dropout,
            context_size=self.context_size,
        )
        return config
