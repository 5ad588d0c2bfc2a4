"""`vector_couplings`: the chain of couplings, with their networks and mixings, of realnvp, nice and nsf."""

from tfnf.bijectors import coupling_network
from tfnf.flows.vector_mixing import mixed_couplings


def vector_couplings(
    flow, coupling_cls, event_shape, num_couplings, mask, num_params, hidden_units, dropout, mixing=None, seed=None,
    fourier_frequencies=(), **coupling_options
):
    """`[coupling0, mixing0, coupling1, ...]` over vectors `event_shape = (D,)`.

    Args:
      flow: the builder's `FlowSetting` (dtype, context, conditioner).
      coupling_cls: the coupling class (`AffineCoupling`, `AdditiveCoupling`, `SplineCoupling`).
      event_shape: `(D,)`.
      num_couplings, mask: how many couplings, and their mask (`"half"`, `"alternate"`).
      num_params: parameters per transformed element of `coupling_cls`'s transformer.
      hidden_units, dropout: the builder's network widths and dropout.
      mixing, seed: between couplings (`tfnf.flows.vector_mixing`).
      fourier_frequencies: Fourier features the networks read (empty: none).
      **coupling_options: passed to every coupling (`num_bins=`, `bound=` of splines).
    """
    if fourier_frequencies:
        coupling_options["fourier_frequencies"] = fourier_frequencies

    def coupling(k, parity):
        network = coupling_network(
            flow.conditioner, event_shape, mask, parity, num_params, flow.context_size, flow.dtype,
            f"coupling{k}_conditioner", hidden_units=hidden_units, dropout=dropout,
            fourier_frequencies=fourier_frequencies,
        )
        return coupling_cls(
            event_shape, mask=mask, parity=parity, conditioner=network, hidden_units=hidden_units, dropout=dropout,
            context_size=flow.context_size, dtype=flow.dtype, name=f"coupling{k}", **coupling_options,
        )

    return mixed_couplings(coupling, num_couplings, event_shape, mixing, seed, flow.dtype)
