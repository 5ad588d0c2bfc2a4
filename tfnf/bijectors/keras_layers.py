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
    return attributes_of_type([flow, *flow.submodules], keras.layers.Layer)


def attributes_of_type(owners, kind):
    """The distinct objects of type `kind` that are attributes of `owners` (or inside a
    list / tuple / dict attribute), each once, in the order of `owners` and their attributes."""
    found, seen = [], set()
    for owner in owners:
        for value in vars(owner).values():
            for leaf in tf.nest.flatten(value, expand_composites=False):
                if isinstance(leaf, kind) and id(leaf) not in seen:
                    seen.add(id(leaf))
                    found.append(leaf)
    return found
