"""`iaf`: inverse autoregressive flow (Kingma et al., 2016): fast sampling."""

from __future__ import annotations

from typing import Sequence

from tfnf.flows.autoregressive_chain import TRANSFORMERS, autoregressive_chain
from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder


@flow_builder("iaf", recorded_when_set=("transformer", "num_bins", "bound"), choices={"transformer": TRANSFORMERS})
def iaf(
    flow: FlowSetting, num_layers: int = 4, hidden_units: Sequence[int] = (64, 64), dropout: float = 0.0,
    scale_bound: float = 2.0, transformer: str = "affine", num_bins: int = 8, bound: float = 3.0,
) -> Architecture:
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

    Args:
      num_layers, dropout, scale_bound, transformer, num_bins, bound: as `maf`.
      num_classes, context_shape, conditioner: as `maf` (`iaf` has no `actnorm`).
      hidden_units: MADE widths, given as is (default `(64, 64)`).
    """
    return autoregressive_chain(
        flow, "iaf", "latent", num_layers, hidden_units, dropout, scale_bound, transformer, num_bins, bound
    )
