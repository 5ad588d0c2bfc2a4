"""`AdditiveCoupling`: NICE's volume-preserving coupling."""

import tensorflow as tf

from tfnf.bijectors.coupling import Coupling
from tfnf.bijectors.transformers import AdditiveTransformer


class AdditiveCoupling(Coupling):
    """NICE additive coupling: `y2 = x2 + t(x1)`, `y1 = x1`; `log|det J| = 0`.

    Same masks and arguments as `AffineCoupling` (see `Coupling`), without a scale.
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
        context_size=None,
        dtype=tf.float32,
        name="additive_coupling",
    ):
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
