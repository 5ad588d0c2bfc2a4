"""`realnvp`: RealNVP (Dinh et al., 2017) for vectors and multi-scale images."""

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import AffineCoupling, FactorOut, ImageSplineCoupling, Squeeze
from tfnf.bijectors import conditioners
from tfnf.bijectors.image_context_conditioner import image_context_conditioner
from tfnf.bijectors.spline_transformer import RationalQuadraticSplineTransformer
from tfnf.bijectors.transformers import AffineTransformer
from tfnf.flows import argument_checks as check
from tfnf.flows.condition import context_spec, image_context_shape
from tfnf.flows.flow_distribution import make_flow
from tfnf.flows.vector_mixing import mixed_couplings, mixing_config

tfb = tfp.bijectors


# Fourier features of the conditioning part that `fourier_frequencies="auto"` gives low-dimensional vectors.
LOW_DIMENSIONAL_FREQUENCIES = (1.0, 2.0)
LOW_DIMENSIONAL_MAX_SIZE = 4


def resolve_fourier_frequencies(fourier_frequencies, event_shape):
    """The frequencies a vector flow over `event_shape` uses: `"auto"` means
    `LOW_DIMENSIONAL_FREQUENCIES` for `D <= LOW_DIMENSIONAL_MAX_SIZE`, none above;
    otherwise the given sequence (None or empty: none). Returns a tuple of floats."""
    if isinstance(fourier_frequencies, str):
        if fourier_frequencies != "auto":
            raise ValueError(f'fourier_frequencies must be "auto" or a sequence of numbers, got {fourier_frequencies!r}')
        if len(event_shape) == 1 and event_shape[0] <= LOW_DIMENSIONAL_MAX_SIZE:
            return LOW_DIMENSIONAL_FREQUENCIES
        return ()
    try:
        frequencies = tuple(float(w) for w in fourier_frequencies or ())
    except (TypeError, ValueError):
        raise TypeError(
            f'fourier_frequencies must be "auto" or a sequence of numbers, got {fourier_frequencies!r}'
        ) from None
    if not all(w > 0 and w < float("inf") for w in frequencies):
        raise ValueError(f"fourier_frequencies must be positive and finite, got {frequencies}")
    return frequencies


# coupling name -> (coupling class, parameters per transformed element); "spline": image flows only
IMAGE_COUPLINGS = {
    "affine": (AffineCoupling, AffineTransformer.num_params),
    "spline": (ImageSplineCoupling, RationalQuadraticSplineTransformer().num_params),
}


def realnvp_vector(
    event_shape,
    num_couplings,
    hidden_units,
    mask,
    dropout,
    dtype,
    context_size=None,
    fourier_frequencies=(),
    conditioner=None,
    mixing=None,
    seed=None,
):
    """Affine couplings over `(D,)` (reading a context of `context_size`, if set, and
    Fourier features of `fourier_frequencies`, if any), with conditioners from
    `conditioner` (resolved; None: MLPs of `hidden_units`), mixed by `mixing`
    (`tfnf.flows.vector_mixing`; `"lu"` seeded from `seed`).
    """

    def coupling(k, parity):
        return AffineCoupling(
            event_shape,
            mask=mask,
            parity=parity,
            conditioner=conditioners.make_conditioner(
                conditioner,
                event_shape,
                mask,
                parity,
                AffineTransformer.num_params,
                context_size,
                dtype,
                f"coupling{k}_conditioner",
                hidden_units=hidden_units,
                dropout=dropout,
                fourier_frequencies=fourier_frequencies,
            ),
            hidden_units=hidden_units,
            dropout=dropout,
            context_size=context_size,
            fourier_frequencies=fourier_frequencies,
            dtype=dtype,
            name=f"coupling{k}",
        )

    return tfb.Chain(mixed_couplings(coupling, num_couplings, event_shape, mixing, seed, dtype), name="realnvp_vector")


