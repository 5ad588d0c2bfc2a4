"""`ffjord`: FFJORD (Grathwohl et al., 2019), a continuous normalizing flow, for vectors and images."""

from __future__ import annotations

from typing import Sequence

from tfnf.bijectors import ContinuousFlow
from tfnf.bijectors.jacobian_trace import TRACES
from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder


@flow_builder(
    "ffjord", takes_conditioner=False, default_event_shape=(2,), choices={"trace": TRACES}, recorded_when_set=("trace",)
)
def ffjord(
    flow: FlowSetting, hidden_units: Sequence[int] = (128, 128, 128), activation: str = "tanh", final_time: float = 1.0,
    rtol: float = 1e-5, atol: float = 1e-5, trace: str = "auto",
) -> Architecture:
    """FFJORD over vectors `[batch, D]` or images `[batch, H, W, C]`; a `tfd.TransformedDistribution` over N(0, I).

    The bijector is one `tfnf.bijectors.ContinuousFlow`: `tfb.FFJORD` solving
    `dx/dt = f(t, x)` from `t = 0` (latent) to `final_time` (data) with TFP's
    Dormand-Prince solver. `f` is a Keras layer whose weights are in
    `flow.trainable_variables`: an MLP of `(x, t)` for vectors
    (`tfnf.nets.VectorField`), `3 x 3` convolutions of the image with the time
    as an extra input plane for images (`tfnf.nets.ConvVectorField`). The
    log-density is the instantaneous change of variables, the integral of
    `tr(df/dx)`: with the exact trace for events of at most 32 dimensions,
    Hutchinson's estimate with a fixed Rademacher probe above
    (`tfnf.bijectors.jacobian_trace`). The field starts at zero, so a new flow
    is its base.

    A conditional flow (`num_classes=K`: one-hot labels; `context_shape=(k,)`:
    vectors) hands its context to the field at every time (extra input
    features of the MLP, constant extra planes of the convolutions).

    Train with `tfnf.FlowModel(flow).fit(x)`: by default by conditional flow
    matching (`FlowModel(objective="auto")`), which regresses the field on
    straight paths from base draws to data and solves no ODE while training;
    `objective="maximum_likelihood"` instead solves the ODE forward and, for
    the gradient, backward (adjoint) at every step
    (`benchmarks/ffjord_cost.py`, `benchmarks/flow_matching_eight_gaussians.py`).

    Args:
      event_shape: `(D,)` or `(H, W, C)`.
      hidden_units: widths of the field's hidden layers (units of the MLP;
        channels of the convolutions for images). The default, three layers of
        128, is what takes flow matching below 0.01 nats of KL on eight Gaussians
        (`benchmarks/flow_matching_eight_gaussians.py`).
      activation: the field's activation (smooth: `tanh`, `softplus`, `silu`, ...).
      final_time: integration time `T > 0`.
      rtol, atol: tolerances of the ODE solver that evaluates the flow
        (`log_prob`, `sample`, `encode`, `decode`; densities are exact up to
        them and, above 32 dimensions, up to the trace estimate).
      trace: `"auto"` (exact up to 32 dimensions, Hutchinson above), `"exact"`
        or `"hutchinson"`.
      num_classes, context_shape: a conditional flow's context (see
        `tfnf.flows.condition`); vector contexts `(k,)` only.
    """
    bijector = ContinuousFlow(
        flow.event_shape, hidden_units=hidden_units, activation=activation, final_time=final_time, rtol=rtol,
        atol=atol, trace=trace, context_size=flow.context_size, dtype=flow.dtype, name=f"{flow.name}_ode",
    )
    return Architecture(bijector)
