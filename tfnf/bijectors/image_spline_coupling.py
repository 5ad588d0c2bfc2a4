"""`ImageSplineCoupling`: the rational-quadratic spline coupling for images."""

from __future__ import annotations

from typing import Callable, Sequence

import tensorflow as tf

from tfnf.bijectors.coupling import Coupling
from tfnf.bijectors.flow_bijector import check_event_shape
from tfnf.bijectors.spline_transformer import RationalQuadraticSplineTransformer


class ImageSplineCoupling(Coupling):
    """Neural spline coupling over images `x: [batch, H, W, C]` (Durkan et al., 2019).

    The image counterpart of `SplineCoupling`: `y_trans = RQS(x_trans; theta(x_cond))`,
    `y_cond = x_cond`, split by a `"channel"` or `"checkerboard"` mask. Each
    transformed element goes through its own monotone rational-quadratic spline
    with `num_bins` bins on `[-bound, bound]` and the identity outside (see
    `RationalQuadraticSplineTransformer`); the conditioner (by default Glow's
    conv net, `ConvConditioner`) emits `3 * num_bins - 1` raw parameters per
    transformed element and is zero-initialised, so a new coupling is the
    identity. See `Coupling` for the remaining arguments.

    Args:
      num_bins: spline bins per element (default 8).
      bound: the spline acts on `[-bound, bound]` (default 3.0: RealNVP's
        logit-preprocessed pixels, `logit(alpha + (1 - 2 alpha) x)` with
        `alpha = 0.05`, lie within `[-2.95, 2.95]`).
      min_bin_size, min_slope: numerical floors of the bin sizes and knot slopes.
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        num_bins: int = 8,
        bound: float = 3.0,
        mask: str = "channel",
        parity: int = 0,
        conditioner: Callable | None = None,
        hidden_channels: int | None = 128,
        dropout: float = 0.0,
        min_bin_size: float = 1e-3,
        min_slope: float = 1e-3,
        context_size: int | None = None,
        dtype: tf.DType | str = tf.float32,
        name: str = "image_spline_coupling",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape)
        if len(event_shape) != 3:
            raise ValueError(
                f"ImageSplineCoupling takes images: event_shape must be (H, W, C), got {event_shape!r} "
                "(SplineCoupling takes vectors)"
            )
        super().__init__(
            event_shape,
            RationalQuadraticSplineTransformer(num_bins, bound, min_bin_size=min_bin_size, min_slope=min_slope),
            mask=mask,
            parity=parity,
            conditioner=conditioner,
            hidden_channels=hidden_channels,
            dropout=dropout,
            context_size=context_size,
            dtype=dtype,
            name=name,
            parameters=parameters,
        )
