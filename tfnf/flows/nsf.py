"""`nsf`: neural spline flow (Durkan et al., 2019) with rational-quadratic couplings."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import SplineCoupling
from tfnf.bijectors.flow_bijector import check_event_shape
from tfnf.flows.flow_distribution import make_flow

tfb = tfp.bijectors


def nsf(
    event_shape,
    num_couplings=4,
    hidden_units=(64, 64),
    num_bins=8,
    bound=3.0,
    mask="half",
    dropout=0.0,
    dtype=tf.float32,
    name="nsf",
):
    """Neural spline flow for vectors; returns a `tfd.TransformedDistribution` over N(0, I).

    `num_couplings` rational-quadratic spline couplings (`SplineCoupling`)
    with alternating masks and MLP conditioners, `x: [batch, D]`. Each spline
    has `num_bins` bins on `[-bound, bound]` and is the identity outside, so
    continuous data should be standardised to roughly that range. A new flow
    is the identity (zero-initialised conditioner outputs).

    Args:
      event_shape: `(D,)`, `D >= 2`.
      num_couplings: number of spline couplings.
      hidden_units: MLP widths of the conditioners.
      num_bins: spline bins per element.
      bound: half-width of the splines' interval.
      mask: `"half"` or `"alternate"`.
      dropout: dropout rate in the conditioners (training only).
      dtype: float32 (default) or float64.
      name: distribution name.
    """
    config = dict(
        event_shape=event_shape,
        num_couplings=num_couplings,
        hidden_units=tuple(hidden_units),
        num_bins=num_bins,
        bound=bound,
        mask=mask,
        dropout=dropout,
        name=name,
    )
    event_shape = check_event_shape("event_shape", event_shape)
    config["event_shape"] = event_shape
    if len(event_shape) != 1:
        raise ValueError(f"nsf takes vectors (D,), got event_shape={event_shape}")
    if int(num_couplings) < 1:
        raise ValueError(f"num_couplings must be >= 1, got {num_couplings}")
    couplings = [
        SplineCoupling(
            event_shape,
            num_bins=num_bins,
            bound=bound,
            mask=mask,
            parity=k % 2,
            hidden_units=tuple(hidden_units),
            dropout=float(dropout),
            dtype=dtype,
            name=f"coupling{k}",
        )
        for k in range(int(num_couplings))
    ]
    return make_flow(tfb.Chain(couplings, name="nsf"), event_shape, dtype, "nsf", config, None, name)
