"""`NetworkBijector`: the base of the bijectors whose parameters one Keras network emits
(couplings, masked and patch autoregressive layers, Jet couplings)."""

from __future__ import annotations

from typing import Callable

import keras
import tensorflow as tf

from tfnf.bijectors.context_input import build_network_once, check_network_context, flat_context
from tfnf.bijectors.flow_bijector import FlowBijector


class NetworkBijector(FlowBijector):
    """A `FlowBijector` holding one network (a Keras layer, so Keras tracks its weights).

    The network is checked against the bijector's `context_size` and built
    once from `network_input_shape` (without the batch axis) at construction.

    Args:
      event_shape: the bijector's event shape.
      dtype: its floating dtype.
      network: the Keras layer that emits the parameters.
      context_size: None, or the width `k` of the context `[batch, k]` the network reads.
      network_input_shape: what the network reads per example.
      parameters: TFP's constructor parameters of the subclass.
      name: bijector name.
      network_role: how error messages call the network (`"conditioner"`, `"network"`).
    """

    def __init__(
        self, event_shape, dtype, network: keras.layers.Layer, context_size: int | None, network_input_shape,
        parameters: dict, name: str, network_role: str = "network",
    ) -> None:
        self._network = network
        self._context_size = check_network_context(network, context_size, network_role)
        build_network_once(network, network_input_shape, self._context_size, dtype)
        super().__init__(event_shape, dtype, parameters=parameters, name=name)

    @property
    def network(self) -> keras.layers.Layer:
        """The Keras layer that emits the bijector's parameters."""
        return self._network

    @property
    def keras_layers(self):
        return [self._network]

    @property
    def context_size(self):
        return self._context_size

    def checked_context(self, conditional_input, batch_shape, kind: str):
        """The context `[batch, k]` for a flattened batch of `batch_shape` (None when unconditional);
        errors name the bijector and its `kind`."""
        return flat_context(conditional_input, self._context_size, batch_shape, self.dtype, (self.name, kind))

    def run_network(self, inputs: tf.Tensor, context: tf.Tensor | None, training: bool | None = None) -> tf.Tensor:
        """The network's parameters for `inputs` (and `context`), in `inputs`' dtype (a
        mixed-precision network answers in 16 bits); `training` None leaves dropout to the
        Keras call the bijector runs in."""
        keywords = {} if context is None else {"context": context}
        if training is not None:  # else Keras' own call context decides (a model's `training=`)
            keywords["training"] = training
        return tf.cast(self._network(inputs, **keywords), inputs.dtype)


def autoregressive_passes(u: tf.Tensor, num_passes: int, one_pass: Callable) -> tuple[tf.Tensor, tf.Tensor]:
    """The sequential direction of an autoregressive map by repeated passes: starting from
    zeros, `out, log_det = one_pass(out)` `num_passes` times (a `tf.while_loop`, XLA-compatible);
    after pass `k` the first `k` positions are exact. `u`'s shape is the output's."""

    def step(i, out, log_det):
        out, log_det = one_pass(out)
        return i + 1, out, log_det

    _, out, log_det = tf.while_loop(
        lambda i, out, log_det: i < num_passes, step, (tf.constant(0), tf.zeros_like(u), tf.zeros_like(u)),
        maximum_iterations=num_passes,
    )
    return out, log_det
