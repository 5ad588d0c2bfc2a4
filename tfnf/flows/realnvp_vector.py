"""`realnvp_vector`: RealNVP's architecture for vectors (Dinh et al., 2017): affine couplings, alternating masks."""

from tfnf.bijectors import AffineCoupling
from tfnf.bijectors.transformers import AffineTransformer
from tfnf.flows.flow_builder import Architecture
from tfnf.flows.vector_couplings import vector_couplings
from tfnf.flows.vector_defaults import resolve_hidden_units, with_data_actnorm


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


def realnvp_vector(
    flow, num_couplings, hidden_units, mask, dropout, fourier_frequencies, mixing, seed, coupling, actnorm=None
):
    """`num_couplings` affine couplings over `(D,)` with MLP conditioners (`hidden_units`, None: as
    `vector_defaults.resolve_hidden_units`, or the flow's conditioner) reading Fourier features of
    `fourier_frequencies` (`"auto"` resolved, and recorded resolved so a saved model rebuilds the same
    network), mixed by `mixing` (`"lu"` seeded from `seed`), after a data-side `ActNorm` if `actnorm`."""
    if coupling != "affine":
        raise ValueError(f"coupling={coupling!r} applies to image flows only; for spline couplings on vectors use nsf")
    frequencies = resolve_fourier_frequencies(fourier_frequencies, flow.event_shape)
    hidden_units = resolve_hidden_units(hidden_units, flow.event_shape)
    parts = vector_couplings(
        flow, AffineCoupling, flow.event_shape, num_couplings, mask, AffineTransformer.num_params, hidden_units,
        dropout, mixing, seed, fourier_frequencies=frequencies,
    )
    chain, recorded = with_data_actnorm(parts, actnorm, flow.event_shape, flow.dtype, "realnvp_vector")
    resolved = {"fourier_frequencies": frequencies, "hidden_units": hidden_units, **recorded}
    return Architecture(chain, resolved=resolved)
