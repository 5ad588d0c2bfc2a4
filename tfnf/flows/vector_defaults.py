"""Defaults of the vector flows (`maf`, `nsf`, `realnvp`) that follow the data: network widths
growing with the dimension `D`, and a data-side `ActNorm` that standardises each element.

Widths: `hidden_units=None` resolves to two hidden layers of `default_width(D)` units, 64 for
`D <= 16` (the 2-D densities keep the networks they had) growing as `4 D` rounded up to a
multiple of 32, at most 512. A MADE needs at least `D - 1` units per layer; the rule gives
that with room to spare.

Spline range: `nsf(bound=None)` gives its splines `[-3, 3]` up to `ACTNORM_ABOVE` dimensions
and `[-8, 8]` above, where the data-side `ActNorm` standardises heavy-tailed elements.

Scale: a flow whose data sit far from unit scale (natural-image patches have a standard
deviation near 0.08) wastes its conditioners' and splines' working range. `actnorm=True` puts
an `ActNorm` on the data side of the chain, and `actnorm=None` (the default) does so above
`ACTNORM_ABOVE` dimensions (the low-dimensional densities keep the flows they had); `tfnf.FlowModel` initialises it from the first
examples it trains on, so the layers after it see each element with zero mean and unit
variance, and it is trained with the rest. Used without `FlowModel` (or before its first
`fit`) it starts as the identity; `tfnf.bijectors.initialize_actnorms(flow, batch)` sets it
from a batch.
"""

from __future__ import annotations

import math
from typing import Sequence

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import ActNorm

tfb = tfp.bijectors

#: Hidden width of the vector flows' networks for small `D`, and the largest the rule gives.
MIN_WIDTH, MAX_WIDTH = 64, 512
#: `actnorm=None` puts the data-side ActNorm in above this many dimensions.
ACTNORM_ABOVE = 16
#: Units per data dimension above `MIN_WIDTH`.
UNITS_PER_DIMENSION = 4
#: Half-width of `nsf`'s splines, `bound=None`: up to `ACTNORM_ABOVE` dimensions, and above (data
#: standardised by the data-side ActNorm, whose heavy tails reach far past 3 standard deviations).
SPLINE_BOUND, STANDARDISED_SPLINE_BOUND = 3.0, 8.0


def default_width(event_size: int) -> int:
    """The hidden width `hidden_units=None` gives a vector flow over `(event_size,)`:
    `clip(4 * event_size rounded up to a multiple of 32, 64, 512)`."""
    width = 32 * math.ceil(UNITS_PER_DIMENSION * int(event_size) / 32)
    return int(min(MAX_WIDTH, max(MIN_WIDTH, width)))


def resolve_hidden_units(hidden_units: Sequence[int] | None, event_shape: Sequence[int]) -> tuple:
    """`hidden_units` as given, or for None two layers of `default_width(D)` units."""
    if hidden_units is None:
        width = default_width(event_shape[0])
        return (width, width)
    return tuple(hidden_units)


def resolve_spline_bound(bound: float | None, event_shape: Sequence[int]) -> float:
    """`bound` as given, or for None `SPLINE_BOUND` (3) up to `D = ACTNORM_ABOVE` and
    `STANDARDISED_SPLINE_BOUND` (8) above: a spline is the identity outside `[-bound, bound]`, and
    natural data standardised element by element (natural-image patches) keep much of their mass
    beyond 3 standard deviations, which a bound of 3 would leave untransformed."""
    if bound is not None:
        return float(bound)
    return STANDARDISED_SPLINE_BOUND if event_shape[0] > ACTNORM_ABOVE else SPLINE_BOUND


def with_data_actnorm(
    parts: list, actnorm: bool | None, event_shape: Sequence[int], dtype: tf.DType, name: str
) -> tuple[tfb.Chain, dict]:
    """`tfb.Chain(parts)` (latent -> data), with an `ActNorm` over `event_shape` as its last step,
    on the data side (its first step data -> latent), if `actnorm` (None: if `D > ACTNORM_ABOVE`);
    and what the configuration records of it (`{"actnorm": True}` where None resolved to it)."""
    used = event_shape[0] > ACTNORM_ABOVE if actnorm is None else bool(actnorm)
    if used:
        parts = [ActNorm(event_shape, dtype=dtype, name="data_actnorm"), *parts]
    return tfb.Chain(parts, name=name), ({"actnorm": True} if used and actnorm is None else {})
