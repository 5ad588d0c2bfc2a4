"""Property suite over every tfnf bijector, with randomised parameters.

Round trips (float32), log-det against a brute-force Jacobian (float64),
forward/inverse log-det consistency, and dynamic batch sizes in `tf.function`.
Conditional bijectors run every property under a random context
(`conditional_input`, routed through `tfb.Chain` / `FactorOut` by name).
"""

import numpy as np
import pytest
import tensorflow as tf

from tfnf.bijectors import AffineCoupling, conditional_kwargs
from tests.bijectors.cases import bijector_params, context_kwargs, data_side_sample, fresh, randomize

ROUND_TRIP, JACOBIAN = bijector_params()
ERRORS = {}


def build(factory, shape, dtype, seed=0):
    bijector = factory(shape, dtype)
    randomize(bijector, seed=seed)
    return bijector


PARAMS = "case_id, factory, shape, context"


@pytest.mark.parametrize(PARAMS, ROUND_TRIP, ids=[c[0] for c in ROUND_TRIP])
def test_round_trip(case_id, factory, shape, context):
    bijector = build(factory, shape, tf.float32)
    kwargs = context_kwargs(bijector, context, 5, tf.float32)
    z = data_side_sample(bijector, shape, 5, tf.float32)
    x = bijector.forward(z, **kwargs)
    assert x.shape[1:] == bijector.forward_event_shape(shape)
    z_back = bijector.inverse(fresh(x), **kwargs)
    x2 = bijector.forward(data_side_sample(bijector, shape, 5, tf.float32, seed=1), **kwargs)
    x_back = bijector.forward(fresh(bijector.inverse(fresh(x2), **kwargs)), **kwargs)
    error = max(float(tf.reduce_max(tf.abs(z_back - z))), float(tf.reduce_max(tf.abs(x_back - x2))))
    ERRORS[case_id] = error
    assert error < 1e-4
    assert np.all(np.isfinite(x.numpy()))


