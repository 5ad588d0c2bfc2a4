"""`nsf`: neural spline flow (Durkan et al., 2019) with rational-quadratic couplings."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import SplineCoupling, conditioners
from tfnf.bijectors.spline_transformer import RationalQuadraticSplineTransformer
from tfnf.flows import argument_checks as check
from tfnf.flows.bases import with_base
from tfnf.flows.condition import context_spec
from tfnf.flows.flow_distribution import make_flow
from tfnf.flows.vector_mixing import mixed_couplings, mixing_config

tfb = tfp.bijectors


def nsf(
    event_shape,
    num_couplings=4,
    hidden_units=(64, 64),
    num_bins=8,
    bound=3.0,
    mask="half",
    dropout=0.0,
    num_classes=None,
    context_shape=None,
    base=None,
    dtype=tf.float32,
    name="nsf",
    conditioner=None,
    mixing=None,
    seed=None,
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
      num_classes, context_shape: a conditional flow, as `nice`: every
        conditioner also reads the one-hot label / the context vector.
      base: the base distribution, as `nice` (see `tfnf.flows.bases`).
      dtype: float32 (default) or float64.
      name: distribution name.
      conditioner: the coupling networks, as `realnvp`: None (MLPs of
        `hidden_units`), `"mlp"`, `"residual_mlp"`, a factory from
        `tfnf.bijectors.conditioners` or its config dict, or a callable.
      mixing: None (couplings alternate halves), `"lu"` (a learned
        `LULinear` between couplings) or `"reverse"` (`tfnf.flows.vector_mixing`).
      seed: seed of the `"lu"` mixings' initialisation.

    Raises:
      TypeError, ValueError: an argument of the wrong kind or out of range
        (the message names it).
    """
    event_shape = check.event_shape_tuple("event_shape", event_shape)
    if len(event_shape) != 1:
        raise ValueError(f"nsf takes vectors (D,), got event_shape={event_shape}")
    num_couplings = check.positive_int("num_couplings", num_couplings)
    hidden_units = check.hidden_units_tuple("hidden_units", hidden_units)
    num_bins = check.positive_int("num_bins", num_bins)
    bound = check.positive_real("bound", bound)
    dropout = check.probability("dropout", dropout)
    dtype = check.float_dtype("dtype", dtype)
    seed = check.optional_seed("seed", seed)
    context, context_size = context_spec(num_classes=num_classes, context_shape=context_shape)
    conditioner = conditioners.resolve(conditioner)
    mixing_options = mixing_config(mixing, seed)
    config = dict(
        event_shape=event_shape,
        num_couplings=num_couplings,
        hidden_units=hidden_units,
        num_bins=num_bins,
        bound=bound,
        mask=mask,
        dropout=dropout,
        name=name,
    )
    if context is not None:
        config.update(context)
    if conditioner is not None:  # recorded only when set: configurations saved before it rebuild as they were
        config["conditioner"] = conditioners.describe(conditioner)
    config.update(mixing_options)
    num_params = RationalQuadraticSplineTransformer(num_bins, bound).num_params

    def coupling(k, parity):
        network = conditioners.make_conditioner(
            conditioner, event_shape, mask, parity, num_params, context_size, dtype, f"coupling{k}_conditioner",
            hidden_units=hidden_units, dropout=dropout,
        )
        return SplineCoupling(
            event_shape,
            num_bins=num_bins,
            bound=bound,
            mask=mask,
            parity=parity,
            conditioner=network,
            hidden_units=hidden_units,
            dropout=dropout,
            context_size=context_size,
            dtype=dtype,
            name=f"coupling{k}",
        )

    parts = mixed_couplings(coupling, num_couplings, event_shape, mixing, seed, dtype)
    flow = make_flow(tfb.Chain(parts, name="nsf"), event_shape, dtype, "nsf", config, None, name, context=context)
    return with_base(flow, base)