def realnvp_image_level(
    event_shape, level, num_levels, hidden_channels, dropout, dtype, context_size=None, conditioner=None,
    context_image=None,
    coupling_kind="affine",
):
    """One RealNVP scale over `(H, W, C)`, same shape out.

    Data -> latent: 3 checkerboard couplings, squeeze, 3 channel couplings,
    factor out half, next scale on the rest, unsqueeze. The last scale is 4
    checkerboard couplings. With `context_size`, every conditioner also reads
    a context `[batch, context_size]`; `conditioner` (resolved) picks the
    networks (None: Glow's conv net of `hidden_channels`). With `context_image`
    `(h, w, c)` the context is a flattened image, read through an
    `ImageContextConditioner`. `coupling_kind` (a key of `IMAGE_COUPLINGS`)
    picks affine or rational-quadratic spline couplings (8 bins on `[-3, 3]`).
    """
    make = conditioners.make_conditioner if context_image is None else image_context_conditioner
    coupling_cls, num_params = IMAGE_COUPLINGS[coupling_kind]

    def coupling(shape, mask, parity, tag):
        return coupling_cls(
            shape,
            mask=mask,
            parity=parity,
            conditioner=make(
                conditioner,
                shape,
                mask,
                parity,
                num_params,
                context_size if context_image is None else context_image,
                dtype,
                f"level{level}_{tag}_conditioner",
                hidden_channels=hidden_channels,
                dropout=dropout,
            ),
            hidden_channels=hidden_channels,
            dropout=dropout,
            context_size=context_size,
            dtype=dtype,
            name=f"level{level}_{tag}",
        )

    if level == num_levels - 1:
        return tfb.Chain(
            [coupling(event_shape, "checkerboard", k % 2, f"checker{k}") for k in range(4)], name=f"realnvp_level{level}"
        )
    parts = [coupling(event_shape, "checkerboard", k % 2, f"checker{k}") for k in range(3)]
    squeeze = Squeeze(event_shape, dtype=dtype, name=f"level{level}_squeeze")
    inner_shape = squeeze.squeezed_shape
    parts.append(tfb.Invert(squeeze))
    parts += [coupling(inner_shape, "channel", k % 2, f"channel{k}") for k in range(3)]
    kept = inner_shape[-1] // 2
    next_level = realnvp_image_level(
        inner_shape[:-1] + (kept,), level + 1, num_levels, hidden_channels, dropout, dtype, context_size, conditioner,
        context_image, coupling_kind,
    )
    parts.append(FactorOut(inner_shape, next_level, num_kept=kept, dtype=dtype, name=f"level{level}_factor_out"))
    parts.append(Squeeze(event_shape, dtype=dtype, name=f"level{level}_unsqueeze"))
    return tfb.Chain(parts, name=f"realnvp_level{level}")


def default_num_levels(event_shape, most=3):
    """As many scales as halving height and width allows, at most `most`."""
    h, w = event_shape[:2]
    levels = 1
    while levels < most and h % 2 ** levels == 0 and w % 2 ** levels == 0:
        levels += 1
    return levels


