"""`AffineCoupling`: RealNVP's affine coupling with a bounded scale."""

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
        event_shape,
        mask=None,
        parity=0,
        conditioner=None,
        hidden_units=(64, 64),
        hidden_channels=128,
        dropout=0.0,
        scale_bound=2.0,
        context_size=None,
        fourier_frequencies=(),
        dtype=tf.float32,
        name="affine_coupling",
    ):
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
