"""`AffineCoupling`: RealNVP's affine coupling with a bounded scale."""

from __future__ import annotations

from typing import Any, Sequence

from tfnf.bijectors.coupling import Coupling, subclass_parameters
from tfnf.bijectors.transformers import AffineTransformer


class AffineCoupling(Coupling):
    """RealNVP / Glow affine coupling: `y2 = x2 * exp(s(x1)) + t(x1)`, `y1 = x1`.

    `log s` is soft-bounded to `[-scale_bound, scale_bound]`. Works on vectors
    `x: [batch, D]` (masks `half`, `alternate`) and images
    `x: [batch, H, W, C]` (masks `channel`, `checkerboard`); `parity=1` flips the
    mask.

    Args:
      event_shape: `(D,)` or `(H, W, C)`.
      scale_bound: the largest absolute log-scale (default 2.0).
      name: bijector name.
      **coupling_arguments: those of `Coupling` after its transformer (`mask`,
        `parity`, `conditioner`, `hidden_units`, `hidden_channels`, `dropout`,
        `context_size`, `fourier_frequencies`, `dtype`).
    """

    def __init__(
        self, event_shape: Sequence[int], scale_bound: float = 2.0, name: str = "affine_coupling",
        **coupling_arguments: Any,
    ) -> None:
        parameters = subclass_parameters(locals())
        transformer = AffineTransformer(scale_bound)
        super().__init__(event_shape, transformer, name=name, parameters=parameters, **coupling_arguments)