def realnvp(
    event_shape,
    num_couplings=8,
    hidden_units=(64, 64),
    mask="half",
    num_levels=None,
    hidden_channels=64,
    dropout=0.0,
    num_classes=None,
    context_shape=None,
    fourier_frequencies="auto",
    conditioner=None,
    mixing=None,
    seed=None,
    dtype=tf.float32,
    name="realnvp",
    coupling="affine",
):
    """RealNVP; returns a `tfd.TransformedDistribution` over N(0, I).

    Vectors `x: [batch, D]`: `num_couplings` affine couplings with alternating
    masks (`mask="half"` or `"alternate"`) and MLP conditioners
    (`hidden_units`); continuous data as is. For low-dimensional vectors
    (`D <= 4`) the conditioners read Fourier features `sin(w x)`, `cos(w x)`,
    `w in (1, 2)`, of their input besides `x` itself (`fourier_frequencies`),
    which for 2-D densities such as a mixture of Gaussians lowers KL(p||q)
    markedly at the same training budget; data of order-1 scale is assumed.

    Images `x: [batch, H, W, C]`: the multi-scale architecture of the paper
    with `num_levels` scales (default: as many as `H`, `W` allow, at most 3;
    levels other than the last halve `H` and `W`), conv conditioners of width
    `hidden_channels`. Works on data in `[0, 1]` through a logit
    (`tfnf.FlowModel` applies it).

    Args:
      event_shape: `(D,)` or `(H, W, C)`.
      num_couplings, hidden_units, mask: vector flows only.
      num_levels, hidden_channels: image flows only.
      dropout: dropout rate in the conditioners (training only).
      num_classes: a class-conditional flow over `K` classes: every
        conditioner also reads the one-hot label `[batch, K]`.
      context_shape: `(k,)`: a flow conditioned on a vector `[batch, k]` read
        by every conditioner; or, for image flows, `(h, w, c)`: a flow
        conditioned on a float image `[batch, h, w, c]` (a low-resolution
        version of the data, a feature map). Each conditioner then owns a
        small encoder (`tfnf.bijectors.ImageContextConditioner`): the context,
        bilinearly resized to its coupling's height and width, through a
        conv3x3 + ReLU of 16 channels, concatenated to its input channels.
        At most one of `num_classes`, `context_shape`; condition with
        `tfnf.flows.condition(flow, context)`.
      fourier_frequencies: vector flows only: `"auto"` (`(1, 2)` for
        `D <= 4`, none above), or the angular frequencies of the Fourier
        features the conditioners read (empty or None: raw `x` only).
      conditioner: the coupling networks: None (MLPs for vectors, conv nets
        for images), a name (`"mlp"`, `"residual_mlp"` for vectors; `"conv"`,
        `"gated_resnet"` for images), a factory from
        `tfnf.bijectors.conditioners` or its config dict, or a custom callable
        (see `tfnf.bijectors.conditioners`; a flow built with a callable
        cannot be serialised).
      mixing: vector flows only: None (couplings alternate halves), `"lu"` (a
        learned `LULinear` between couplings) or `"reverse"` (a fixed
        reversal between couplings).
      seed: seed of the `"lu"` mixings' random-rotation initialisation.
      dtype: float32 (default) or float64.
      name: distribution name.
      coupling: image flows only: `"affine"` (default) or `"spline"`:
        rational-quadratic spline couplings (`ImageSplineCoupling`, 8 bins on
        `[-3, 3]`, which holds the logit-preprocessed pixels) with the same
        masks and conv conditioners; for spline couplings on vectors use `nsf`.

    Raises:
      TypeError, ValueError: an argument of the wrong kind or out of range
        (the message names it), including the arguments of the other kind
        of flow (`hidden_channels` of a vector flow, say).
    """
    event_shape = check.event_shape_tuple("event_shape", event_shape)
    num_couplings = check.positive_int("num_couplings", num_couplings)
    hidden_units = check.hidden_units_tuple("hidden_units", hidden_units)
    num_levels = check.optional_positive_int("num_levels", num_levels)
    hidden_channels = check.positive_int("hidden_channels", hidden_channels)
    dropout = check.probability("dropout", dropout)
    dtype = check.float_dtype("dtype", dtype)
    seed = check.optional_seed("seed", seed)
    context, context_size = context_spec(
        num_classes=num_classes, context_shape=context_shape, image_context=len(event_shape) == 3
    )
    conditioner = conditioners.resolve(conditioner)
    mixing_options = mixing_config(mixing, seed)
    config = dict(
        event_shape=event_shape,
        num_couplings=num_couplings,
        hidden_units=hidden_units,
        mask=mask,
        num_levels=num_levels,
        hidden_channels=hidden_channels,
        dropout=dropout,
        name=name,
    )
    if context is not None:
        config.update(context)
    if conditioner is not None:  # recorded only when set: configurations saved before it rebuild as they were
        config["conditioner"] = conditioners.describe(conditioner)
    config.update(mixing_options)
    if not isinstance(coupling, str) or coupling not in IMAGE_COUPLINGS:
        raise ValueError(f"coupling must be one of {sorted(IMAGE_COUPLINGS)}, got {coupling!r}")
    if coupling != "affine":  # recorded only when set: configurations saved before it rebuild as they were
        if len(event_shape) == 1:
            raise ValueError(f"coupling={coupling!r} applies to image flows only; for spline couplings on vectors use nsf")
        config["coupling"] = coupling
    if len(event_shape) == 1:
        frequencies = resolve_fourier_frequencies(fourier_frequencies, event_shape)
        config["fourier_frequencies"] = frequencies  # resolved, so a saved model rebuilds the same network
        bijector = realnvp_vector(
            event_shape, num_couplings, hidden_units, mask, dropout, dtype, context_size, frequencies,
            conditioner, mixing, seed,
        )
        return make_flow(bijector, event_shape, dtype, "realnvp", config, None, name, context=context)
    if len(event_shape) != 3:
        raise ValueError(f"realnvp takes vectors (D,) or images (H, W, C), got event_shape={event_shape}")
    if resolve_fourier_frequencies(fourier_frequencies, event_shape):
        raise ValueError("fourier_frequencies applies to vector flows only; image flows use conv conditioners")
    if mixing is not None:
        raise ValueError(f"mixing applies to vector flows only (image flows mix with squeezes and masks), got mixing={mixing!r}")
    levels = default_num_levels(event_shape) if num_levels is None else num_levels
    factor = 2 ** (levels - 1)
    if event_shape[0] % factor or event_shape[1] % factor:
        raise ValueError(
            f"realnvp with num_levels={levels} needs height and width divisible by {factor}, got event_shape={event_shape}"
        )
    config["num_levels"] = levels
    bijector = realnvp_image_level(
        event_shape, 0, levels, hidden_channels, dropout, dtype, context_size, conditioner, image_context_shape(context),
        coupling,
    )
    return make_flow(bijector, event_shape, dtype, "realnvp", config, "logit", name, context=context)
