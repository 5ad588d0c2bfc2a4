"""The case table of the property suite: every bijector and every flow builder.

A case is `(id, factory)`, where `factory(event_shape, dtype)` builds the
bijector (latent -> data). A new bijector joins the suite with one line here.
Conditional bijectors and flows carry one more item, the width of their
context (bijectors) or a maker of conditions (flows); the suite runs them
with a random context.
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
    conditional_kwargs,
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


def conditional_factor_out(shape, dtype):
    kept = shape[-1] // 2
    inner_shape = shape[:-1] + (kept,)
    mask = "checkerboard" if len(shape) == 3 else "half"
    inner = tfb.Chain(
        [
            ActNorm(inner_shape, dtype=dtype),
            AffineCoupling(inner_shape, mask=mask, hidden_units=(8,), hidden_channels=4, context_size=3, dtype=dtype, name="c0"),
            AffineCoupling(inner_shape, mask=mask, parity=1, hidden_units=(8,), hidden_channels=4, context_size=3, dtype=dtype, name="c1"),
        ],
        name="inner",
    )
    return FactorOut(shape, inner, num_kept=kept, dtype=dtype)


def conditional(cls, mask, parity, **kwargs):
    return lambda shape, dtype: cls(shape, mask=mask, parity=parity, hidden_units=(8,), context_size=3, dtype=dtype, **kwargs)


# (id, kind, factory, context width): every conditional bijector reads a context [batch, 3].
CONDITIONAL_BIJECTOR_CASES = [
    ("cond_affine_channel_0", CHANNELS, conditional(AffineCoupling, "channel", 0, hidden_channels=4), 3),
    ("cond_affine_checkerboard_1", IMAGE, conditional(AffineCoupling, "checkerboard", 1, hidden_channels=4), 3),
    ("cond_glow_prior", CHANNELS, lambda shape, dtype: AffineCoupling(shape, mask="channel", hidden_channels=None, context_size=3, dtype=dtype), 3),
    ("cond_affine_half_0", VECTOR, conditional(AffineCoupling, "half", 0), 3),
    ("cond_affine_alternate_1", VECTOR, conditional(AffineCoupling, "alternate", 1), 3),
    ("cond_additive_channel", CHANNELS, conditional(AdditiveCoupling, "channel", 1, hidden_channels=4), 3),
    ("cond_additive_half", VECTOR, conditional(AdditiveCoupling, "half", 0), 3),
    ("cond_spline_half_1", VECTOR, conditional(SplineCoupling, "half", 1, num_bins=5, bound=2.0), 3),
    ("cond_factor_out", "conditional_splittable", conditional_factor_out, 3),
]


def labels(num_classes):
    return lambda batch, seed=0: np.random.default_rng(seed).integers(0, num_classes, batch).astype(np.int32)


def vectors(size):
    return lambda batch, seed=0: np.random.default_rng(seed).standard_normal((batch, size)).astype(np.float32)


# (id, factory, event shape for round trips, small event shape for Jacobians, condition maker(batch, seed))
CONDITIONAL_FLOW_CASES = [
    ("glow_class_conditional", lambda shape, dtype: tfnf.flows.glow(shape, num_levels=2, num_steps=1, hidden_channels=4, seed=0, num_classes=3, dtype=dtype), (8, 8, 1), (4, 4, 2), labels(3)),
    ("glow_additive_class_conditional", lambda shape, dtype: tfnf.flows.glow(shape, num_levels=1, num_steps=2, hidden_channels=4, coupling="additive", seed=0, num_classes=4, dtype=dtype), (8, 8, 1), (2, 2, 4), labels(4)),
    ("realnvp_vector_context", lambda shape, dtype: tfnf.flows.realnvp(shape, num_couplings=4, hidden_units=(8, 8), context_shape=(3,), dtype=dtype), (6,), (3,), vectors(3)),
    ("realnvp_vector_classes", lambda shape, dtype: tfnf.flows.realnvp(shape, num_couplings=4, hidden_units=(8, 8), num_classes=4, dtype=dtype), (2,), (2,), labels(4)),
    ("realnvp_image_context", lambda shape, dtype: tfnf.flows.realnvp(shape, num_levels=2, hidden_channels=4, context_shape=(2,), dtype=dtype), (8, 8, 1), (4, 4, 2), vectors(2)),
]

ROUND_TRIP_SHAPES = {"conditional_splittable": [(8, 8, 2), (16, 16, 3), (6,)], SPLITTABLE: [(8, 8, 2), (16, 16, 3), (2,), (6,)], IMAGE: [(8, 8, 1), (16, 16, 3)], CHANNELS: [(8, 8, 2), (16, 16, 3)], VECTOR: [(2,), (6,)], ANY: [(8, 8, 1), (16, 16, 3), (2,), (6,)], "squeezed": [(4, 4, 4), (8, 8, 12)]}
JACOBIAN_SHAPES = {"conditional_splittable": [(4, 4, 2), (2, 2, 4), (4,)], SPLITTABLE: [(4, 4, 2), (2, 2, 4), (3,)], IMAGE: [(4, 4, 2), (2, 2, 4)], CHANNELS: [(4, 4, 2), (2, 2, 4)], VECTOR: [(3,), (2,)], ANY: [(4, 4, 2), (2, 2, 4), (3,)], "squeezed": [(2, 2, 4), (1, 1, 8)]}


def bijector_params():
    """pytest parameters `(id, factory, event_shape, context_size)` for round trips and for Jacobians.

    `context_size` is None for unconditional bijectors."""
    round_trip, jacobian = [], []
    cases = [(*case, None) for case in BIJECTOR_CASES] + CONDITIONAL_BIJECTOR_CASES
    for case_id, kind, factory, context in cases:
        round_trip += [(f"{case_id}-{'x'.join(map(str, s))}", factory, s, context) for s in ROUND_TRIP_SHAPES[kind]]
        jacobian += [(f"{case_id}-{'x'.join(map(str, s))}", factory, s, context) for s in JACOBIAN_SHAPES[kind]]
    return round_trip, jacobian


def flow_params():
    """pytest parameters `(id, factory, shape, small, condition maker or None)` over every flow case."""
    return [(*case, None) for case in FLOW_CASES] + CONDITIONAL_FLOW_CASES


def context_kwargs(bijector, context_size, batch, dtype, seed=0):
    """Keyword arguments giving `bijector` a random context `[batch, context_size]` (`{}` when None)."""
    if context_size is None:
        return {}
    context = np.random.default_rng(1000 + seed).standard_normal((batch, context_size))
    return conditional_kwargs(bijector, tf.constant(context, dtype))


def flow_kwargs(flow, make_condition, batch, seed=0):
    """`bijector_kwargs` conditioning `flow` on random conditions for `batch` examples (`{}` when unconditional)."""
    if make_condition is None:
        return {}
    return tfnf.flows.condition(flow, make_condition(batch, seed))


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
