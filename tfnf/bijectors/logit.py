"""`Logit`: the logit preprocessing of RealNVP, with a boundary margin `alpha`."""

from __future__ import annotations

import math

import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors


class Logit(tfb.Bijector):
    """Elementwise map between the real line (latent side) and `[0, 1]` (data side).

    Inverse (data -> latent): `z = logit(alpha + (1 - 2 alpha) * x)`; forward
    (latent -> data): `x = (sigmoid(z) - alpha) / (1 - 2 alpha)`. The margin
    `alpha` keeps the logit finite at `x = 0` and `x = 1`. Works on any shape
    (`forward_min_event_ndims = 0`).

    Args:
      alpha: boundary margin in `[0, 0.5)` (RealNVP uses 0.05).
      validate_args: if True, `inverse` asserts that inputs lie in `[0, 1]`.
      name: bijector name.
    """

    def __init__(self, alpha: float = 0.05, validate_args: bool = False, name: str = "logit") -> None:
        parameters = dict(locals())
        if not 0.0 <= float(alpha) < 0.5:
            raise ValueError(f"alpha must be in [0, 0.5), got {alpha!r}")
        self._alpha = float(alpha)
        super().__init__(forward_min_event_ndims=0, validate_args=validate_args, parameters=parameters, name=name)

    @property
    def alpha(self):
        """The boundary margin in `[0, 0.5)`: the logit reads `alpha + (1 - 2 alpha) * x`."""
        return self._alpha

    def _forward(self, z):
        return (tf.math.sigmoid(z) - self._alpha) / (1.0 - 2.0 * self._alpha)

    def _inverse(self, x):
        if self.validate_args:
            x = tf.debugging.assert_greater_equal(x, tf.zeros([], x.dtype), message="Logit input below 0")
            x = tf.debugging.assert_less_equal(x, tf.ones([], x.dtype), message="Logit input above 1")
        p = self._alpha + (1.0 - 2.0 * self._alpha) * x
        return tf.math.log(p) - tf.math.log1p(-p)

    def _forward_log_det_jacobian(self, z):
        return tf.math.log_sigmoid(z) + tf.math.log_sigmoid(-z) - math.log1p(-2.0 * self._alpha)

    def _inverse_log_det_jacobian(self, x):
        p = self._alpha + (1.0 - 2.0 * self._alpha) * x
        return math.log1p(-2.0 * self._alpha) - tf.math.log(p) - tf.math.log1p(-p)
