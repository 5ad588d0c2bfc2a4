"""`realnvp`: RealNVP (Dinh et al., 2017) for vectors and multi-scale images."""

from __future__ import annotations

import inspect
from typing import Sequence

from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder
from tfnf.flows.realnvp_image import IMAGE_COUPLINGS, realnvp_image
from tfnf.flows.realnvp_vector import realnvp_vector, resolve_fourier_frequencies


@flow_builder(
    "realnvp", recorded_when_set=("fourier_frequencies", "mixing", "seed", "coupling", "memory_saving", "actnorm"),
    choices={"coupling": tuple(IMAGE_COUPLINGS)}, image_context=True,
)
def realnvp(
    flow: FlowSetting, num_couplings: int = 8, hidden_units: Sequence[int] | None = None, mask: str = "half",
    num_levels: int | None = None, hidden_channels: int = 64, dropout: float = 0.0,
    fourier_frequencies: str | Sequence[float] | None = "auto", mixing: str | None = None, seed: int | None = None,
    coupling: str = "affine", memory_saving: bool = False, actnorm: bool | None = None,
) -> Architecture:
    """RealNVP; returns a `tfd.TransformedDistribution` over N(0, I).

    Vectors `x: [batch, D]`: `num_couplings` affine couplings with alternating
    masks (`mask="half"` or `"alternate"`) and MLP conditioners
    (`hidden_units`); continuous data as is. For low-dimensional vectors
    (`D <= 4`) the conditioners read Fourier features `sin(w x)`, `cos(w x)`,
    `w in (1, 2)`, of their input besides `x` itself (`fourier_frequencies`),
    which for 2-D densities such as a mixture of Gaussians lowers KL(p||q)
    markedly at the same training budget.

    Vector defaults that follow the data (`tfnf.flows.vector_defaults`): the
    conditioners are two layers of `clip(4 D, 64, 512)` units (rounded up to
    a multiple of 32: 64 up to `D = 16`, 256 for `D = 63`), and a data-side
    `ActNorm`, which `tfnf.FlowModel` initialises from the first training
    examples, standardises each element before the first coupling, so the
    Fourier features and the bounded log-scales work at unit scale whatever
    the data's (natural-image patches have a standard deviation near 0.08).

    Images `x: [batch, H, W, C]`: the multi-scale architecture of the paper
    with `num_levels` scales (default: as many as `H`, `W` allow, at most 3;
    levels other than the last halve `H` and `W`), conv conditioners of width
    `hidden_channels`. Works on data in `[0, 1]` through a logit
    (`tfnf.FlowModel` applies it).

    Args:
      event_shape: `(D,)` or `(H, W, C)`.
      num_couplings, hidden_units, mask: vector flows only (`hidden_units`
        None: two layers of `clip(4 D, 64, 512)` units, recorded as such).
      num_levels, hidden_channels: image flows only.
      dropout: dropout rate in the conditioners (training only).
      num_classes: a class-conditional flow over `K` classes: every
        conditioner also reads the one-hot label `[batch, K]`.
      context_shape: `(k,)`: a flow conditioned on a vector `[batch, k]` read
        by every conditioner; or, for image flows, `(h, w, c)`: a flow
        conditioned on a float image `[batch, h, w, c]` (a low-resolution
        version of the data, a feature map). Each conditioner then owns a
        small encoder (`tfnf.nets.ImageContextConditioner`): the context,
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
        `tfnf.nets.conditioners` or its config dict, or a custom callable
        (see `tfnf.nets.conditioners`; a flow built with a callable
        cannot be serialised).
      mixing: vector flows only: None (couplings alternate halves), `"lu"` (a
        learned `LULinear` between couplings) or `"reverse"` (a fixed
        reversal between couplings).
      seed: seed of the `"lu"` mixings' random-rotation initialisation.
      coupling: image flows only: `"affine"` (default) or `"spline"`:
        rational-quadratic spline couplings (`ImageSplineCoupling`, 8 bins on
        `[-3, 3]`, which holds the logit-preprocessed pixels) with the same
        masks and conv conditioners; for spline couplings on vectors use `nsf`.
      memory_saving: image flows only: True trains each scale's checkerboard
        couplings and its channel couplings as `tfnf.bijectors.MemorySavingChain`s,
        whose gradient recomputes activations from outputs instead of storing
        them (about one more network pass per coupling; see `glow`). Vector
        flows refuse it.
      actnorm: vector flows only: a data-side `ActNorm` (per element
        `x = z * exp(s) + m`, initialised by `FlowModel` to standardise the
        data, then trained); None (default): for vectors of `D > 16`
        (`vector_defaults.ACTNORM_ABOVE`); True: for any vector; False: the
        first coupling reads the data as they are. Image flows take their
        data through a logit instead (`actnorm=True` is refused). A flow used
        without `FlowModel` starts with it as the identity
        (`tfnf.bijectors.initialize_actnorms` sets it from a batch).

    Raises:
      TypeError, ValueError: an argument of the wrong kind or out of range
        (the message names it), including the arguments of the other kind
        of flow (`hidden_channels` of a vector flow, say).
    """
    if len(flow.event_shape) == 1:
        _refuse_other_kind("image", num_levels=num_levels, hidden_channels=hidden_channels)
        if memory_saving:
            raise ValueError("memory_saving applies to image realnvp flows (event_shape (H, W, C)) only")
        return realnvp_vector(
            flow, num_couplings, hidden_units, mask, dropout, fourier_frequencies, mixing, seed, coupling,
            actnorm,
        )
    if actnorm:
        raise ValueError("actnorm applies to vector flows only; image flows take their data through a logit")
    # an image flow's configuration records hidden_units as (64, 64) (see below): read back, it is no request
    recorded_units = None if hidden_units is None or tuple(hidden_units) == (64, 64) else hidden_units
    _refuse_other_kind("vector", num_couplings=num_couplings, mask=mask, hidden_units=recorded_units)
    has_fourier_features = bool(resolve_fourier_frequencies(fourier_frequencies, flow.event_shape))
    made = realnvp_image(flow, num_levels, hidden_channels, dropout, has_fourier_features, mixing, coupling, memory_saving)
    # image flows read no hidden_units: recorded as the vector default of small D, as before it followed D
    made.resolved.setdefault("hidden_units", (64, 64) if hidden_units is None else hidden_units)
    made.unused = (*made.unused, "actnorm")
    return made


_KIND_ARGUMENTS = {"vector": "num_couplings, hidden_units and mask", "image": "num_levels and hidden_channels"}


def _refuse_other_kind(kind, **given):
    """`ValueError` for an argument of `kind` (`"vector"` or `"image"`) flows, given to the other
    kind, with a value other than its default (the builder's signature holds the defaults)."""
    defaults = {name: parameter.default for name, parameter in inspect.signature(realnvp).parameters.items()}
    other = "image" if kind == "vector" else "vector"
    for name, value in given.items():
        if value != defaults[name]:
            raise ValueError(
                f"realnvp: {name} applies to {kind} flows only ({'(D,)' if kind == 'vector' else '(H, W, C)'}), "
                f"got {name}={value!r}; {other} flows take {_KIND_ARGUMENTS[other]}"
            )
