"""`glow`: the multi-scale Glow flow (Kingma & Dhariwal, 2018) for images."""

from __future__ import annotations

import tensorflow_probability as tfp

from tfnf.bijectors import ActNorm, AdditiveCoupling, AffineCoupling, FactorOut, Invertible1x1Conv, MemorySavingChain, Squeeze
from tfnf.bijectors import coupling_network
from tfnf.bijectors.transformers import AdditiveTransformer, AffineTransformer
from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder

GLOW_DROPOUT = 0.3  # default dropout of the coupling nets while training

tfb = tfp.bijectors

# coupling name -> (coupling class, parameters per transformed element)
COUPLINGS = {
    "affine": (AffineCoupling, AffineTransformer.num_params),
    "additive": (AdditiveCoupling, AdditiveTransformer.num_params),
}


def glow_step(flow, event_shape, index, hidden_channels, coupling, dropout, seed, name):
    """One Glow step over `event_shape` `(H, W, C)`: ActNorm, 1x1 conv, coupling.

    Listed data -> latent; as a `tfb.Chain` the forward (latent -> data) runs
    coupling, 1x1 conv, ActNorm. The coupling's network comes from the flow's
    conditioner (None: the conv net of `hidden_channels`) and reads its
    context, if any (an image context through an `ImageContextConditioner`).
    """
    coupling_cls, num_params = COUPLINGS[coupling]
    parity = index % 2
    network = coupling_network(
        flow.conditioner, event_shape, "channel", parity, num_params, flow.context_size, flow.dtype,
        f"{name}_conditioner", context_image=flow.context_image, hidden_channels=hidden_channels, dropout=dropout,
    )
    return tfb.Chain([
        ActNorm(event_shape, dtype=flow.dtype, name=f"{name}_actnorm"),
        Invertible1x1Conv(
            event_shape, seed=None if seed is None else seed + index, dtype=flow.dtype, name=f"{name}_1x1conv"
        ),
        coupling_cls(
            event_shape, mask="channel", parity=parity, conditioner=network, hidden_channels=hidden_channels,
            dropout=dropout, context_size=flow.context_size, dtype=flow.dtype, name=f"{name}_coupling",
        ),
    ], name=name)


def glow_level(flow, event_shape, level, num_levels, num_steps, hidden_channels, coupling, dropout, seed, memory_saving):
    """Level `level` of Glow over its input `(H, W, C)`, same shape out.

    Data -> latent: squeeze to `(H/2, W/2, 4C)`, `num_steps` steps (one
    `MemorySavingChain` with `memory_saving`), then (except
    on the last level) a learned prior for the factored half given the kept half
    (and the context, if any) and the next level on the kept half;
    unsqueeze back to `(H, W, C)`.
    """
    squeeze = Squeeze(event_shape, dtype=flow.dtype, name=f"level{level}_squeeze")
    inner_shape = squeeze.squeezed_shape
    step_seed = None if seed is None else seed + 1000 * level
    steps = [
        glow_step(flow, inner_shape, k, hidden_channels, coupling, dropout, step_seed, f"level{level}_step{k}")
        for k in range(num_steps)
    ]
    if memory_saving:
        steps = [MemorySavingChain(steps, inner_shape, dtype=flow.dtype, name=f"level{level}_steps")]
    parts = [tfb.Invert(squeeze)] + steps
    if level < num_levels - 1:
        kept = inner_shape[-1] // 2
        prior_network = coupling_network(  # None without an image context: the coupling's single zero conv
            None, inner_shape, "channel", 0, AffineTransformer.num_params, None, flow.dtype,
            f"level{level}_prior_conditioner", context_image=flow.context_image, hidden_channels=None, dropout=0.0,
        )
        parts.append(AffineCoupling(
            inner_shape, mask="channel", parity=0, conditioner=prior_network, hidden_channels=None,
            context_size=flow.context_size, dtype=flow.dtype, name=f"level{level}_prior",
        ))
        next_level = glow_level(
            flow, inner_shape[:-1] + (kept,), level + 1, num_levels, num_steps, hidden_channels, coupling, dropout, seed,
            memory_saving,
        )
        factor_out = FactorOut(inner_shape, next_level, num_kept=kept, dtype=flow.dtype, name=f"level{level}_factor_out")
        parts.append(factor_out)
    parts.append(Squeeze(event_shape, dtype=flow.dtype, name=f"level{level}_unsqueeze"))
    return tfb.Chain(parts, name=f"glow_level{level}")


