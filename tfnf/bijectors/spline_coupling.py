"""`SplineCoupling`: the neural spline coupling (rational-quadratic transformer)."""

from __future__ import annotations

from typing import Callable, Sequence

import tensorflow as tf

from tfnf.bijectors.coupling import Coupling
from tfnf.bijectors.flow_bijector import check_event_shape
from tfnf.bijectors.spline_transformer import RationalQuadraticSplineTransformer


class SplineCoupling(Coupling):
    """Neural spline coupling (Durkan et al., 2019): `y2 = RQS(x2; theta(x1))`, `y1 = x1`.

    Each transformed element goes through a monotone rational-quadratic
    spline with `num_bins` bins on `[-bound, bound]` and the identity outside
    (see `RationalQuadraticSplineTransformer`); the conditioner emits
    `3 * num_bins - 1` raw parameters per transformed element and is
    zero-initialised, so a new coupling is the identity. Vectors
    `x: [batch, D]` only (masks `half`, `alternate`); see `Coupling` for the
    remaining arguments.

    Args:
      num_bins: spline bins per element (default 8).
      bound: the spline acts on `[-bound, bound]` (default 3.0); data should
        mostly fall inside it (standardise them first).
      min_bin_size, min_slope: numerical floors of the bin sizes and knot slopes.
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        num_bins: int = 8,
        bound: float = 3.0,
        mask: str | None = None,
        parity: int = 0,
        conditioner: Callable | None = None,
        hidden_units: Sequence[int] = (64, 64),
        dropout: float = 0.0,
        min_bin_size: float = 1e-3,
        min_slope: float = 1e-3,
        context_size: int | None = None,
        dtype: tf.DType | str = tf.float32,
        name: str = "spline_coupling",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape)
        if len(event_shape) != 1:
            raise ValueError(f"SplineCoupling takes vectors: event_shape must be (D,), got {event_shape!r}")
        super().__init__(
            event_shape,
            RationalQuadraticSplineTransformer(num_bins, bound, min_bin_size=min_bin_size, min_slope=min_slope),
            mask=mask,
            parity=parity,
            conditioner=conditioner,
            hidden_units=hidden_units,
            dropout=dropout,
            context_size=context_size,
            dtype=dtype,
            name=name,
            parameters=parameters,
        )
