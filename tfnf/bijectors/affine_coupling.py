"""`AffineCoupling`: RealNVP's affine coupling with a bounded scale."""

from __future__ import annotations

from typing import Callable, Sequence

import tensorflow as tf

from tfnf.bijectors.coupling import Coupling
from tfnf.bijectors.transformers import AffineTransformer


class AffineCoupling(Coupling):
    """RealNVP / Glow affine coupling: `y2 = x2 * exp(s(x1)) + t(x1)`, `y1 = x1`.

    `log s` is soft-bounded to `[-scale_bound, scale_bound]`. Works on vectors
    `x: [batch, D]` (masks `half`, `alternate`) and images
    `x: [batch, H, W, C]` (masks `channel`, `checkerboard`); `parity=1` flips the
    mask. See `Coupling` for the remaining arguments.

    Args:
      scale_bound: the largest absolute log-scale (default 2.0).
      fourier_frequencies: Fourier features of the conditioning part for the
        default vector conditioner (see `DenseConditioner`; empty: none).
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        mask: str | None = None,
        parity: int = 0,
        conditioner: Callable | None = None,
        hidden_units: Sequence[int] = (64, 64),
        hidden_channels: int | None = 128,
        dropout: float = 0.0,
        scale_bound: float = 2.0,
        context_size: int | None = None,
        fourier_frequencies: Sequence[float] = (),
        dtype: tf.DType | str = tf.float32,
        name: str = "affine_coupling",
    ) -> None:
        parameters = dict(locals())
        super().__init__(
            event_shape,
            AffineTransformer(scale_bound),
            mask=mask,
            parity=parity,
            conditioner=conditioner,
            hidden_units=hidden_units,
            hidden_channels=hidden_channels,
            dropout=dropout,
            context_size=context_size,
            fourier_frequencies=fourier_frequencies,
            dtype=dtype,
            name=name,
            parameters=parameters,
        )
