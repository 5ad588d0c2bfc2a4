"""`nsf`: neural spline flow (Durkan et al., 2019) with rational-quadratic couplings."""

from __future__ import annotations

from typing import Sequence

from tfnf.bijectors import SplineCoupling
from tfnf.bijectors.spline_transformer import RationalQuadraticSplineTransformer
from tfnf.flows.flow_builder import Architecture, FlowSetting, flow_builder
from tfnf.flows.vector_couplings import vector_couplings
from tfnf.flows.vector_defaults import resolve_hidden_units, resolve_spline_bound, with_data_actnorm


@flow_builder("nsf", recorded_when_set=("mixing", "seed", "actnorm"))
def nsf(
    flow: FlowSetting, num_couplings: int = 4, hidden_units: Sequence[int] | None = None, num_bins: int = 8,
    bound: float | None = None, mask: str = "half", dropout: float = 0.0, mixing: str | None = None, seed: int | None = None,
    actnorm: bool | None = None,
) -> Architecture:
    """Neural spline flow for vectors; returns a `tfd.TransformedDistribution` over N(0, I).

    `num_couplings` rational-quadratic spline couplings (`SplineCoupling`)
    with alternating masks and MLP conditioners, `x: [batch, D]`. Each spline
    has `num_bins` bins on `[-bound, bound]` and is the identity outside, so
    the data should be of roughly unit scale: above 16 dimensions, by default a data-side
    `ActNorm`, which `tfnf.FlowModel` initialises from the first training
    examples, standardises each element before the first coupling (natural
    image patches, standard deviation near 0.08, would otherwise use a
    sliver of the interval). A new flow is the identity (zero-initialised
    conditioner outputs, the `ActNorm` until it is initialised).

    Defaults that follow the data (`tfnf.flows.vector_defaults`): the
    conditioners are two layers of `clip(4 D, 64, 512)` units (rounded up to
    a multiple of 32: 64 up to `D = 16`, 256 for `D = 63`), and splines on
    `[-3, 3]` up to `D = 16`, `[-8, 8]` above.

    Args:
      event_shape: `(D,)`, `D >= 2`.
      num_couplings: number of spline couplings.
      hidden_units: MLP widths of the conditioners (None: two layers of
        `clip(4 D, 64, 512)` units; the configuration records the widths).
      num_bins: spline bins per element.
      bound: half-width of the splines' interval (None: 3 up to `D = 16`, 8 above, where
        the data-side `ActNorm` standardises the data and heavy tails reach past 3; the
        configuration records the value).
      mask: `"half"` or `"alternate"`.
      dropout: dropout rate in the conditioners (training only).
      num_classes, context_shape: a conditional flow, as `nice`: every
        conditioner also reads the one-hot label / the context vector.
      conditioner: the coupling networks, as `realnvp`: None (MLPs of
        `hidden_units`), `"mlp"`, `"residual_mlp"`, a factory from
        `tfnf.nets.conditioners` or its config dict, or a callable.
      mixing: None (couplings alternate halves), `"lu"` (a learned
        `LULinear` between couplings) or `"reverse"` (`tfnf.flows.vector_mixing`).
      seed: seed of the `"lu"` mixings' initialisation.
      actnorm: the data-side `ActNorm` before the first coupling, as `maf`'s
        (None, the default: for `D > 16`).
    """
    bound = resolve_spline_bound(bound, flow.event_shape)
    num_params = RationalQuadraticSplineTransformer(num_bins, bound).num_params
    hidden_units = resolve_hidden_units(hidden_units, flow.event_shape)
    parts = vector_couplings(
        flow, SplineCoupling, flow.event_shape, num_couplings, mask, num_params, hidden_units, dropout, mixing, seed,
        num_bins=num_bins, bound=bound,
    )
    chain, recorded = with_data_actnorm(parts, actnorm, flow.event_shape, flow.dtype, "nsf")
    return Architecture(chain, resolved={"hidden_units": hidden_units, "bound": bound, **recorded})