@flow_builder("glow", recorded_when_set=("memory_saving",), choices={"coupling": tuple(COUPLINGS)}, image_context=True)
def glow(
    flow: FlowSetting, num_levels: int = 3, num_steps: int = 8, hidden_channels: int = 256, coupling: str = "affine",
    dropout: float = GLOW_DROPOUT, seed: int | None = None, memory_saving: bool = False,
) -> Architecture:
    """Glow over images `x: [batch, H, W, C]`; returns a `tfd.TransformedDistribution`.

    Each of `num_levels` levels squeezes, applies `num_steps` steps of
    [ActNorm, invertible 1x1 conv, coupling] and factors out half of the
    channels (with a learned conditional prior) before the next level. The base
    is `N(0, I)` over `event_shape`. The flow works on data in `[-0.5, 0.5]`
    (`tfnf.FlowModel` maps pixels there).

    Args:
      event_shape: `(H, W, C)`; `H` and `W` divisible by `2**num_levels`.
      num_levels: number of squeeze levels.
      num_steps: steps per level.
      hidden_channels: width of the coupling conv nets.
      coupling: `"affine"` or `"additive"`.
      dropout: dropout rate in the coupling nets while training (default
        0.3: without it a Glow overfits small image sets such as digits within
        a few hundred steps; `benchmarks/digits_bits_per_dim.py`). 0 turns it off.
      seed: seed of the 1x1 convolutions' random-rotation initialisation.
      memory_saving: False (default), or True to train with activation
        memory that does not grow with `num_steps` (the traced graph of the
        train step still does): each level's steps form one
        `tfnf.bijectors.MemorySavingChain`, whose gradient recomputes every
        step's activations from its output instead of storing them (about
        one more pass of the coupling networks per step; the gradient is
        taken at inputs recomputed in the flow's dtype, equal to the stored
        ones up to float round-off). Same density, same parameters; saved
        and reloaded models keep it.
      num_classes: None (unconditional), or the number of classes `K` of a
        class-conditional Glow: the one-hot label `[batch, K]` is an extra
        input of every coupling conditioner and of every learned prior.
        Condition with `tfnf.flows.condition(flow, labels)` (or
        `FlowModel(...).fit(x, labels)`).
      context_shape: None, `(k,)` for a Glow conditioned on a float vector
        `[batch, k]` (read as `k` constant extra channels, like a one-hot
        label), or `(h, w, c)` for a Glow conditioned on a float image
        `[batch, h, w, c]`, e.g. the low-resolution version of the data
        (super-resolution). Each coupling conditioner and learned prior then
        owns a small encoder (`tfnf.nets.ImageContextConditioner`): the
        context, bilinearly resized to that level's (squeezed) height and
        width, through a conv3x3 + ReLU of 16 channels, concatenated to the
        network's input channels. At most one of `num_classes`,
        `context_shape`; condition with `tfnf.flows.condition(flow, context)`
        or `FlowModel(...).fit(x, context)`.
      conditioner: the coupling networks: None or `"conv"` (Glow's conv net),
        `"gated_resnet"` (a gated residual conv net), a factory from
        `tfnf.nets.conditioners` or its config dict, or a custom callable
        (a flow built with one cannot be serialised). The learned priors of
        the factored-out halves stay single zero-initialised convolutions.
    """
    factor = 2**num_levels
    if flow.event_shape[0] % factor or flow.event_shape[1] % factor:
        raise ValueError(
            f"glow with num_levels={num_levels} needs height and width divisible by {factor}, "
            f"got event_shape={flow.event_shape}"
        )
    bijector = glow_level(
        flow, flow.event_shape, 0, num_levels, num_steps, hidden_channels, coupling, dropout, seed, memory_saving
    )
    return Architecture(bijector, preprocessing="shift")
