"""`jet`: Jet (Kolesnikov et al., 2024), affine couplings over image patches with vision-transformer conditioners."""

from __future__ import annotations

import tensorflow_probability as tfp

from tfnf.bijectors.jet_coupling import JetCoupling
from tfnf.bijectors.patches import transformer_patch_size
from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder

tfb = tfp.bijectors


def jet_schedule(index):
    """`(split, pattern, parity)` of coupling `index`: channel and spatial splits alternate, each kind
    flipping its parity every other time and its pattern (halves, then alternating) every four."""
    return ("channel", "spatial")[index % 2], ("split", "alternate")[(index // 4) % 2], (index // 2) % 2


@flow_builder("jet", takes_conditioner=False)
def jet(
    flow: FlowSetting, num_couplings: int = 8, patch_size: int | None = None, width: int = 64, depth: int = 2,
    num_heads: int = 4, dropout: float = 0.1,
) -> Architecture:
    """Jet over images `x: [batch, H, W, C]`; returns a `tfd.TransformedDistribution`.

    `num_couplings` `JetCoupling`s over the image cut into `patch_size` squares
    (no squeezes, no multi-scale, no 1x1 convolutions): coupling `k` splits the
    values inside every patch (`k` even) or the patches themselves (`k` odd),
    by halves for the first four and alternately (every other value, a
    checkerboard of patches) for the next four, with the kept half flipping
    every other coupling of a kind (`jet_schedule`). Each coupling's shift and
    log-scale come from its own `ViTConditioner` on the kept half. The base is
    `N(0, I)`; the flow works on data in `[-0.5, 0.5]` (`tfnf.FlowModel` maps
    pixels there).

    The defaults suit 8x8 digits (16 patches of 2x2, about 0.1M parameters per
    coupling at `width=64`) and scale to 32x32x3 (64 patches of 4x4x3); for
    larger images raise `width` (e.g. 256 with `num_heads=8`) and `depth`.

    Args:
      event_shape: `(H, W, C)`.
      num_couplings: number of couplings.
      patch_size: side of the square patches, dividing `H` and `W` (None: the smallest giving at
        most 64 patches of at least 2 values, `tfnf.bijectors.patches.default_patch_size`);
        the spatial splits need an even number of patches, the channel splits an even `p p C`.
      width: token features inside each transformer (a multiple of `num_heads`).
      depth: transformer blocks per coupling.
      num_heads: attention heads.
      dropout: dropout rate in the transformers while training (0 turns it off).
      num_classes: None, or the number of classes `K`: the one-hot label, through a linear map,
        is added to every token of every transformer (`tfnf.flows.condition`, `FlowModel.fit(x, labels)`).
      context_shape: None, or `(k,)` for a float context vector `[batch, k]`, read the same way.
    """
    patch = transformer_patch_size(flow.event_shape, patch_size, width, num_heads, "jet")
    couplings = []
    for index in range(num_couplings):
        split, pattern, parity = jet_schedule(index)
        couplings.append(JetCoupling(
            flow.event_shape, patch_size=patch, split=split, pattern=pattern, parity=parity, width=width, depth=depth,
            num_heads=num_heads, dropout=dropout, context_size=flow.context_size, dtype=flow.dtype,
            name=f"coupling{index}",
        ))
    return Architecture(tfb.Chain(couplings[::-1], name="jet"), preprocessing="shift", resolved={"patch_size": patch})
