"""Brute-force Jacobians for log-det checks, by reverse-mode autodiff in one backward pass."""

import numpy as np
import tensorflow as tf


def batch_jacobian(fn, x):
    """`[batch, n, n]`: the Jacobian of `fn` at each example of `x`, `n` its number of values.

    Each example is repeated `n` times and copy `i` gives row `i` (output `i`'s gradient), so
    one forward and one backward pass replace the vectorised loop of
    `tf.GradientTape.batch_jacobian`, whose tracing costs seconds per call in eager mode. Like
    `batch_jacobian`, it needs `fn` to treat the examples of a batch independently. `fn` sees the
    copies one example after the other (`np.repeat(x, n, axis=0)`): a condition with one row per
    example must be repeated the same way.

    Args:
      fn: maps `[batch * n, *event]` to as many values per example, any shape.
      x: `[batch, *event]`.
    """
    batch, n = x.shape[0], int(np.prod(x.shape[1:]))
    copies = tf.repeat(x, n, axis=0)
    with tf.GradientTape() as tape:
        tape.watch(copies)
        out = tf.reshape(fn(copies), [batch * n, n])
        picked = tf.reduce_sum(out * tf.tile(tf.eye(n, dtype=out.dtype), [batch, 1]))
    return tf.reshape(tape.gradient(picked, copies), [batch, n, n])
