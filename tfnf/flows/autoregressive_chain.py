"""`autoregressive_chain`: the architecture `maf` and `iaf` share, masked autoregressive layers with reversals."""

import tensorflow_probability as tfp

from tfnf.bijectors import MaskedAutoregressive
from tfnf.bijectors.spline_transformer import RationalQuadraticSplineTransformer
from tfnf.bijectors.transformers import AffineTransformer
from tfnf.flows.flow_builder import Architecture
from tfnf.flows.vector_defaults import resolve_hidden_units, with_data_actnorm
from tfnf.nets.conditioners import build_network

tfb = tfp.bijectors

TRANSFORMERS = ("affine", "spline")


def autoregressive_chain(
    flow, builder, conditioned_on, num_layers, hidden_units, dropout, scale_bound, transformer, num_bins, bound,
    actnorm=None,
):
    """`num_layers` `MaskedAutoregressive` layers over `(D,)`, the element order reversed between them.

    Args:
      flow: the builder's `FlowSetting`; each layer reads its context, if any, and takes its network
        from its conditioner (None: the default MADE).
      builder: `"maf"` or `"iaf"`, the chain's name.
      conditioned_on: `"data"` (MAF) or `"latent"` (IAF).
      num_layers, hidden_units, dropout, scale_bound: as the builders.
      transformer: `"affine"`, or `"spline"`: rational-quadratic splines of `num_bins` bins on
        `[-bound, bound]`.
      actnorm: put a data-side `ActNorm` before the layers (`tfnf.flows.vector_defaults`).

    `hidden_units=None` resolves to `vector_defaults.resolve_hidden_units`, recorded as resolved.
    """
    size = flow.event_shape[0]
    hidden_units = resolve_hidden_units(hidden_units, flow.event_shape)
    parts = []
    for k in range(num_layers):
        if k:
            parts.append(tfb.Permute(list(range(size - 1, -1, -1)), name=f"reverse{k}"))
        spline = RationalQuadraticSplineTransformer(num_bins, bound) if transformer == "spline" else None
        num_params = (spline or AffineTransformer(scale_bound)).num_params
        network = None
        if flow.conditioner is not None:  # else the layer builds the default network itself
            network = build_network(
                flow.conditioner, flow.event_shape, flow.event_shape, num_params, flow.context_size, flow.dtype,
                f"autoregressive{k}_network", autoregressive=True, hidden_units=hidden_units, dropout=dropout,
            )
        parts.append(MaskedAutoregressive(
            flow.event_shape, conditioned_on=conditioned_on, transformer=spline, network=network,
            hidden_units=hidden_units, dropout=dropout, scale_bound=scale_bound, context_size=flow.context_size,
            dtype=flow.dtype, name=f"autoregressive{k}",
        ))
    chain, recorded = with_data_actnorm(parts, actnorm, flow.event_shape, flow.dtype, builder)
    return Architecture(chain, resolved={"hidden_units": hidden_units, **recorded})