def brute_force_log_det(bijector, z, event_shape, **kwargs):
    """`log|det J|` of the forward map (given `kwargs`, e.g. a context), from a `tf.GradientTape` batch Jacobian."""
    batch = z.shape[0]
    flat = tf.reshape(z, [batch, -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        y = bijector.forward(tf.reshape(flat, [batch, *event_shape]), **kwargs)
        y_flat = tf.reshape(y, [batch, -1])
    jacobian = tape.batch_jacobian(y_flat, flat)
    return tf.linalg.slogdet(jacobian)[1]


@pytest.mark.parametrize(PARAMS, JACOBIAN, ids=[c[0] for c in JACOBIAN])
def test_log_det_matches_brute_force_jacobian(case_id, factory, shape, context):
    bijector = build(factory, shape, tf.float64)
    kwargs = context_kwargs(bijector, context, 3, tf.float64)
    z = data_side_sample(bijector, shape, 3, tf.float64)
    expected = brute_force_log_det(bijector, fresh(z), shape, **kwargs).numpy()
    actual = bijector.forward_log_det_jacobian(fresh(z), event_ndims=len(shape), **kwargs).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(PARAMS, JACOBIAN, ids=[c[0] for c in JACOBIAN])
def test_forward_and_inverse_log_dets_agree(case_id, factory, shape, context):
    bijector = build(factory, shape, tf.float64)
    kwargs = context_kwargs(bijector, context, 4, tf.float64)
    z = data_side_sample(bijector, shape, 4, tf.float64)
    fldj = bijector.forward_log_det_jacobian(z, event_ndims=len(shape), **kwargs)
    x = fresh(bijector.forward(fresh(z), **kwargs))
    ildj = bijector.inverse_log_det_jacobian(x, event_ndims=len(bijector.forward_event_shape(shape)), **kwargs)
    np.testing.assert_allclose(fldj.numpy(), -ildj.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(PARAMS, ROUND_TRIP[::2], ids=[c[0] for c in ROUND_TRIP[::2]])
def test_dynamic_batch_in_tf_function(case_id, factory, shape, context):
    bijector = build(factory, shape, tf.float32)
    out_shape = tuple(bijector.forward_event_shape(shape))
    if context is None:
        forward = tf.function(bijector.forward, input_signature=[tf.TensorSpec([None, *shape], tf.float32)])
        inverse = tf.function(bijector.inverse, input_signature=[tf.TensorSpec([None, *out_shape], tf.float32)])
        fldj = tf.function(
            lambda z: bijector.forward_log_det_jacobian(z, event_ndims=len(shape)),
            input_signature=[tf.TensorSpec([None, *shape], tf.float32)],
        )
    else:  # the context is a second input with the same unknown batch size
        c_spec = tf.TensorSpec([None, context], tf.float32)
        given = lambda c: conditional_kwargs(bijector, c)  # noqa: E731
        forward = tf.function(lambda z, c: bijector.forward(z, **given(c)), input_signature=[tf.TensorSpec([None, *shape], tf.float32), c_spec])
        inverse = tf.function(lambda x, c: bijector.inverse(x, **given(c)), input_signature=[tf.TensorSpec([None, *out_shape], tf.float32), c_spec])
        fldj = tf.function(
            lambda z, c: bijector.forward_log_det_jacobian(z, event_ndims=len(shape), **given(c)),
            input_signature=[tf.TensorSpec([None, *shape], tf.float32), c_spec],
        )
    for batch in (1, 7):
        z = data_side_sample(bijector, shape, batch, tf.float32)
        args = () if context is None else (tf.constant(np.random.default_rng(batch).standard_normal((batch, context)), tf.float32),)
        x = forward(z, *args)
        assert x.shape == (batch, *out_shape)
        np.testing.assert_allclose(inverse(x, *args).numpy(), z.numpy(), atol=1e-4)
        assert fldj(z, *args).shape == (batch,)


FIRST_CONDITIONAL = []  # each conditional case once, at its first round-trip shape
for _case in ROUND_TRIP:
    if _case[3] is not None and _case[0].split("-")[0] not in {c[0].split("-")[0] for c in FIRST_CONDITIONAL}:
        FIRST_CONDITIONAL.append(_case)


@pytest.mark.parametrize(PARAMS, FIRST_CONDITIONAL, ids=[c[0] for c in FIRST_CONDITIONAL])
def test_the_context_changes_the_output(case_id, factory, shape, context):
    """A randomised conditional bijector maps the same input differently under two contexts,
    in both directions, and its log-det depends on the context where it can (affine, spline)."""
    bijector = build(factory, shape, tf.float32)
    z = data_side_sample(bijector, shape, 4, tf.float32)
    a, b = (context_kwargs(bijector, context, 4, tf.float32, seed=s) for s in (0, 1))
    assert float(tf.reduce_max(tf.abs(bijector.forward(fresh(z), **a) - bijector.forward(fresh(z), **b)))) > 1e-3
    assert float(tf.reduce_max(tf.abs(bijector.inverse(fresh(z), **a) - bijector.inverse(fresh(z), **b)))) > 1e-3
    if "additive" not in case_id:
        ldj = [bijector.forward_log_det_jacobian(fresh(z), event_ndims=len(shape), **k) for k in (a, b)]
        assert float(tf.reduce_max(tf.abs(ldj[0] - ldj[1]))) > 1e-4


def test_conditional_bijectors_refuse_a_missing_or_unexpected_context():
    conditional = AffineCoupling((4,), context_size=3, hidden_units=(8,))
    plain = AffineCoupling((4,), hidden_units=(8,))
    x = tf.zeros([2, 4])
    with pytest.raises(ValueError, match="no conditional_input"):
        conditional.forward(x)
    with pytest.raises(ValueError, match="unconditional"):
        plain.forward(x, conditional_input=tf.zeros([2, 3]))
    with pytest.raises(ValueError, match=r"\[batch, 3\]"):
        conditional.forward(x, conditional_input=tf.zeros([2, 5]))
    # one context [k] is shared by the whole batch
    c = tf.constant([0.3, -1.0, 2.0])
    randomize(conditional)
    np.testing.assert_allclose(
        conditional.forward(x, conditional_input=c).numpy(),
        conditional.forward(fresh(x), conditional_input=tf.tile(c[None], [2, 1])).numpy(),
        rtol=1e-6, atol=1e-6,
    )


def test_randomisation_makes_couplings_non_trivial():
    """The suite would notice a coupling that stayed the identity."""
    _, factory, shape, _ = next(c for c in ROUND_TRIP if c[0].startswith("affine_channel_0"))
    bijector = factory(shape, tf.float32)
    z = data_side_sample(bijector, shape, 3, tf.float32)
    np.testing.assert_allclose(bijector.forward(z).numpy(), z.numpy())  # zero-initialised: identity
    randomize(bijector)
    assert float(tf.reduce_max(tf.abs(bijector.forward(fresh(z)) - z))) > 1e-2


def test_the_cache_would_not_hide_a_broken_inverse():
    """Round trips go through fresh tensors, so a wrong inverse is caught."""
    _, factory, shape, _ = next(c for c in ROUND_TRIP if c[0].startswith("affine_half_0"))
    bijector = build(factory, shape, tf.float32)
    z = data_side_sample(bijector, shape, 3, tf.float32)
    x = bijector.forward(z)
    assert bijector.inverse(x) is z  # TFP's cache returns the input itself...
    broken = bijector._inverse_and_log_det
    bijector._inverse_and_log_det = lambda y: (y, tf.zeros(tf.shape(y)[:1]))
    try:
        assert float(tf.reduce_max(tf.abs(bijector.inverse(fresh(x)) - z))) > 1e-3  # ...a fresh tensor does not
    finally:
        bijector._inverse_and_log_det = broken
