"""`maf`: masked autoregressive flow (Papamakarios et al., 2017): fast density."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import MaskedAutoregressive, conditioners
from tfnf.bijectors.spline_transformer import RationalQuadraticSplineTransformer
from tfnf.bijectors.transformers import AffineTransformer
from tfnf.flows import argument_checks as check
from tfnf.flows.bases import with_base
from tfnf.flows.condition import context_spec
from tfnf.flows.flow_distribution import make_flow

tfb = tfp.bijectors


TRANSFORMERS = ("affine", "spline")


def masked_autoregressive_chain(
    event_shape, num_layers, hidden_units, conditioned_on, dropout, scale_bound, dtype, name, context_size=None,
    spline=None, conditioner=None,
):
    """`num_layers` `MaskedAutoregressive` bijectors over `(D,)` with the order reversed between them
    (each reading a context of `context_size`, if set); affine, or with `spline=(num_bins, bound)`
    rational-quadratic splines; each layer's network from the resolved `conditioner` (None: MADE)."""
    size = event_shape[0]
    reverse = list(range(size - 1, -1, -1))
    parts = []
    for k in range(num_layers):
        if k:
            parts.append(tfb.Permute(reverse, name=f"reverse{k}"))
        transformer = None if spline is None else RationalQuadraticSplineTransformer(*spline)
        num_params = (transformer or AffineTransformer(scale_bound)).num_params
        network = conditioners.make_autoregressive_network(
            conditioner, event_shape, num_params, context_size, dtype, f"autoregressive{k}_network",
            hidden_units=hidden_units, dropout=dropout,
        )
        parts.append(
            MaskedAutoregressive(
                event_shape,
                conditioned_on=conditioned_on,
                transformer=transformer,
                network=network,
                hidden_units=hidden_units,
                dropout=dropout,
                scale_bound=scale_bound,
                context_size=context_size,
                dtype=dtype,
                name=f"autoregressive{k}",
            )
        )
    return tfb.Chain(parts, name=name)


def autoregressive_flow(
    builder,
    conditioned_on,
    event_shape,
    num_layers,
    hidden_units,
    dropout,
    scale_bound,
    dtype,
    name,
    num_classes=None,
    context_shape=None,
    base=None,
    transformer="affine",
    num_bins=8,
    bound=3.0,
    conditioner=None,
):
    """Shared body of `maf` and `iaf`; checks every argument first (`TypeError` /
    `ValueError` naming it)."""
    if not (isinstance(transformer, str) and transformer in TRANSFORMERS):
        raise ValueError(f"transformer must be one of {TRANSFORMERS}, got {transformer!r}")
    spline = None
    if transformer == "spline":
        spline = (check.positive_int("num_bins", num_bins), check.positive_real("bound", bound))
    event_shape = check.event_shape_tuple("event_shape", event_shape)
    if len(event_shape) != 1:
        raise ValueError(f"{builder} takes vectors (D,), got event_shape={event_shape}")
    num_layers = check.positive_int("num_layers", num_layers)
    hidden_units = check.hidden_units_tuple("hidden_units", hidden_units)
    dropout = check.probability("dropout", dropout)
    scale_bound = check.positive_real("scale_bound", scale_bound)
    dtype = check.float_dtype("dtype", dtype)
    context, context_size = context_spec(num_classes=num_classes, context_shape=context_shape)
    conditioner = conditioners.resolve(conditioner)
    config = dict(
        event_shape=event_shape,
        num_layers=num_layers,
        hidden_units=hidden_units,
        dropout=dropout,
        scale_bound=scale_bound,
        name=name,
    )
    if context is not None:
        config.update(context)
    if spline is not None:  # recorded only when set: configurations saved before it rebuild as they were
        config.update(transformer="spline", num_bins=spline[0], bound=spline[1])
    if conditioner is not None:  # likewise
        config["conditioner"] = conditioners.describe(conditioner)
    bijector = masked_autoregressive_chain(
        event_shape, num_layers, hidden_units, conditioned_on, dropout, scale_bound, dtype, builder, context_size,
        spline, conditioner,
    )
    flow = make_flow(bijector, event_shape, dtype, builder, config, None, name, context=context)
    return with_base(flow, base)


def maf(
    event_shape,
    num_layers=4,
    hidden_units=(64, 64),
    dropout=0.0,
    scale_bound=2.0,
    num_classes=None,
    context_shape=None,
    base=None,
    transformer="affine",
    num_bins=8,
    bound=3.0,
    conditioner=None,
    dtype=tf.float32,
    name="maf",
):
    """Masked autoregressive flow for vectors; returns a `tfd.TransformedDistribution` over N(0, I).

    `num_layers` affine `MaskedAutoregressive` layers conditioned on the data
    side, with MADE networks (`hidden_units`, each at least `D - 1` wide) and
    the element order reversed between layers, `x: [batch, D]`.

    Trade-off: `log_prob(x)` (data -> latent) is one MADE pass per layer, so
    MAF suits density estimation and maximum-likelihood training; `sample`
    (latent -> data) is `D` sequential passes per layer (a `tf.while_loop`,
    XLA-compatible). `iaf` is the mirror image.

    Args:
      event_shape: `(D,)`.
      num_layers: number of autoregressive layers.
      hidden_units: MADE widths.
      dropout: dropout rate in the MADEs (training, density direction only).
      scale_bound: largest absolute log-scale per layer.
      num_classes: a class-conditional flow over `K` classes: every MADE also
        reads the one-hot label `[batch, K]`.
      context_shape: `(k,)`: a flow conditioned on a vector `[batch, k]`,
        read by every MADE through unmasked weights into every hidden unit and
        output. At most one of `num_classes`, `context_shape`; condition with
        `tfnf.flows.condition(flow, context)`.
      base: the base distribution (see `tfnf.flows.bases`): None or
        `"standard_normal"` (default), `"diagonal_gaussian"`,
        `"gaussian_mixture"` (or `{"kind": "gaussian_mixture",
        "num_components": m}`), `"class_conditional_gaussian"` (with
        `num_classes`).
      transformer: `"affine"` (default) or `"spline"`: rational-quadratic
        splines (Durkan et al., 2019) with `num_bins` bins on `[-bound, bound]`,
        the identity outside (`scale_bound` then does not apply).
      num_bins, bound: the splines' bins and half-width (`transformer="spline"`).
      conditioner: the layers' autoregressive networks: None or `"made"`
        (`MADE` with `hidden_units`, the default), `"residual_made"`
        (`ResidualMADE`, residual blocks as wide as the largest of
        `hidden_units`), a `tfnf.bijectors.conditioners.made(...)` /
        `residual_made(...)` factory or its config dict, or a callable
        `f((D,), num_params, context_size=, dtype=, name=)` returning a Keras
        layer `[batch, D] -> [batch, D, num_params]` whose output `i` reads
        only inputs `< i` (and `context=` when conditional).
      dtype: float32 (default) or float64.
      name: distribution name.

    Raises:
      TypeError, ValueError: an argument of the wrong kind or out of range
        (the message names it).
    """
    return autoregressive_flow(
        "maf", "data", event_shape, num_layers, hidden_units, dropout, scale_bound, dtype, name,
        num_classes=num_classes, context_shape=context_shape, base=base,
        transformer=transformer, num_bins=num_bins, bound=bound, conditioner=conditioner,
    )
