"""`glow`: the multi-scale Glow flow (Kingma & Dhariwal, 2018) for images."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import ActNorm, AdditiveCoupling, AffineCoupling, FactorOut, Invertible1x1Conv, Squeeze
from tfnf.bijectors import conditioners
from tfnf.bijectors.image_context_conditioner import image_context_conditioner
from tfnf.bijectors.transformers import AdditiveTransformer, AffineTransformer
from tfnf.flows import argument_checks as check
from tfnf.flows.condition import context_spec, image_context_shape
from tfnf.flows.flow_distribution import make_flow

GLOW_DROPOUT = 0.3  # default dropout of the coupling nets while training

tfb = tfp.bijectors

COUPLINGS = {"affine": AffineCoupling, "additive": AdditiveCoupling}
COUPLING_NUM_PARAMS = {"affine": AffineTransformer.num_params, "additive": AdditiveTransformer.num_params}


def glow_step(
    event_shape, index, hidden_channels, coupling, dropout, seed, dtype, name, context_size=None, conditioner=None,
    context_image=None,
):
    """One Glow step over `event_shape` `(H, W, C)`: ActNorm, 1x1 conv, coupling.

    Listed data -> latent; as a `tfb.Chain` the forward (latent -> data) runs
    coupling, 1x1 conv, ActNorm. With `context_size`, the coupling's conditioner
    also reads a context `[batch, context_size]`; `conditioner` (resolved)
    picks the network (None: the conv net of `hidden_channels`). With
    `context_image` `(h, w, c)` that context is a flattened image, read through
    an `ImageContextConditioner`.
    """
    coupling_cls = COUPLINGS[coupling]
    parity = index % 2
    make = conditioners.make_conditioner if context_image is None else image_context_conditioner
    network = make(
        conditioner,
        event_shape,
        "channel",
        parity,
        COUPLING_NUM_PARAMS[coupling],
        context_size if context_image is None else context_image,
        dtype,
        f"{name}_conditioner",
        hidden_channels=hidden_channels,
        dropout=dropout,
    )
    return tfb.Chain(
        [
            ActNorm(event_shape, dtype=dtype, name=f"{name}_actnorm"),
            Invertible1x1Conv(
                event_shape, seed=None if seed is None else seed + index, dtype=dtype, name=f"{name}_1x1conv"
            ),
            coupling_cls(
                event_shape,
                mask="channel",
                parity=parity,
                conditioner=network,
                hidden_channels=hidden_channels,
                dropout=dropout,
                context_size=context_size,
                dtype=dtype,
                name=f"{name}_coupling",
            ),
        ],
        name=name,
    )


def glow_level(
    event_shape,
    level,
    num_levels,
    num_steps,
    hidden_channels,
    coupling,
    dropout,
    seed,
    dtype,
    context_size=None,
    conditioner=None,
    context_image=None,
):
    """Level `level` of Glow over its input `(H, W, C)`, same shape out.

    Data -> latent: squeeze to `(H/2, W/2, 4C)`, `num_steps` steps, then (except
    on the last level) a learned prior for the factored half given the kept half
    (and the context, with `context_size`) and the next level on the kept half;
    unsqueeze back to `(H, W, C)`.
    """
    h, w, c = event_shape
    squeeze = Squeeze(event_shape, dtype=dtype, name=f"level{level}_squeeze")
    inner_shape = squeeze.squeezed_shape
    parts = [tfb.Invert(squeeze)]
    for k in range(num_steps):
        parts.append(
            glow_step(
                inner_shape,
                k,
                hidden_channels,
                coupling,
                dropout,
                None if seed is None else seed + 1000 * level,
                dtype,
                f"level{level}_step{k}",
                context_size,
                conditioner,
                context_image,
            )
        )
    if level < num_levels - 1:
        kept = inner_shape[-1] // 2
        prior_network = None
        if context_image is not None:
            prior_network = image_context_conditioner(
                None, inner_shape, "channel", 0, AffineTransformer.num_params, context_image, dtype,
                f"level{level}_prior_conditioner", hidden_channels=None, dropout=0.0,
            )
        parts.append(
            AffineCoupling(
                inner_shape,
                mask="channel",
                parity=0,
                conditioner=prior_network,
                hidden_channels=None,
                context_size=context_size,
                dtype=dtype,
                name=f"level{level}_prior",
            )
        )
        next_level = glow_level(
            inner_shape[:-1] + (kept,),
            level + 1,
            num_levels,
            num_steps,
            hidden_channels,
            coupling,
            dropout,
            seed,
            dtype,
            context_size,
            conditioner,
            context_image,
        )
        parts.append(FactorOut(inner_shape, next_level, num_kept=kept, dtype=dtype, name=f"level{level}_factor_out"))
    parts.append(Squeeze(event_shape, dtype=dtype, name=f"level{level}_unsqueeze"))
    return tfb.Chain(parts, name=f"glow_level{level}")


def glow(
    event_shape,
    num_levels=3,
    num_steps=8,
    hidden_channels=256,
    coupling="affine",
    dropout=GLOW_DROPOUT,
    seed=None,
    num_classes=None,
    conditioner=None,
    dtype=tf.float32,
    name="glow",
    context_shape=None,
):
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
        owns a small encoder (`tfnf.bijectors.ImageContextConditioner`): the
        context, bilinearly resized to that level's (squeezed) height and
        width, through a conv3x3 + ReLU of 16 channels, concatenated to the
        network's input channels. At most one of `num_classes`,
        `context_shape`; condition with `tfnf.flows.condition(flow, context)`
        or `FlowModel(...).fit(x, context)`.
      conditioner: the coupling networks: None or `"conv"` (Glow's conv net),
        `"gated_resnet"` (a gated residual conv net), a factory from
        `tfnf.bijectors.conditioners` or its config dict, or a custom callable
        (a flow built with one cannot be serialised). The learned priors of
        the factored-out halves stay single zero-initialised convolutions.
      dtype: float32 (default) or float64.
      name: distribution name.

    Raises:
      TypeError, ValueError: an argument of the wrong kind or out of range
        (the message names it).
    """
    event_shape = check.event_shape_tuple("event_shape", event_shape, min_rank=3, max_rank=3)
    num_levels = check.positive_int("num_levels", num_levels)
    num_steps = check.positive_int("num_steps", num_steps)
    hidden_channels = check.positive_int("hidden_channels", hidden_channels)
    if coupling not in COUPLINGS:
        raise ValueError(f"coupling must be one of {sorted(COUPLINGS)}, got {coupling!r}")
    dropout = check.probability("dropout", dropout)
    seed = check.optional_seed("seed", seed)
    dtype = check.float_dtype("dtype", dtype)
    context, context_size = context_spec(num_classes=num_classes, context_shape=context_shape, image_context=True)
    context_image = image_context_shape(context)
    conditioner = conditioners.resolve(conditioner)
    if isinstance(conditioner, conditioners.ConditionerFactory):
        conditioner.check_event(event_shape)
    factor = 2**num_levels
    if event_shape[0] % factor or event_shape[1] % factor:
        raise ValueError(
            f"glow with num_levels={num_levels} needs height and width divisible by {factor}, got event_shape={event_shape}"
        )
    config = dict(
        event_shape=event_shape,
        num_levels=num_levels,
        num_steps=num_steps,
        hidden_channels=hidden_channels,
        coupling=coupling,
        dropout=dropout,
        seed=seed,
        name=name,
    )
    if context is not None:
        config.update(context)
    if conditioner is not None:  # recorded only when set: configurations saved before it rebuild as they were
        config["conditioner"] = conditioners.describe(conditioner)
    bijector = glow_level(
        event_shape, 0, num_levels, num_steps, hidden_channels, coupling, dropout, seed, dtype, context_size, conditioner,
        context_image,
    )
    return make_flow(bijector, event_shape, dtype, "glow", config, "shift", name, context=context)
