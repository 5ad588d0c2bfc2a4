"""Coupling transformers: the elementwise invertible maps a coupling applies.

A transformer maps the transformed half `x2` elementwise given parameters that a
conditioner computed from the untouched half. Every transformer has the same
small interface, so a coupling can swap one for another:

    num_params: parameters per transformed element (the conditioner's last axis).
    forward(x, params) -> (y, log_det)   # elementwise log|dy/dx|, shape of x
    inverse(y, params) -> (x, log_det)   # elementwise log|dx/dy|, shape of y

`params` has shape `[*x.shape, num_params]`.
"""

from __future__ import annotations

import tensorflow as tf


class AffineTransformer:
    """`y = x * exp(log_scale) + shift` with a soft-bounded log-scale.

    The raw log-scale `r` is squashed as `bound * tanh(r / bound)`, so scales stay
    in `[exp(-bound), exp(bound)]` and a zero conditioner output is the identity.

    Args:
      scale_bound: positive float, the largest absolute log-scale.
    """

    num_params = 2

    def __init__(self, scale_bound: float = 2.0) -> None:
        if not scale_bound > 0:
            raise ValueError(f"scale_bound must be > 0, got {scale_bound!r}")
        self.scale_bound = float(scale_bound)

    def _shift_and_log_scale(self, params):
        shift, raw_log_scale = tf.unstack(params, axis=-1)  # (its gradient is a stack, cheaper than a slice's)
        log_scale = self.scale_bound * tf.math.tanh(raw_log_scale / self.scale_bound)
        return shift, log_scale

    def forward(self, x, params):
        """`(y, log_scale)`: `y = x * exp(log_scale) + shift`, both shaped as `x`, from `params: [*x.shape, 2]`."""
        shift, log_scale = self._shift_and_log_scale(params)
        return x * tf.math.exp(log_scale) + shift, log_scale

    def inverse(self, y, params):
        """`(x, -log_scale)`: `x = (y - shift) * exp(-log_scale)`, both shaped as `y`, from `params: [*y.shape, 2]`."""
        shift, log_scale = self._shift_and_log_scale(params)
        return (y - shift) * tf.math.exp(-log_scale), -log_scale


class AdditiveTransformer:
    """`y = x + shift` (NICE): volume preserving, log-det identically zero."""

    num_params = 1

    def forward(self, x, params):
        """`(x + shift, None)` with `shift = params[..., 0]`, `params: [*x.shape, 1]` (log-det: zero)."""
        return x + tf.squeeze(params, axis=-1), None

    def inverse(self, y, params):
        """`(y - shift, None)` with `shift = params[..., 0]`, `params: [*y.shape, 1]` (log-det: zero)."""
        return y - tf.squeeze(params, axis=-1), None
