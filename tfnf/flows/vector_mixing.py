"""Linear mixing between the couplings of a vector flow (`mixing=` of realnvp, nsf and nice).

A coupling transforms one part of `x` given the other, so a chain of couplings
must move elements between the parts. Without mixing the couplings alternate
their parity; `"lu"` puts a learned `LULinear` between consecutive couplings
(which still alternate); `"reverse"` puts a fixed reversal of the vector
between them, and every coupling keeps parity 0 (alternating as well would
undo the reversal).
"""

import tensorflow_probability as tfp

from tfnf.bijectors import LULinear

tfb = tfp.bijectors

MIXINGS = ("lu", "reverse")


def mixing_config(mixing, seed):
    """Validate a builder's `mixing` and `seed` (the `"lu"` initialisation's seed); returns what
    the flow's configuration records: `{}` without mixing (configurations saved before mixing
    existed rebuild as they were), else `{"mixing": ..., "seed": ...}`."""
    if mixing is not None and mixing not in MIXINGS:
        raise ValueError(f"mixing must be None or one of {MIXINGS}, got {mixing!r}")
    if seed is not None and mixing != "lu":
        raise ValueError(f"seed seeds the initialisation of mixing='lu' only, got seed={seed!r} with mixing={mixing!r}")
    return {} if mixing is None else {"mixing": mixing, "seed": seed}


def mixing_layer(mixing, event_shape, index, seed, dtype):
    """The fixed or learned linear map between vector couplings `index` and `index + 1`."""
    if mixing == "lu":
        return LULinear(event_shape, seed=None if seed is None else seed + index, dtype=dtype, name=f"mixing{index}")
    return tfb.Permute(list(reversed(range(event_shape[0]))), name=f"mixing{index}")


def mixed_couplings(make_coupling, num_couplings, event_shape, mixing, seed, dtype):
    """`[coupling0, mixing0, coupling1, ...]`: `make_coupling(k, parity)` -> the k-th coupling,
    with the parities and mixing layers `mixing` (None, `"lu"`, `"reverse"`) calls for."""
    parts = []
    for k in range(num_couplings):
        if k and mixing is not None:
            parts.append(mixing_layer(mixing, event_shape, k - 1, seed, dtype))
        parts.append(make_coupling(k, 0 if mixing == "reverse" else k % 2))
    return parts
