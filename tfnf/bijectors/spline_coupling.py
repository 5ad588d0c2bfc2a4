"""`SplineCoupling`: the neural spline coupling (rational-quadratic transformer)."""

from __future__ import annotations

from typing import Any, Sequence

from tfnf.bijectors.coupling import Coupling, subclass_parameters
from tfnf.bijectors.flow_bijector import check_event_shape
from tfnf.bijectors.spline_transformer import RationalQuadraticSplineTransformer


class SplineCoupling(Coupling):
    """Neural spline coupling (Durkan et al., 2019): `y2 = RQS(x2; theta(x1))`, `y1 = x1`.

    Each transformed element goes through a monotone rational-quadratic
    spline with `num_bins` bins on `[-bound, bound]` and the identity outside
    (see `RationalQuadraticSplineTransformer`); the conditioner emits
    `3 * num_bins - 1` raw parameters per transformed element and is
    zero-initialised, so a new coupling is the identity. Vectors
    `x: [batch, D]` only (masks `half`, `alternate`).

    Args:
      event_shape: `(D,)`.
      num_bins: spline bins per element (default 8).
      bound: the spline acts on `[-bound, bound]` (default 3.0); data should
        mostly fall inside it (standardise them first).
      min_bin_size, min_slope: numerical floors of the bin sizes and knot slopes.
      name: bijector name.
      **coupling_arguments: those of `Coupling` after its transformer (`mask`,
        `parity`, `conditioner`, `hidden_units`, `dropout`, `context_size`, `dtype`).
    """

    # the events it takes, and the message for others
    EVENT_RANK = 1
    OTHER_EVENTS = "SplineCoupling takes vectors: event_shape must be (D,), got {!r}"

    def __init__(
        self, event_shape: Sequence[int], num_bins: int = 8, bound: float = 3.0, min_bin_size: float = 1e-3,
        min_slope: float = 1e-3, name: str = "spline_coupling", **coupling_arguments: Any,
    ) -> None:
        parameters = subclass_parameters(locals())
        event_shape = check_event_shape("event_shape", event_shape)
        if len(event_shape) != self.EVENT_RANK:
            raise ValueError(self.OTHER_EVENTS.format(event_shape))
        transformer = RationalQuadraticSplineTransformer(
            num_bins, bound, min_bin_size=min_bin_size, min_slope=min_slope
        )
        super().__init__(event_shape, transformer, name=name, parameters=parameters, **coupling_arguments)
