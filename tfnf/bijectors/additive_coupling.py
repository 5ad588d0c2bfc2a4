"""`AdditiveCoupling`: NICE's volume-preserving coupling."""

from __future__ import annotations

from typing import Callable, Sequence

import tensorflow as tf

from tfnf.bijectors.coupling import Coupling
from tfnf.bijectors.transformers import AdditiveTransformer


class AdditiveCoupling(Coupling):
    """NICE additive coupling: `y2 = x2 + t(x1)`, `y1 = x1`; `log|det J| = 0`.

    Same masks and arguments as `AffineCoupling` (see `Coupling`), without a scale.
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
        context_size: int | None = None,
        dtype: tf.DType | str = tf.float32,
        name: str = "additive_coupling",
    ) -> None:
        parameters = dict(locals())
        super().__init__(
            event_shape,
            AdditiveTransformer(),
            mask=mask,
            parity=parity,
            conditioner=conditioner,
            hidden_units=hidden_units,
            hidden_channels=hidden_channels,
            dropout=dropout,
            context_size=context_size,
            dtype=dtype,
            name=name,
            parameters=parameters,
        )
