"""`Invertible1x1Conv`: Glow's learned channel mixing, LU-parameterised or plain."""

from __future__ import annotations

import math
from typing import Sequence

import keras
import numpy as np
import scipy.linalg
import tensorflow as tf

from tfnf.bijectors.flow_bijector import FlowBijector, check_event_shape
from tfnf.nets.channel_matmul import channel_matmul

# In LU form the diagonal of U is `sign * |s|`, with `log|s|` softly floored at `log(MIN_ABS_S)`
# (`floored_log_abs_s`): W stays invertible whatever the optimiser does to its raw parameter.
MIN_ABS_S = 1e-3
_LOG_MIN_ABS_S = math.log(MIN_ABS_S)


def floored_log_abs_s(raw):
    """`log|s|` from its raw parameter: `log(MIN_ABS_S) + softplus(raw - log(MIN_ABS_S))`.

    A smooth floor: about `raw` when `raw` is well above `log(MIN_ABS_S)`, never below it.
    """
    return _LOG_MIN_ABS_S + tf.math.softplus(raw - _LOG_MIN_ABS_S)


def raw_log_abs_s(log_abs_s):
    """Inverse of `floored_log_abs_s` (NumPy), for values above `log(MIN_ABS_S)`."""
    gap = np.maximum(np.asarray(log_abs_s, np.float64) - _LOG_MIN_ABS_S, 1e-6)
    return _LOG_MIN_ABS_S + np.log(np.expm1(gap))


def random_rotation(num_channels, seed=None):
    """A random `[C, C]` orthogonal matrix with determinant +1 (float64 NumPy)."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((num_channels, num_channels)))
    q = q * np.sign(np.diag(r))[None, :]
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


@keras.saving.register_keras_serializable(package="tfnf")
class Invertible1x1ConvParameters(keras.layers.Layer):
    """The weights of one `Invertible1x1Conv` over `C` channels.

    LU form (`lu_decomposed=True`): `W = P @ L @ (U + diag(sign * |s|))` with a
    fixed permutation `P` and fixed signs (non-trainable) and one trainable
    `lower_upper: [C, C]` that packs the strictly-lower `L` (unit diagonal
    implied), the strictly-upper `U` and, on its diagonal, the raw parameter of
    `log|s| = floored_log_abs_s(diag)`, which keeps `|s| >= MIN_ABS_S`. One
    variable rather than three: the optimiser's update costs per variable.
    Plain form: one trainable `W: [C, C]`. Both start from a random rotation.
    """

    def __init__(self, num_channels, lu_decomposed=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.num_channels = int(num_channels)
        self.lu_decomposed = bool(lu_decomposed)
        self.seed = seed
        c = self.num_channels
        w0 = random_rotation(c, seed)

        def constant(value):
            return lambda shape, dtype=None: tf.constant(value, dtype=dtype)

        if self.lu_decomposed:
            p, lower, upper = scipy.linalg.lu(w0)
            s = np.diag(upper)
            self.permutation = self.add_weight(
                shape=(c, c), initializer=constant(p), trainable=False, name="permutation"
            )
            self.sign_s = self.add_weight(
                shape=(c,), initializer=constant(np.sign(s)), trainable=False, name="sign_s"
            )
            packed = np.tril(lower, -1) + np.triu(upper, 1) + np.diag(raw_log_abs_s(np.log(np.abs(s))))
            self.lower_upper = self.add_weight(shape=(c, c), initializer=constant(packed), name="lower_upper")
        else:
            self.kernel = self.add_weight(shape=(c, c), initializer=constant(w0), name="kernel")
        self.built = True

    def call(self, x):
        return x

    def get_config(self):
        config = super().get_config()
        config.update(num_channels=self.num_channels, lu_decomposed=self.lu_decomposed, seed=self.seed)
        return config


class Invertible1x1Conv(FlowBijector):
    """Invertible 1x1 convolution: every pixel's channel vector is multiplied by `W`.

    Data -> latent (`inverse`): `z[..., :] = y[..., :] @ W`, latent -> data
    (`forward`): `y = z @ W^-1`, on `[batch, H, W, C]` images (or `[batch, D]`
    vectors, where it is a learned linear map). `log|det J_inverse| =
    H * W * log|det W|`, which in LU form is `H * W * sum(log|s|)`; there `|s|`
    is floored at `MIN_ABS_S`, so `W` cannot become singular in training.

    Args:
      event_shape: `(H, W, C)` or `(D,)`.
      lu_decomposed: LU parameterisation (default) or a plain `W`.
      seed: seed of the random-rotation initialisation (None: random).
      dtype: floating dtype.
      name: bijector name.
    """

    def __init__(
        self, event_shape: Sequence[int], lu_decomposed: bool = True, seed: int | None = None,
        dtype: tf.DType | str = tf.float32, name: str = "invertible_1x1_conv",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape)
        dtype = tf.as_dtype(dtype)
        self._params = Invertible1x1ConvParameters(
            event_shape[-1], lu_decomposed=lu_decomposed, seed=seed, dtype=dtype.name, name=name
        )
        self._spatial_size = math.prod(event_shape[:-1])
        super().__init__(event_shape, dtype, parameters=parameters, name=name)

    @property
    def keras_layers(self):
        return [self._params]

    def _log_abs_s(self):
        """`log|s|: [C]`, floored, from the diagonal of the packed LU parameter."""
        return floored_log_abs_s(tf.linalg.diag_part(self._params.lower_upper))

    def _lu_factors(self):
        p = self._params
        packed = tf.convert_to_tensor(p.lower_upper)
        ones = tf.ones([p.num_channels], dtype=self.dtype)
        lower = tf.linalg.set_diag(tf.linalg.band_part(packed, -1, 0), ones)
        upper = tf.linalg.set_diag(tf.linalg.band_part(packed, 0, -1), p.sign_s * tf.math.exp(self._log_abs_s()))
        return p.permutation, lower, upper

    def weight_matrix(self):
        """`W: [C, C]`, the data -> latent channel-mixing matrix."""
        if not self._params.lu_decomposed:
            return self._params.kernel
        permutation, lower, upper = self._lu_factors()
        return permutation @ lower @ upper

    def inverse_weight_matrix(self):
        """`W^-1: [C, C]`, computed from triangular solves in LU form."""
        if not self._params.lu_decomposed:
            return tf.linalg.inv(self._params.kernel)
        permutation, lower, upper = self._lu_factors()
        eye = tf.eye(self._params.num_channels, dtype=self.dtype)
        upper_inv = tf.linalg.triangular_solve(upper, eye, lower=False)
        lower_inv = tf.linalg.triangular_solve(lower, eye, lower=True)
        return upper_inv @ lower_inv @ tf.transpose(permutation)

    def _log_abs_det_w(self):
        if self._params.lu_decomposed:
            return tf.reduce_sum(self._log_abs_s())
        return tf.linalg.slogdet(self._params.kernel)[1]

    def _log_det(self, x, sign):
        batch_shape = tf.shape(x)[: x.shape.rank - len(self.event_shape_in)]
        return tf.fill(batch_shape, sign * self._spatial_size * self._log_abs_det_w())

    def _mix(self, x, matrix):
        return channel_matmul(x, matrix)

    def _forward_and_log_det(self, x):
        return self._mix(x, self.inverse_weight_matrix()), self._log_det(x, -1.0)

    def _inverse_and_log_det(self, y):
        return self._mix(y, self.weight_matrix()), self._log_det(y, 1.0)
