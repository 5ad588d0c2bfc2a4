"""`nice`: NICE (Dinh et al., 2015), additive couplings and a diagonal scaling."""

from __future__ import annotations

import math
from typing import Sequence

import tensorflow_probability as tfp

from tfnf.bijectors import AdditiveCoupling, DiagonalScale
from tfnf.bijectors.transformers import AdditiveTransformer
from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder
from tfnf.flows.vector_couplings import vector_couplings

tfb = tfp.bijectors


@flow_builder("nice", recorded_when_set=("mixing", "seed"))
def nice(
    flow: FlowSetting, num_couplings: int = 4, hidden_units: Sequence[int] = (256, 256), mask: str = "alternate",
    dropout: float = 0.0, mixing: str | None = None, seed: int | None = None,
) -> Architecture:
    """NICE; returns a `tfd.TransformedDistribution` over N(0, I).

    Data -> latent: `num_couplings` additive couplings with alternating masks
    and MLP conditioners, then a learned diagonal scaling (the only part that
    changes volume). Vectors `x: [batch, D]`; image events `(H, W, C)` are
    flattened to `D = H*W*C` inside the flow, as in the paper. Continuous data
    as is; `tfnf.FlowModel` shifts pixel data to `[-0.5, 0.5]`.

    Args:
      event_shape: `(D,)` or `(H, W, C)`.
      num_couplings: number of additive couplings.
      hidden_units: MLP widths of the conditioners.
      mask: `"alternate"` (odd/even, as the paper) or `"half"`.
      dropout: dropout rate in the conditioners (training only).
      num_classes: a class-conditional flow over `K` classes: every
        conditioner also reads the one-hot label `[batch, K]`.
      context_shape: `(k,)`: a flow conditioned on a vector `[batch, k]` read
        by every conditioner. At most one of `num_classes`, `context_shape`;
        condition with `tfnf.flows.condition(flow, context)`.
      conditioner: the coupling networks, as `realnvp`: None (MLPs of
        `hidden_units`), `"mlp"`, `"residual_mlp"`, a factory from
        `tfnf.nets.conditioners` or its config dict, or a callable.
      mixing: None (couplings alternate parts), `"lu"` (a learned
        `LULinear` between couplings) or `"reverse"` (`tfnf.flows.vector_mixing`);
        an `"lu"` mixing changes volume, so the flow is no longer volume
        preserving before the diagonal scaling.
      seed: seed of the `"lu"` mixings' initialisation.
    """
    event_shape = flow.event_shape
    vector_shape = (math.prod(event_shape),)
    parts = vector_couplings(
        flow, AdditiveCoupling, vector_shape, num_couplings, mask, AdditiveTransformer.num_params, hidden_units,
        dropout, mixing, seed,
    )
    parts.append(DiagonalScale(vector_shape, dtype=flow.dtype, name="scale"))
    if len(event_shape) > 1:
        parts.insert(0, tfb.Reshape(event_shape_out=event_shape, event_shape_in=vector_shape))
        parts.append(tfb.Reshape(event_shape_out=vector_shape, event_shape_in=event_shape))
    return Architecture(tfb.Chain(parts, name="nice"), preprocessing="shift" if len(event_shape) == 3 else None)
