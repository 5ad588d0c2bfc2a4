"""`AdditiveCoupling`: NICE's volume-preserving coupling."""

from __future__ import annotations

from typing import Any, Sequence

from tfnf.bijectors.coupling import Coupling, subclass_parameters
from tfnf.bijectors.transformers import AdditiveTransformer


class AdditiveCoupling(Coupling):
    """NICE additive coupling: `y2 = x2 + t(x1)`, `y1 = x1`; `log|det J| = 0`.

    Same masks and arguments as `AffineCoupling` (`coupling_arguments`: those of
    `Coupling` after its transformer), without a scale.
    """

    def __init__(self, event_shape: Sequence[int], name: str = "additive_coupling", **coupling_arguments: Any) -> None:
        parameters = subclass_parameters(locals())
        super().__init__(event_shape, AdditiveTransformer(), name=name, parameters=parameters, **coupling_arguments)
