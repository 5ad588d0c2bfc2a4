"""`tarflow`: TarFlow (Zhai et al., 2024), autoregressive affine flows over image patches with causal transformers."""

from __future__ import annotations

import tensorflow_probability as tfp

from tfnf.bijectors.patch_autoregressive import PatchAutoregressive
from tfnf.bijectors.patches import transformer_patch_size
from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder

tfb = tfp.bijectors


@flow_builder("tarflow", takes_conditioner=False)
def tarflow(
    flow: FlowSetting, num_blocks: int = 4, patch_size: int | None = None, width: int = 64, depth: int = 2,
    num_heads: int = 4, dropout: float = 0.1,
) -> Architecture:
    """TarFlow over images `x: [batch, H, W, C]`; returns a `tfd.TransformedDistribution`.

    `num_blocks` `PatchAutoregressive` blocks over the image cut into
    `patch_size` squares, read as a sequence of patches: in each block patch
    `t` gets a shift and log-scale from a `CausalTransformer` over the patches
    before it, and every other block reverses the order of the patches. The
    density (data -> latent) is one parallel pass per block; sampling
    (latent -> data) runs `T` transformer passes per block, `T` the number of
    patches (one `tf.while_loop` each, which compiles with XLA). The base is
    `N(0, I)`; the flow works on data in `[-0.5, 0.5]`.

    The defaults suit 8x8 digits (16 patches of 2x2) and scale to 32x32x3 (64
    patches of 4x4x3, so 64 passes per block to sample); for larger images
    raise `width` (e.g. 256 with `num_heads=8`) and `depth`.

    Args:
      event_shape: `(H, W, C)`.
      num_blocks: number of autoregressive blocks.
      patch_size: side of the square patches, dividing `H` and `W` (None: the smallest giving at
        most 64 patches of at least 2 values, `tfnf.bijectors.patches.default_patch_size`).
      width: token features inside each transformer (a multiple of `num_heads`).
      depth: transformer blocks per autoregressive block.
      num_heads: attention heads.
      dropout: dropout rate in the transformers while training (density direction only; 0 turns it off).
      num_classes: None, or the number of classes `K`: the one-hot label, through a linear map,
        is added to every token of every transformer (`tfnf.flows.condition`, `FlowModel.fit(x, labels)`).
      context_shape: None, or `(k,)` for a float context vector `[batch, k]`, read the same way.
    """
    patch = transformer_patch_size(flow.event_shape, patch_size, width, num_heads, "tarflow")
    blocks = [
        PatchAutoregressive(
            flow.event_shape, patch_size=patch, reverse=bool(index % 2), width=width, depth=depth, num_heads=num_heads,
            dropout=dropout, context_size=flow.context_size, dtype=flow.dtype, name=f"block{index}",
        )
        for index in range(num_blocks)
    ]
    return Architecture(tfb.Chain(blocks[::-1], name="tarflow"), preprocessing="shift", resolved={"patch_size": patch})
