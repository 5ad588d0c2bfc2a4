"""`RationalQuadraticSplineTransformer`: the neural-spline coupling transformer.

Durkan et al. (2019), "Neural Spline Flows": each transformed element goes
through its own monotone rational-quadratic spline on `[-bound, bound]`, with
the identity outside that interval (linear tails, slope 1 at both ends, so
the map is continuously differentiable everywhere): the map of
`tfp.bijectors.RationalQuadraticSpline` (`spline` returns that bijector),
evaluated here directly so that one bin search (a comparison with the
interior knots) gives both the value and the log-derivative, and raw
conditioner outputs are turned into valid bin widths, heights and knot slopes.

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

    def knots(self, params):
        """`(widths, heights, slopes)` from raw `params: [..., 3 * num_bins - 1]`: bin widths and
        heights `[..., num_bins]` (each at least `min_bin_size`, summing to `2 * bound`) and the
        derivatives at the `num_bins + 1` knots `[..., num_bins + 1]` (1 at both ends)."""
        k = self.num_bins
        scale = 2.0 * self.bound - k * self.min_bin_size
        widths = tf.math.softmax(params[..., :k], axis=-1) * scale + self.min_bin_size
        heights = tf.math.softmax(params[..., k : 2 * k], axis=-1) * scale + self.min_bin_size
        slopes = tf.math.softplus(params[..., 2 * k :] + self._slope_offset) + self.min_slope
        ones = tf.ones_like(params[..., :1])
        return widths, heights, tf.concat([ones, slopes, ones], axis=-1)

    def spline(self, params):
        """The same map as a `tfb.RationalQuadraticSpline` for raw `params: [..., 3 * num_bins - 1]`
        (batch shape `[...]`), for use where a TFP bijector is wanted."""
        widths, heights, slopes = self.knots(params)
        return tfb.RationalQuadraticSpline(widths, heights, slopes[..., 1:-1], range_min=-self.bound)

    def _bin(self, value, widths, heights, slopes, by_height):
        """The bin holding `value: [...]` (an `x` against the bins' widths, or a `y` against their
        heights when `by_height`): its left edges `(x_k, y_k)`, width, height, slope
        `s = height / width` and knot derivatives at both ends, each `[...]`. One exclusive
        cumulative sum per side gives the left edges; the bin is found by comparing with the K - 1
        interior knots (no search, no gather) and selected with a one-hot."""
        x_edges = -self.bound + tf.math.cumsum(widths, axis=-1, exclusive=True)  # left edges [..., K]
        y_edges = -self.bound + tf.math.cumsum(heights, axis=-1, exclusive=True)
        knots = y_edges if by_height else x_edges
        index = tf.reduce_sum(tf.cast(value[..., None] >= knots[..., 1:], tf.int32), axis=-1)
        one_hot = tf.one_hot(index, self.num_bins, dtype=value.dtype)

        def pick(values):
            return tf.reduce_sum(one_hot * values, axis=-1)

        width, height = pick(widths), pick(heights)
        return pick(x_edges), pick(y_edges), width, height, height / width, pick(slopes[..., :-1]), pick(slopes[..., 1:])

    @staticmethod
    def _log_derivative(xi, s, d0, d1):
        """`log dy/dx` at the position `xi` in `[0, 1]` inside a bin of slope `s` and knot
        derivatives `d0`, `d1` (Durkan et al., eq. 5), and the rational function's denominator."""
        between = xi * (1.0 - xi)
        denominator = s + (d0 + d1 - 2.0 * s) * between
        derivative = tf.square(s) * (d1 * tf.square(xi) + 2.0 * s * between + d0 * tf.square(1.0 - xi))
        return tf.math.log(derivative) - 2.0 * tf.math.log(denominator), denominator

    def forward(self, x, params):
        """`(y, log|dy/dx|)`, both shaped as `x`, for `params: [*x.shape, 3 * num_bins - 1]`.

        One bin search serves the value and the log-derivative (Durkan et al., eq. 4 and 5)."""
        widths, heights, slopes = self.knots(params)
        inside = tf.abs(x) < self.bound
        x_in = tf.clip_by_value(x, -self.bound, self.bound)  # finite in both branches of the select
        x_left, y_left, width, height, s, d0, d1 = self._bin(x_in, widths, heights, slopes, by_height=False)
        xi = (x_in - x_left) / width
        log_det, denominator = self._log_derivative(xi, s, d0, d1)
        y = y_left + height * (s * tf.square(xi) + d0 * xi * (1.0 - xi)) / denominator
        return tf.where(inside, y, x), tf.where(inside, log_det, tf.zeros_like(x))

    def inverse(self, y, params):
        """`(x, -log|dy/dx|)`, both shaped as `y`, for `params: [*y.shape, 3 * num_bins - 1]`:
        the root of the bin's quadratic in the stable form, one bin search."""
        widths, heights, slopes = self.knots(params)
        inside = tf.abs(y) < self.bound
        y_in = tf.clip_by_value(y, -self.bound, self.bound)
        x_left, y_left, width, height, s, d0, d1 = self._bin(y_in, widths, heights, slopes, by_height=True)
        offset = y_in - y_left
        curvature = d0 + d1 - 2.0 * s
        a = height * (s - d0) + offset * curvature
        b = height * d0 - offset * curvature
        c = -s * offset
        discriminant = tf.maximum(tf.square(b) - 4.0 * a * c, 0.0)
        xi = 2.0 * c / (-b - tf.sqrt(discriminant))
        log_det, _ = self._log_derivative(xi, s, d0, d1)
        return tf.where(inside, x_left + xi * width, y), tf.where(inside, -log_det, tf.zeros_like(y))
