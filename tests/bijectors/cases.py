"""The case table of the property suite: every bijector and every flow builder.

A case is `(id, factory)`, where `factory(event_shape, dtype)` builds the
bijector (latent -> data). A new bijector joins the suite with one line here.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfnf
from tfnf.bijectors import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    DiagonalScale,
    FactorOut,
    Invertible1x1Conv,
    Logit,
    MaskedAutoregressive,
    RationalQuadraticSplineTransformer,
    SplineCoupling,
    Squeeze,
    collect_keras_layers,
)

tfb = tfp.bijectors

IMAGE, CHANNELS, VECTOR, ANY, SPLITTABLE = "image", "channels", "vector", "any", "splittable"


def affine(mask, parity):
    return lambda shape, dtype: AffineCoupling(shape, mask=mask, parity=parity, hidden_units=(8,), hidden_channels=4, dtype=dtype)


def additive(mask, parity):
    return lambda shape, dtype: AdditiveCoupling(shape, mask=mask, parity=parity, hidden_units=(8,), hidden_channels=4, dtype=dtype)


def spline(mask, parity):
    # bound 2: about 5% of standard-normal inputs fall in the identity tails, so both regimes are checked
    return lambda shape, dtype: SplineCoupling(shape, num_bins=5, bound=2.0, mask=mask, parity=parity, hidden_units=(8,), dtype=dtype)


def autoregressive(conditioned_on, transformer=None):
    return lambda shape, dtype: MaskedAutoregressive(shape, conditioned_on, transformer=transformer, hidden_units=(8,), dtype=dtype)


def factor_out(shape, dtype):
    kept = shape[-1] // 2
    inner_shape = shape[:-1] + (kept,)
    inner = tfb.Chain([ActNorm(inner_shape, dtype=dtype), Invertible1x1Conv(inner_shape, seed=2, dtype=dtype)])
    return FactorOut(shape, inner, num_kept=kept, dtype=dtype)


def inverted_squeeze(shape, dtype):
    h, w, c = shape
    return tfb.Invert(Squeeze((h * 2, w * 2, c // 4), dtype=dtype))


# (id, kind, factory); kind says which event shapes the bijector takes.
BIJECTOR_CASES = [
    ("affine_channel_0", CHANNELS, affine("channel", 0)),
    ("affine_channel_1", CHANNELS, affine("channel", 1)),
    ("affine_checkerboard_0", IMAGE, affine("checkerboard", 0)),
    ("affine_checkerboard_1", IMAGE, affine("checkerboard", 1)),
    ("affine_half_0", VECTOR, affine("half", 0)),
    ("affine_half_1", VECTOR, affine("half", 1)),
    ("affine_alternate_0", VECTOR, affine("alternate", 0)),
    ("affine_alternate_1", VECTOR, affine("alternate", 1)),
    ("additive_channel", CHANNELS, additive("channel", 1)),
    ("additive_checkerboard", IMAGE, additive("checkerboard", 0)),
    ("additive_half", VECTOR, additive("half", 0)),
    ("additive_alternate", VECTOR, additive("alternate", 1)),
    ("actnorm", ANY, lambda shape, dtype: ActNorm(shape, dtype=dtype)),
    ("conv1x1_lu", ANY, lambda shape, dtype: Invertible1x1Conv(shape, seed=1, dtype=dtype)),
    ("conv1x1_plain", ANY, lambda shape, dtype: Invertible1x1Conv(shape, lu_decomposed=False, seed=1, dtype=dtype)),
    ("squeeze", IMAGE, lambda shape, dtype: Squeeze(shape, dtype=dtype)),
    ("inverted_squeeze", "squeezed", inverted_squeeze),
    ("factor_out", SPLITTABLE, factor_out),
    ("logit", ANY, lambda shape, dtype: Logit(0.05)),
    ("diagonal_scale", ANY, lambda shape, dtype: DiagonalScale(shape, dtype=dtype)),
    ("spline_half_0", VECTOR, spline("half", 0)),
    ("spline_alternate_1", VECTOR, spline("alternate", 1)),
    ("maf_affine", VECTOR, autoregressive("data")),
    ("iaf_affine", VECTOR, autoregressive("latent")),
    ("maf_spline", VECTOR, autoregressive("data", RationalQuadraticSplineTransformer(num_bins=4, bound=2.0))),
]

# (id, factory(dtype, small) -> flow, event shape for round trips, small event shape for Jacobians)
FLOW_CASES = [
    ("glow_affine", lambda shape, dtype: tfnf.flows.glow(shape, num_levels=2, num_steps=2, hidden_channels=4, seed=0, dtype=dtype), (8, 8, 1), (4, 4, 2)),
    ("glow_affine_rgb", lambda shape, dtype: tfnf.flows.glow(shape, num_levels=2, num_steps=1, hidden_channels=4, seed=0, dtype=dtype), (16, 16, 3), (4, 4, 1)),
    ("glow_additive", lambda shape, dtype: tfnf.flows.glow(shape, num_levels=1, num_steps=2, hidden_channels=4, coupling="additive", seed=0, dtype=dtype), (8, 8, 1), (2, 2, 4)),
    ("realnvp_vector", lambda shape, dtype: tfnf.flows.realnvp(shape, num_couplings=4, hidden_units=(8, 8), dtype=dtype), (6,), (3,)),
    ("realnvp_vector_2d", lambda shape, dtype: tfnf.flows.realnvp(shape, num_couplings=4, hidden_units=(8, 8), dtype=dtype), (2,), (2,)),
    ("realnvp_image", lambda shape, dtype: tfnf.flows.realnvp(shape, num_levels=2, hidden_channels=4, dtype=dtype), (8, 8, 1), (4, 4, 2)),
    ("nice_vector", lambda shape, dtype: tfnf.flows.nice(shape, num_couplings=4, hidden_units=(8,), dtype=dtype), (6,), (3,)),
    ("nice_image", lambda shape, dtype: tfnf.flows.nice(shape, num_couplings=4, hidden_units=(8,), dtype=dtype), (4, 4, 1), (2, 2, 1)),
    ("nsf_vector", lambda shape, dtype: tfnf.flows.nsf(shape, num_couplings=4, hidden_units=(8,), num_bins=5, bound=2.0, dtype=dtype), (6,), (3,)),
    ("maf_vector", lambda shape, dtype: tfnf.flows.maf(shape, num_layers=3, hidden_units=(8,), dtype=dtype), (6,), (3,)),
    ("iaf_vector", lambda shape, dtype: tfnf.flows.iaf(shape, num_layers=3, hidden_units=(8,), dtype=dtype), (6,), (3,)),
]

ROUND_TRIP_SHAPES = {SPLITTABLE: [(8, 8, 2), (16, 16, 3), (2,), (6,)], IMAGE: [(8, 8, 1), (16, 16, 3)], CHANNELS: [(8, 8, 2), (16, 16, 3)], VECTOR: [(2,), (6,)], ANY: [(8, 8, 1), (16, 16, 3), (2,), (6,)], "squeezed": [(4, 4, 4), (8, 8, 12)]}
JACOBIAN_SHAPES = {SPLITTABLE: [(4, 4, 2), (2, 2, 4), (3,)], IMAGE: [(4, 4, 2), (2, 2, 4)], CHANNELS: [(4, 4, 2), (2, 2, 4)], VECTOR: [(3,), (2,)], ANY: [(4, 4, 2), (2, 2, 4), (3,)], "squeezed": [(2, 2, 4), (1, 1, 8)]}


def bijector_params():
    """pytest parameters `(id, factory, event_shape)` for round trips and for Jacobians."""
    round_trip, jacobian = [], []
    for case_id, kind, factory in BIJECTOR_CASES:
        round_trip += [(f"{case_id}-{'x'.join(map(str, s))}", factory, s) for s in ROUND_TRIP_SHAPES[kind]]
        jacobian += [(f"{case_id}-{'x'.join(map(str, s))}", factory, s) for s in JACOBIAN_SHAPES[kind]]
    return round_trip, jacobian


def randomize(obj, seed=0, scale=0.3):
    """Perturb every trainable weight of `obj` (a bijector or a flow) with N(0, scale^2) noise.

    ActNorm and scale parameters become non-trivial and zero-initialised
    conditioner outputs stop being the identity. Returns the number of weights.
    """
    rng = np.random.default_rng(seed)
    count = 0
    for layer in collect_keras_layers(obj):
        for variable in layer.trainable_weights:
            value = variable.numpy()
            variable.assign((value + scale * rng.standard_normal(value.shape)).astype(value.dtype))
            count += 1
    return count


def fresh(tensor):
    """A new tensor with the same value: defeats TFP's per-tensor result cache."""
    return tf.constant(np.asarray(tensor))


def data_side_sample(bijector, event_shape, batch, dtype, seed=0):
    """Points in the bijector's domain on the latent side: `[batch, *event_shape]`."""
    rng = np.random.default_rng(seed)
    return tf.constant(rng.standard_normal((batch, *event_shape)), dtype=dtype)
