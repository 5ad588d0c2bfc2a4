"""`maf`: masked autoregressive flow (Papamakarios et al., 2017): fast density."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import MaskedAutoregressive
from tfnf.flows import argument_checks as check
from tfnf.flows.flow_distribution import make_flow

tfb = tfp.bijectors


def masked_autoregressive_chain(event_shape, num_layers, hidden_units, conditioned_on, dropout, scale_bound, dtype, name):
    """`num_layers` `MaskedAutoregressive` bijectors over `(D,)` with the order reversed between them."""
    size = event_shape[0]
    reverse = list(range(size - 1, -1, -1))
    parts = []
    for k in range(num_layers):
        if k:
            parts.append(tfb.Permute(reverse, name=f"reverse{k}"))
        parts.append(
            MaskedAutoregressive(
                event_shape,
                conditioned_on=conditioned_on,
                hidden_units=hidden_units,
                dropout=dropout,
                scale_bound=scale_bound,
                dtype=dtype,
                name=f"autoregressive{k}",
            )
        )
    return tfb.Chain(parts, name=name)


def autoregressive_flow(builder, conditioned_on, event_shape, num_layers, hidden_units, dropout, scale_bound, dtype, name):
    """Shared body of `maf` and `iaf`; checks every argument first (`TypeError` /
    `ValueError` naming it)."""
    event_shape = check.event_shape_tuple("event_shape", event_shape)
    if len(event_shape) != 1:
        raise ValueError(f"{builder} takes vectors (D,), got event_shape={event_shape}")
    num_layers = check.positive_int("num_layers", num_layers)
    hidden_units = check.hidden_units_tuple("hidden_units", hidden_units)
    dropout = check.probability("dropout", dropout)
    scale_bound = check.positive_real("scale_bound", scale_bound)
    dtype = check.float_dtype("dtype", dtype)
    config = dict(
        event_shape=event_shape,
        num_layers=num_layers,
        hidden_units=hidden_units,
        dropout=dropout,
        scale_bound=scale_bound,
        name=name,
    )
    bijector = masked_autoregressive_chain(
        event_shape, num_layers, hidden_units, conditioned_on, dropout, scale_bound, dtype, builder
    )
    return make_flow(bijector, event_shape, dtype, builder, config, None, name)


def maf(event_shape, num_layers=4, hidden_units=(64, 64), dropout=0.0, scale_bound=2.0, dtype=tf.float32, name="maf"):
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
      dtype: float32 (default) or float64.
      name: distribution name.

    Raises:
      TypeError, ValueError: an argument of the wrong kind or out of range
        (the message names it).
    """
    return autoregressive_flow("maf", "data", event_shape, num_layers, hidden_units, dropout, scale_bound, dtype, name)
