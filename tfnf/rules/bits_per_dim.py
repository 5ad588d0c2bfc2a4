"""Bits per dimension: a negative log-likelihood in nats per example over `D ln 2`.

`DataFlow` (and through it `FlowModel`'s metrics and the SavedModel's
`bits_per_dim` output) and the command line's evaluation all convert here.
"""

from __future__ import annotations

import math
from typing import Any


def nats_to_bits_per_dim(nats: Any, num_dims: int) -> Any:
    """`nats / (num_dims ln 2)`: a float, NumPy array or tensor of negative log-likelihoods in
    nats per example (any shape) -> bits per dimension (same shape and type)."""
    return nats / (num_dims * math.log(2.0))
