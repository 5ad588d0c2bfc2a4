"""`Conditioner`: the base of the networks that emit a coupling's parameters."""

import keras
import tensorflow as tf


class Conditioner(keras.layers.Layer):
    """Hidden layers (each followed by dropout while training), then an output
    layer whose last axis is reshaped to `param_shape`.

    Subclasses set `hidden_layers` (a list of layers), `dropout_layer` (or
    None), `output_layer` and `param_shape` (the trailing shape of the emitted
    parameters, e.g. `(out_channels, num_params)`) in their constructor.
    """

    def call(self, x, training=None):
        h = x
        for layer in self.hidden_layers:
            h = layer(h)
            if self.dropout_layer is not None:
                h = self.dropout_layer(h, training=training)
        params = self.output_layer(h)
        return tf.reshape(params, tf.concat([tf.shape(params)[:-1], list(self.param_shape)], axis=0))
