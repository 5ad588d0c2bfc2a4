"""`LULinear`: a learned, LU-parameterised invertible linear map of vectors."""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from tfnf.bijectors.flow_bijector import check_event_shape
from tfnf.bijectors.invertible_1x1_conv import Invertible1x1Conv


class LULinear(Invertible1x1Conv):
    """Invertible linear mixing of vectors `x: [batch, D]`, between vector couplings.

    Data -> latent (`inverse`): `z = x @ W`; latent -> data (`forward`):
    `x = z @ W^-1`, with `W = P @ L @ (U + diag(sign * |s|))`: a fixed
    permutation `P` and fixed signs, a trainable unit-lower-triangular `L`,
    strictly-upper `U` and `log|s|` (softly floored, so `W` stays invertible).
    `log|det J_inverse| = sum(log|s|)`, a sum of logs with no determinant to
    compute; the inverse uses two triangular solves. `W` starts as a random
    rotation (`seed`), so a new `LULinear` preserves volume.

    It is the channel mixing of Glow's `Invertible1x1Conv` on a single
    "pixel": the same parameterisation and the same code, restricted here to
    vector events and to the LU form.

    Args:
      event_shape: `(D,)`, `D >= 1`.
      seed: seed of the random-rotation initialisation (None: random).
      dtype: floating dtype.
      name: bijector name.
    """

    def __init__(
        self, event_shape: Sequence[int], seed: int | None = None, dtype: tf.DType | str = tf.float32,
        name: str = "lu_linear",
    ) -> None:
        event_shape = check_event_shape("event_shape", event_shape, min_rank=1, max_rank=1)
        super().__init__(event_shape, lu_decomposed=True, seed=seed, dtype=dtype, name=name)
        self._parameters = dict(event_shape=event_shape, seed=seed, dtype=dtype, name=name)
