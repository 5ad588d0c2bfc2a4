"""Finding the Keras layers that hold a flow's parameters."""

import keras
import tensorflow as tf


def collect_keras_layers(flow):
    """Every Keras layer held by `flow` or by any module inside it, each once, in a fixed order.

    `flow` is a `tfd.TransformedDistribution`, a bijector, or any `tf.Module`;
    a layer counts when it is an attribute (or inside a list / tuple / dict
    attribute) of one of its modules: tfnf bijectors keep their parameters
    that way, and so may a user's own bijector. A Keras model that stores this
    list as an attribute tracks, trains and saves all of those weights.
    """
    layers, seen = [], set()
    for module in [flow, *flow.submodules]:
        for value in vars(module).values():
            for leaf in tf.nest.flatten(value, expand_composites=False):
                if isinstance(leaf, keras.layers.Layer) and id(leaf) not in seen:
                    seen.add(id(leaf))
                    layers.append(leaf)
    return layers
