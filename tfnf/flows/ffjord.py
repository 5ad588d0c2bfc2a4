"""`ffjord`: FFJORD (Grathwohl et al., 2019), a continuous normalizing flow, for vectors."""

from __future__ import annotations

from typing import Sequence

from tfnf.bijectors import ContinuousFlow
from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder


@flow_builder("ffjord", takes_context=False, takes_conditioner=False, default_event_shape=(2,))
def ffjord(
    flow: FlowSetting, hidden_units: Sequence[int] = (64, 64), activation: str = "tanh", final_time: float = 1.0,
    rtol: float = 1e-5, atol: float = 1e-5,
) -> Architecture:
    """FFJORD over vectors `x: [batch, D]`; returns a `tfd.TransformedDistribution` over N(0, I).

    The bijector is one `tfnf.bijectors.ContinuousFlow`: `tfb.FFJORD` solving
    `dx/dt = f(t, x)` from `t = 0` (latent) to `final_time` (data) with TFP's
    Dormand-Prince solver, `f` an MLP of `(t, x)` (a Keras `VectorField`
    whose weights are in `flow.trainable_variables`), and the exact trace of
    `df/dx` for the log-det: cheap for the low-dimensional data this builder
    is meant for (its cost grows with `D`). The field starts at zero, so a new
    flow is its base. Train with `tfnf.FlowModel(flow).fit(x)`; every step
    solves the ODE forward and, for the gradient, backward (adjoint), so a
    step costs far more than a coupling flow's (`benchmarks/ffjord_cost.py`).

    Args:
      event_shape: `(D,)`.
      hidden_units: widths of the vector field's hidden layers.
      activation: the field's activation (smooth: `tanh`, `softplus`, ...).
      final_time: integration time `T > 0`.
      rtol, atol: tolerances of the ODE solver (densities are exact up to them).
      dtype: float32 (default) or float64.
      base: the base distribution, as `nice` (see `tfnf.flows.bases`).
      name: distribution name.

    Raises:
      TypeError, ValueError: an argument of the wrong kind or out of range
        (the message names it).
    """
    bijector = ContinuousFlow(
        flow.event_shape, hidden_units=hidden_units, activation=activation, final_time=final_time, rtol=rtol,
        atol=atol, dtype=flow.dtype, name=f"{flow.name}_ode",
    )
    return Architecture(bijector)
