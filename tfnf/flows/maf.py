"""`maf`: masked autoregressive flow (Papamakarios et al., 2017): fast density."""

from __future__ import annotations

from typing import Sequence

from tfnf.flows.autoregressive_chain import TRANSFORMERS, autoregressive_chain
from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder


@flow_builder("maf", recorded_when_set=("transformer", "num_bins", "bound", "actnorm"), choices={"transformer": TRANSFORMERS})
def maf(
    flow: FlowSetting, num_layers: int = 4, hidden_units: Sequence[int] | None = None, dropout: float = 0.0,
    scale_bound: float = 2.0, transformer: str = "affine", num_bins: int = 8, bound: float = 3.0,
    actnorm: bool | None = None,
) -> Architecture:
    """Masked autoregressive flow for vectors; returns a `tfd.TransformedDistribution` over N(0, I).

    `num_layers` affine `MaskedAutoregressive` layers conditioned on the data
    side, with MADE networks (`hidden_units`, each at least `D - 1` wide) and
    the element order reversed between layers, `x: [batch, D]`; above 16
    dimensions by default after a data-side `ActNorm`.

    Defaults that follow the data (`tfnf.flows.vector_defaults`): the MADEs
    are two layers of `clip(4 D, 64, 512)` units (rounded up to a multiple of
    32: 64 up to `D = 16`, 256 for `D = 63`), and the `ActNorm`, which
    `tfnf.FlowModel` initialises from the first training examples, maps each
    element to zero mean and unit variance before the first layer, so data
    far from unit scale (natural-image patches, standard deviation near 0.08)
    use the layers' full range.

    Trade-off: `log_prob(x)` (data -> latent) is one MADE pass per layer, so
    MAF suits density estimation and maximum-likelihood training; `sample`
    (latent -> data) is `D` sequential passes per layer (a `tf.while_loop`,
    XLA-compatible). `iaf` is the mirror image.

    Args:
      event_shape: `(D,)`.
      num_layers: number of autoregressive layers.
      hidden_units: MADE widths (None: two layers of `clip(4 D, 64, 512)`
        units; the configuration records the widths).
      dropout: dropout rate in the MADEs (training, density direction only).
      scale_bound: largest absolute log-scale per layer.
      num_classes: a class-conditional flow over `K` classes: every MADE also
        reads the one-hot label `[batch, K]`.
      context_shape: `(k,)`: a flow conditioned on a vector `[batch, k]`,
        read by every MADE through unmasked weights into every hidden unit and
        output. At most one of `num_classes`, `context_shape`; condition with
        `tfnf.flows.condition(flow, context)`.
      transformer: `"affine"` (default) or `"spline"`: rational-quadratic
        splines (Durkan et al., 2019) with `num_bins` bins on `[-bound, bound]`,
        the identity outside (`scale_bound` then does not apply).
      num_bins, bound: the splines' bins and half-width (`transformer="spline"`).
      actnorm: a data-side `ActNorm` (per element `x = z * exp(s) + m`,
        initialised by `FlowModel` to standardise the data, then trained):
        None (default): for `D > 16` (`vector_defaults.ACTNORM_ABOVE`);
        True: always; False: the first layer reads the data as they are. A flow used
        without `FlowModel` starts with it as the identity
        (`tfnf.bijectors.initialize_actnorms` sets it from a batch).
      conditioner: the layers' autoregressive networks: None or `"made"`
        (`MADE` with `hidden_units`, the default), `"residual_made"`
        (`ResidualMADE`, residual blocks as wide as the largest of
        `hidden_units`), a `tfnf.nets.conditioners.made(...)` /
        `residual_made(...)` factory or its config dict, or a callable
        `f((D,), num_params, context_size=, dtype=, name=)` returning a Keras
        layer `[batch, D] -> [batch, D, num_params]` whose output `i` reads
        only inputs `< i` (and `context=` when conditional).
    """
    return autoregressive_chain(
        flow, "maf", "data", num_layers, hidden_units, dropout, scale_bound, transformer, num_bins, bound, actnorm
    )
