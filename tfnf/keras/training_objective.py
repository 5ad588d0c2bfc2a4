"""`resolve_objective`: how a `FlowModel` trains its flow, by maximum likelihood or by flow matching.

Flow matching (`tfnf.keras.flow_matching_step`) trains the vector field of a
continuous normalizing flow without solving its ODE, so it applies when the
only thing the model learns is that field: the flow's bijector is one
`tfnf.bijectors.ContinuousFlow` (the data map in front of it is fixed), the
base holds no variables and no variational dequantizer trains beside it.
`"auto"` picks flow matching then, maximum likelihood otherwise.
"""

from __future__ import annotations

from typing import Any

from tfnf.bijectors import ContinuousFlow

OBJECTIVES = ("auto", "flow_matching", "maximum_likelihood")


def why_not_flow_matching(data_flow: Any) -> str | None:
    """Why flow matching cannot train `data_flow` (a `tfnf.flows.DataFlow`), or None when it can."""
    bijector = data_flow.flow.bijector
    if not isinstance(bijector, ContinuousFlow):
        return f"its bijector is {type(bijector).__name__}, not one continuous flow (tfnf.flows.ffjord)"
    field = {id(getattr(w, "value", w)) for w in bijector.vector_field.trainable_weights}
    others = [v.name for v in data_flow.flow.trainable_variables if id(v) not in field]
    if others:
        return f"it also learns {others[:3]} besides the continuous flow's field (a learned base?)"
    if data_flow.dequantizer is not None:
        return "its variational dequantizer is trained by maximum likelihood only"
    return None


def resolve_objective(objective: str, data_flow: Any) -> str:
    """`"flow_matching"` or `"maximum_likelihood"` for the requested `objective` (see `OBJECTIVES`).

    Raises:
      ValueError: an unknown objective, or `"flow_matching"` for a flow it cannot train (naming why).
    """
    if not (isinstance(objective, str) and objective in OBJECTIVES):
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    reason = why_not_flow_matching(data_flow)
    if objective == "auto":
        return "maximum_likelihood" if reason else "flow_matching"
    if objective == "flow_matching" and reason:
        raise ValueError(f"objective='flow_matching' trains a continuous normalizing flow's field alone, but {reason}")
    return objective
