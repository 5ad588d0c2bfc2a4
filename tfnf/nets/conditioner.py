"""`Conditioner`: the base of the networks that emit a coupling's parameters."""

import keras
import tensorflow as tf


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

    Subclasses set `hidden_layers` (a list of layers), `dropout_layer` (or
    None), `output_layer`, `param_shape` (the trailing shape of the emitted
    parameters, e.g. `(out_channels, num_params)`) and `context_size` (None, or
    the width `k` of a context vector the network also reads) in their
    constructor, and set `join_context(x, context)` when `context_size` is set
    (`context_as_features` or `context_as_planes`, or their own).
    """

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

    def call(self, x, context=None, training=None):
        """Parameters `[batch, *output_shape, num_params]` of `x: [batch, d_cond]`
        (and a context `[batch, k]` if the conditioner reads one)."""
        context = self.check_context(context)
        x = self.encode(x)
        h = x if context is None else self.join_context(x, tf.cast(context, x.dtype))
        for layer in self.hidden_layers:
            h = layer(h)
            if self.dropout_layer is not None:
                h = self.dropout_layer(h, training=training)
        params = self.output_layer(h)
        return tf.reshape(params, tf.concat([tf.shape(params)[:-1], list(self.param_shape)], axis=0))
