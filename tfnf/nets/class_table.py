"""`ClassTable`: a learned mean and log-scale per class, the network of a class-conditional base."""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfnf")
class ClassTable(keras.layers.Layer):
    """Per-class mean and log-scale: `context: [batch, K]` (one-hot) -> `(loc, log_scale)`, each `[batch, D]`.

    Both tables are `[K, D]` Keras weights, zero-initialised (every class starts as `N(0, I)`).
    """

    def __init__(self, num_classes: int, size: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes, self.size = int(num_classes), int(size)
        self.loc = self.add_weight(shape=(self.num_classes, self.size), initializer="zeros", name="loc")
        self.log_scale = self.add_weight(shape=(self.num_classes, self.size), initializer="zeros", name="log_scale")
        self.built = True

    def call(self, context):
        """`(loc, log_scale)`, each `[batch, D]`, of one-hot labels `context: [batch, K]`."""
        context = tf.cast(context, self.loc.dtype)
        return tf.matmul(context, self.loc), tf.matmul(context, self.log_scale)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, size=self.size)
        return config
