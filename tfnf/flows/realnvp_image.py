"""`realnvp_image`: RealNVP's multi-scale architecture for images (Dinh et al., 2017)."""

import tensorflow_probability as tfp

from tfnf.bijectors import AffineCoupling, FactorOut, ImageSplineCoupling, MemorySavingChain, Squeeze, coupling_network
from tfnf.bijectors.spline_transformer import RationalQuadraticSplineTransformer
from tfnf.bijectors.transformers import AffineTransformer
from tfnf.flows.flow_builder import Architecture

tfb = tfp.bijectors

# coupling name -> (coupling class, parameters per transformed element)
IMAGE_COUPLINGS = {
    "affine": (AffineCoupling, AffineTransformer.num_params),
    "spline": (ImageSplineCoupling, RationalQuadraticSplineTransformer().num_params),
}


def default_num_levels(event_shape, most=3):
    """As many scales as halving height and width allows, at most `most`."""
    h, w = event_shape[:2]
    levels = 1
    while levels < most and h % 2 ** levels == 0 and w % 2 ** levels == 0:
        levels += 1
    return levels


def realnvp_image_level(
    flow, event_shape, level, num_levels, hidden_channels, dropout, coupling_kind="affine", memory_saving=False
):
    """One RealNVP scale over `(H, W, C)`, same shape out.

    Data -> latent: 3 checkerboard couplings, squeeze, 3 channel couplings,
    factor out half, next scale on the rest, unsqueeze. The last scale is 4
    checkerboard couplings. Every conditioner comes from the flow's conditioner
    (None: Glow's conv net of `hidden_channels`) and reads its context, if any
    (an image context through an `ImageContextConditioner`). `coupling_kind`
    (a key of `IMAGE_COUPLINGS`) picks affine or rational-quadratic spline
    couplings (8 bins on `[-3, 3]`). With `memory_saving` the checkerboard
    couplings, and the channel couplings, of the scale each form one
    `MemorySavingChain`.
    """
    coupling_cls, num_params = IMAGE_COUPLINGS[coupling_kind]

    def coupling(shape, mask, parity, tag):
        network = coupling_network(
            flow.conditioner, shape, mask, parity, num_params, flow.context_size, flow.dtype,
            f"level{level}_{tag}_conditioner", context_image=flow.context_image, hidden_channels=hidden_channels,
            dropout=dropout,
        )
        return coupling_cls(
            shape, mask=mask, parity=parity, conditioner=network, hidden_channels=hidden_channels, dropout=dropout,
            context_size=flow.context_size, dtype=flow.dtype, name=f"level{level}_{tag}",
        )

    def chain(steps, shape, tag):
        if not memory_saving:
            return steps
        return [MemorySavingChain(steps, shape, dtype=flow.dtype, name=f"level{level}_{tag}")]

    checkers = 4 if level == num_levels - 1 else 3
    parts = chain([coupling(event_shape, "checkerboard", k % 2, f"checker{k}") for k in range(checkers)], event_shape, "checkers")
    if level == num_levels - 1:
        return tfb.Chain(parts, name=f"realnvp_level{level}")
    squeeze = Squeeze(event_shape, dtype=flow.dtype, name=f"level{level}_squeeze")
    inner_shape = squeeze.squeezed_shape
    parts.append(tfb.Invert(squeeze))
    parts += chain([coupling(inner_shape, "channel", k % 2, f"channel{k}") for k in range(3)], inner_shape, "channels")
    kept = inner_shape[-1] // 2
    next_level = realnvp_image_level(
        flow, inner_shape[:-1] + (kept,), level + 1, num_levels, hidden_channels, dropout, coupling_kind, memory_saving
    )
    parts.append(FactorOut(inner_shape, next_level, num_kept=kept, dtype=flow.dtype, name=f"level{level}_factor_out"))
    parts.append(Squeeze(event_shape, dtype=flow.dtype, name=f"level{level}_unsqueeze"))
    return tfb.Chain(parts, name=f"realnvp_level{level}")


def realnvp_image(flow, num_levels, hidden_channels, dropout, has_fourier_features, mixing, coupling, memory_saving=False):
    """The multi-scale flow over `(H, W, C)` with `num_levels` scales (None: `default_num_levels`);
    data in `[0, 1]` through a logit; `memory_saving`: see `realnvp`. Vector-only options
    (`has_fourier_features`, `mixing`) are refused."""
    if has_fourier_features:
        raise ValueError("fourier_frequencies applies to vector flows only; image flows use conv conditioners")
    if mixing is not None:
        raise ValueError(
            f"mixing applies to vector flows only (image flows mix with squeezes and masks), got mixing={mixing!r}"
        )
    levels = default_num_levels(flow.event_shape) if num_levels is None else num_levels
    factor = 2 ** (levels - 1)
    if flow.event_shape[0] % factor or flow.event_shape[1] % factor:
        raise ValueError(
            f"realnvp with num_levels={levels} needs height and width divisible by {factor}, "
            f"got event_shape={flow.event_shape}"
        )
    bijector = realnvp_image_level(flow, flow.event_shape, 0, levels, hidden_channels, dropout, coupling, memory_saving)
    return Architecture(
        bijector, preprocessing="logit", resolved={"num_levels": levels}, unused=("fourier_frequencies",)
    )
