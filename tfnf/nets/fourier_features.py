"""`fourier_features`: sinusoidal features of a low-dimensional conditioning input."""

import tensorflow as tf


def fourier_features(x, frequencies):
    """`x: [batch, d]` -> `[batch, d * (2m + 1)]`: `[x, sin(w_1 x), cos(w_1 x), ..., cos(w_m x)]`
    for the `m` `frequencies` (`x` itself when there are none)."""
    if not frequencies:
        return x
    features = [x]
    for w in frequencies:
        angle = tf.cast(w, x.dtype) * x
        features += [tf.sin(angle), tf.cos(angle)]
    return tf.concat(features, axis=-1)
