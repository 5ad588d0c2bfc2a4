"""`RationalQuadraticSplineTransformer`: the neural-spline coupling transformer.

Durkan et al. (2019), "Neural Spline Flows": each transformed element goes
through its own monotone rational-quadratic spline on `[-bound, bound]`, with
the identity outside that interval (linear tails, slope 1 at both ends, so
the map is continuously differentiable everywhere). The spline itself is
`tfp.bijectors.RationalQuadraticSpline`; this module only turns raw
conditioner outputs into valid bin widths, bin heights and knot slopes.

Same interface as the transformers of `tfnf.bijectors.transformers`:

    num_params = 3 * num_bins - 1        # widths, heights, interior slopes
    forward(x, params) -> (y, log_det)   # elementwise log|dy/dx|, shape of x
    inverse(y, params) -> (x, log_det)   # elementwise log|dx/dy|, shape of y
"""

from __future__ import annotations

import math

import tensorflow as tf
import tensorflow_probability as tfp

tfb = tfp.bijectors


class RationalQuadraticSplineTransformer:
    """Monotone rational-quadratic spline with `num_bins` bins on `[-bound, bound]`.

    Raw parameters `params: [*x.shape, 3 * num_bins - 1]` are read as
    `num_bins` bin-width logits, `num_bins` bin-height logits and
    `num_bins - 1` interior-knot slope pre-activations. Widths and heights are
    softmaxes scaled to fill `2 * bound` (each at least `min_bin_size`);
    slopes are `softplus(.)` shifted so a zero input gives slope 1 (each at
    least `min_slope`). All-zero parameters are therefore the identity map,
    which a zero-initialised conditioner gives a new flow.

    Args:
      num_bins: number of spline bins (>= 1).
      bound: half-width `B` of the spline's interval; identity outside `[-B, B]`.
      min_bin_size: smallest bin width and height.
      min_slope: smallest derivative at an interior knot.
    """

    def __init__(self, num_bins: int = 8, bound: float = 3.0, min_bin_size: float = 1e-3, min_slope: float = 1e-3) -> None:
        if int(num_bins) != num_bins or num_bins < 1:
            raise ValueError(f"num_bins must be an integer >= 1, got {num_bins!r}")
        if not bound > 0:
            raise ValueError(f"bound must be > 0, got {bound!r}")
        if not 0 < min_bin_size * num_bins < 2 * bound:
            raise ValueError(
                f"min_bin_size must be > 0 and num_bins * min_bin_size < 2 * bound, got min_bin_size={min_bin_size!r}"
            )
        if not 0 < min_slope < 1:
            raise ValueError(f"min_slope must be in (0, 1), got {min_slope!r}")
        self.num_bins = int(num_bins)
        self.bound = float(bound)
        self.min_bin_size = float(min_bin_size)
        self.min_slope = float(min_slope)
        # softplus(0 + offset) + min_slope == 1
        self._slope_offset = math.log(math.expm1(1.0 - self.min_slope))

    @property
    def num_params(self):
        """Raw parameters per element, `3 * num_bins - 1`."""
        return 3 * self.num_bins - 1

    def spline(self, params):
        """The `tfb.RationalQuadraticSpline` for raw `params: [..., 3 * num_bins - 1]` (batch shape `[...]`)."""
        k = self.num_bins
        scale = 2.0 * self.bound - k * self.min_bin_size
        widths = tf.math.softmax(params[..., :k], axis=-1) * scale + self.min_bin_size
        heights = tf.math.softmax(params[..., k : 2 * k], axis=-1) * scale + self.min_bin_size
        slopes = tf.math.softplus(params[..., 2 * k :] + self._slope_offset) + self.min_slope
        return tfb.RationalQuadraticSpline(widths, heights, slopes, range_min=-self.bound)

    def forward(self, x, params):
        """`(y, log|dy/dx|)`, both shaped as `x`, for `params: [*x.shape, 3 * num_bins - 1]`."""
        spline = self.spline(params)
        return spline.forward(x), spline.forward_log_det_jacobian(x, event_ndims=0)

    def inverse(self, y, params):
        """`(x, -log|dy/dx|)`, both shaped as `y`, for `params: [*y.shape, 3 * num_bins - 1]`."""
        spline = self.spline(params)
        x = spline.inverse(y)
        # -log|dy/dx| at the solution: the same expression as `forward`, so the
        # two directions' log-dets agree to rounding.
        return x, -spline.forward_log_det_jacobian(x, event_ndims=0)
