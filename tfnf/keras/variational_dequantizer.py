"""`VariationalDequantizer`: a learned noise distribution `q(u | x)` on `[0, 1)^D` (Flow++).

Uniform dequantisation trains a continuous density `p` on `x + u`,
`u ~ U[0, 1)^D`, which maximises a lower bound on the discrete log-likelihood
`log P(x) = log integral_{[0, 1)^D} p(x + u) du`. Variational dequantisation
(Ho et al. 2019) replaces the uniform noise by a conditional flow `q(u | x)`
trained jointly with `p`, and maximises the tighter bound

    log P(x) >= E_{u ~ q(. | x)} [log p(x + u) - log q(u | x)].

The flow here: logistic noise `eps`, a few affine couplings whose
conditioners read the masked `eps` and features of `x`, then a sigmoid:

    eps ~ Logistic(0, 1)^D  ->  y = couplings(eps; x)  ->  u = sigmoid(y)
    log q(u | x) = log Logistic(eps) - log|det d y / d eps| - log|det d u / d y|

Since the sigmoid of a standard logistic variable is uniform and the
couplings start as the identity (zero-initialised conditioner outputs), a new
dequantiser is exactly uniform dequantisation, `log q = 0`, so switching it on
never starts training from a worse bound.
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfnf.annotations import Shape
from tfnf.bijectors import AffineTransformer
from tfnf.nets import ConvConditioner, DenseConditioner
from tfnf.rules.integers import check_integer


def _alternating_mask(event_shape, parity, dtype):
    """0/1 pattern over `event_shape`: checkerboard over height and width (shared by the
    channels) for images `[H, W, C]`, alternating for vectors `[D]`. Elements where it
    is 1 condition the coupling; elements where it is 0 are transformed."""
    if len(event_shape) == 3:
        h, w, c = event_shape
        pattern = (np.add.outer(np.arange(h), np.arange(w)) + parity) % 2
        pattern = np.repeat(pattern[:, :, None], c, axis=2)
    else:
        pattern = (np.arange(event_shape[0]) + parity) % 2
    return tf.constant(pattern, dtype=dtype)


def _log_sigmoid_derivative(y):
    """`log sigmoid'(y) = log sigmoid(y) + log sigmoid(-y)`, elementwise and stable.

    It is also the log-density of the standard logistic distribution at `y`."""
    return -tf.math.softplus(-y) - tf.math.softplus(y)


@keras.saving.register_keras_serializable(package="tfnf")
class VariationalDequantizer(keras.layers.Layer):
    """Conditional flow `q(u | x)` over dequantisation noise `u` in `[0, 1)^D`.

    `x: [batch, *event_shape]` integer pixels in `[0, num_bins)` (float dtype)
    -> `u: [batch, *event_shape]`, `log_q: [batch]` (`log q(u | x)`, summed over
    the event). Events are vectors `[D]` (features of `x` from an MLP, dense
    coupling conditioners) or images `[H, W, C]` (a small conv net, conv
    conditioners with checkerboard masks).

    Args:
      event_shape: `(D,)` or `(H, W, C)`.
      num_bins: number of discrete levels of the data (scales the features' input).
      num_couplings: number of conditional affine couplings (masks alternate).
      hidden: width of every hidden layer (conv channels for images, units for vectors).
      scale_bound: largest absolute log-scale of a coupling.
      seed: seed of the noise `eps`.
    """

    def __init__(
        self, event_shape: Shape, num_bins: int, num_couplings: int = 4, hidden: int = 32, scale_bound: float = 2.0,
        seed: int | None = None, **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.target_event_shape = tuple(int(d) for d in event_shape)
        if len(self.target_event_shape) not in (1, 3) or any(d <= 0 for d in self.target_event_shape):
            raise ValueError(
                "variational dequantization needs data of shape [D] or [H, W, C], "
                f"got event_shape={self.target_event_shape}"
            )
        if num_bins is None or int(num_bins) != num_bins or num_bins < 2:
            raise ValueError(f"variational dequantization needs num_bins (an integer >= 2), got {num_bins!r}")
        num_couplings, hidden = check_integer(num_couplings, "num_couplings", 1), check_integer(hidden, "hidden", 1)
        self.num_bins = int(num_bins)
        self.num_couplings = int(num_couplings)
        self.hidden = int(hidden)
        self.transformer = AffineTransformer(scale_bound)
        self.scale_bound = self.transformer.scale_bound
        self.is_image = len(self.target_event_shape) == 3
        policy = self.dtype_policy
        if self.is_image:
            self.feature_layers = [
                keras.layers.Conv2D(self.hidden, 3, padding="same", activation="relu", dtype=policy, name=f"features_{i}")
                for i in range(2)
            ]
            self.conditioners = [
                ConvConditioner(self.target_event_shape[-1], 2, hidden_channels=self.hidden, dtype=policy, name=f"conditioner_{k}")
                for k in range(self.num_couplings)
            ]
        else:
            self.feature_layers = [
                keras.layers.Dense(self.hidden, activation="relu", dtype=policy, name=f"features_{i}") for i in range(2)
            ]
            self.conditioners = [
                DenseConditioner(self.target_event_shape, 2, hidden_units=(self.hidden, self.hidden), dtype=policy, name=f"conditioner_{k}")
                for k in range(self.num_couplings)
            ]
        dtype = tf.as_dtype(self.compute_dtype)
        self.masks = [_alternating_mask(self.target_event_shape, k % 2, dtype) for k in range(self.num_couplings)]
        self.seed_generator = keras.random.SeedGenerator(seed, name="variational_noise_seed")
        self.event_axes = list(range(-len(self.target_event_shape), 0))
        with tf.init_scope():
            zeros = tf.zeros([1, *self.target_event_shape], dtype)
            self.transform(zeros, zeros)
        self.built = True

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            event_shape=self.target_event_shape,
            num_bins=self.num_bins,
            num_couplings=self.num_couplings,
            hidden=self.hidden,
            scale_bound=self.scale_bound,
        )
        return config

    def features(self, x: tf.Tensor) -> tf.Tensor:
        """Features of `x: [batch, *event_shape]` that every coupling conditions on:
        `[batch, H, W, hidden]` for images, `[batch, hidden]` for vectors."""
        h = tf.cast(x, self.compute_dtype) * (2.0 / (self.num_bins - 1)) - 1.0
        for layer in self.feature_layers:
            h = layer(h)
        return h

    def transform(self, x: tf.Tensor, eps: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The deterministic map: logistic noise `eps: [batch, *event_shape]` -> `(u, log_q)`.

        `u: [batch, *event_shape]` in `[0, 1]`; `log_q: [batch]` is `log q(u | x)`.
        """
        eps = tf.cast(eps, self.compute_dtype)
        h = self.features(x)
        y = eps
        log_det = tf.zeros(tf.shape(eps)[:1], eps.dtype)
        for mask, conditioner in zip(self.masks, self.conditioners):
            params = conditioner(tf.concat([y * mask, h], axis=-1))
            y_transformed, log_scale = self.transformer.forward(y, params)
            y = mask * y + (1.0 - mask) * y_transformed
            log_det += tf.reduce_sum((1.0 - mask) * log_scale, axis=self.event_axes)
        log_det += tf.reduce_sum(_log_sigmoid_derivative(y), axis=self.event_axes)
        log_base = tf.reduce_sum(_log_sigmoid_derivative(eps), axis=self.event_axes)
        return tf.math.sigmoid(y), log_base - log_det

    def sample_noise(self, shape: tf.Tensor | Sequence[int]) -> tf.Tensor:
        """Standard logistic noise of `shape` (as `logit(v)`, `v ~ U` kept off 0 and 1)."""
        dtype = tf.as_dtype(self.compute_dtype)
        tiny = float(np.finfo(dtype.as_numpy_dtype).eps)
        v = keras.random.uniform(shape, minval=tiny, maxval=1.0 - tiny, dtype=dtype, seed=self.seed_generator)
        return tf.math.log(v) - tf.math.log1p(-v)

    def call(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Draw `u ~ q(. | x)` for `x: [batch, *event_shape]` -> `(u, log_q)`."""
        return self.transform(x, self.sample_noise(tf.shape(x)))
