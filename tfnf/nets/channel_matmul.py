"""`channel_matmul`: a product over the last axis, shared by 1x1 convolutions and conv conditioners."""

import tensorflow as tf


def channel_matmul(x, matrix):
    """`x: [..., C] @ matrix: [C, D] -> [..., D]`, as one 2-D `tf.matmul` over all leading axes.

    The same product as `tf.einsum("...c,cd->...d")`, but as a plain matmul its
    gradients are plain matmuls too on every backend (the einsum's weight
    gradient is a slow reduction in TensorFlow's CPU kernels).
    """
    channels = x.shape[-1] if x.shape[-1] is not None else tf.shape(x)[-1]
    product = tf.matmul(tf.reshape(x, [-1, channels]), matrix)
    width = matrix.shape[-1]
    if x.shape.rank is not None and x.shape.rank >= 2 and width is not None:
        inner = x.shape[1:-1]
        if inner.is_fully_defined() and 0 not in inner:  # only the batch is unknown: a constant shape
            return tf.reshape(product, [-1, *inner, width])
    out_shape = tf.concat([tf.shape(x)[:-1], tf.shape(matrix)[-1:]], axis=0)
    result = tf.reshape(product, out_shape)
    if x.shape.rank is not None and matrix.shape[-1] is not None:
        result.set_shape(x.shape[:-1].concatenate(matrix.shape[-1:]))
    return result
