"""`iaf`: inverse autoregressive flow (Kingma et al., 2016): fast sampling."""

import tensorflow as tf

from tfnf.flows.maf import autoregressive_flow


def iaf(
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
    name="iaf",
):
    """Inverse autoregressive flow for vectors; returns a `tfd.TransformedDistribution` over N(0, I).

    `num_layers` affine `MaskedAutoregressive` layers conditioned on the latent
    side, with MADE networks (`hidden_units`, each at least `D - 1` wide) and
    the element order reversed between layers, `x: [batch, D]`.

    Trade-off: `sample` (latent -> data) and the log-density of the flow's own
    samples (`experimental_sample_and_log_prob`, what
    `tfp.vi.fit_surrogate_posterior` uses) are one MADE pass per layer, so IAF
    suits variational posteriors and fast generation; `log_prob` of given data
    is `D` sequential passes per layer (a `tf.while_loop`, XLA-compatible).
    `maf` is the mirror image.

    Args: as `maf`.
    """
    return autoregressive_flow(
        "iaf", "latent", event_shape, num_layers, hidden_units, dropout, scale_bound, dtype, name,
        num_classes=num_classes, context_shape=context_shape, base=base,
        transformer=transformer, num_bins=num_bins, bound=bound, conditioner=conditioner,
    )
