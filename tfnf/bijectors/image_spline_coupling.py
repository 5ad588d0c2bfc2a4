"""`ImageSplineCoupling`: the rational-quadratic spline coupling for images."""

from __future__ import annotations

from typing import Any, Sequence

from tfnf.bijectors.spline_coupling import SplineCoupling


class ImageSplineCoupling(SplineCoupling):
    """Neural spline coupling over images `x: [batch, H, W, C]` (Durkan et al., 2019).

    The image counterpart of `SplineCoupling`: `y_trans = RQS(x_trans; theta(x_cond))`,
    `y_cond = x_cond`, split by a `"channel"` or `"checkerboard"` mask. Each
    transformed element goes through its own monotone rational-quadratic spline
    with `num_bins` bins on `[-bound, bound]` and the identity outside (see
    `RationalQuadraticSplineTransformer`); the conditioner (by default Glow's
    conv net, `ConvConditioner`) emits `3 * num_bins - 1` raw parameters per
    transformed element and is zero-initialised, so a new coupling is the
    identity. Arguments as `SplineCoupling` (with `hidden_channels` for the
    default conv net, and the `"channel"` mask by default); its `bound` of 3.0
    covers RealNVP's logit-preprocessed pixels, `logit(alpha + (1 - 2 alpha) x)`
    with `alpha = 0.05`, which lie within `[-2.95, 2.95]`.
    """

    EVENT_RANK = 3
    OTHER_EVENTS = (
        "ImageSplineCoupling takes images: event_shape must be (H, W, C), got {!r} (SplineCoupling takes vectors)"
    )

    def __init__(self, event_shape: Sequence[int], name: str = "image_spline_coupling", **arguments: Any) -> None:
        super().__init__(event_shape, name=name, **arguments)
