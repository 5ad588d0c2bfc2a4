"""`ffjord`: FFJORD (Grathwohl et al., 2019), a continuous normalizing flow, for vectors."""

import tensorflow as tf

from tfnf.bijectors import ContinuousFlow
from tfnf.flows import argument_checks as check
from tfnf.flows.flow_distribution import make_flow


def ffjord(
    event_shape=(2,),
    hidden_units=(64, 64),
    activation="tanh",
    final_time=1.0,
    rtol=1e-5,
    atol=1e-5,
    dtype=tf.float32,
    name="ffjord",
):
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
      name: distribution name.

    Raises:
      TypeError, ValueError: an argument of the wrong kind or out of range
        (the message names it).
    """
    event_shape = check.event_shape_tuple("event_shape", event_shape, min_rank=1, max_rank=1)
    hidden_units = check.hidden_units_tuple("hidden_units", hidden_units)
    final_time = check.positive_real("final_time", final_time)
    rtol = check.positive_real("rtol", rtol)
    atol = check.positive_real("atol", atol)
    dtype = check.float_dtype("dtype", dtype)
    if not isinstance(activation, str):
        raise TypeError(f"activation must be the name of a Keras activation such as 'tanh', got {activation!r}")
    config = dict(
        event_shape=event_shape,
        hidden_units=hidden_units,
        activation=activation,
        final_time=final_time,
        rtol=rtol,
        atol=atol,
        name=name,
    )
    bijector = ContinuousFlow(
        event_shape,
        hidden_units=hidden_units,
        activation=activation,
        final_time=final_time,
        rtol=rtol,
        atol=atol,
        dtype=dtype,
        name=f"{name}_ode",
    )
    return make_flow(bijector, event_shape, dtype, "ffjord", config, None, name)
