"""Property suite over every tfnf bijector, with randomised parameters.

Round trips (float32), log-det against a brute-force Jacobian (float64),
forward/inverse log-det consistency, and dynamic batch sizes in `tf.function`.
"""

import numpy as np
import pytest
import tensorflow as tf

from tests.bijectors.cases import bijector_params, data_side_sample, fresh, randomize

ROUND_TRIP, JACOBIAN = bijector_params()
ERRORS = {}


def build(factory, shape, dtype, seed=0):
    bijector = factory(shape, dtype)
    randomize(bijector, seed=seed)
    return bijector


@pytest.mark.parametrize("case_id, factory, shape", ROUND_TRIP, ids=[c[0] for c in ROUND_TRIP])
def test_round_trip(case_id, factory, shape):
    bijector = build(factory, shape, tf.float32)
    z = data_side_sample(bijector, shape, 5, tf.float32)
    x = bijector.forward(z)
    assert x.shape[1:] == bijector.forward_event_shape(shape)
    z_back = bijector.inverse(fresh(x))
    x2 = bijector.forward(data_side_sample(bijector, shape, 5, tf.float32, seed=1))
    x_back = bijector.forward(fresh(bijector.inverse(fresh(x2))))
    error = max(float(tf.reduce_max(tf.abs(z_back - z))), float(tf.reduce_max(tf.abs(x_back - x2))))
    ERRORS[case_id] = error
    assert error < 1e-4
    assert np.all(np.isfinite(x.numpy()))


def brute_force_log_det(bijector, z, event_shape):
    """`log|det J|` of the forward map, from a `tf.GradientTape` batch Jacobian."""
    batch = z.shape[0]
    flat = tf.reshape(z, [batch, -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        y = bijector.forward(tf.reshape(flat, [batch, *event_shape]))
        y_flat = tf.reshape(y, [batch, -1])
    jacobian = tape.batch_jacobian(y_flat, flat)
    return tf.linalg.slogdet(jacobian)[1]


@pytest.mark.parametrize("case_id, factory, shape", JACOBIAN, ids=[c[0] for c in JACOBIAN])
def test_log_det_matches_brute_force_jacobian(case_id, factory, shape):
    bijector = build(factory, shape, tf.float64)
    z = data_side_sample(bijector, shape, 3, tf.float64)
    expected = brute_force_log_det(bijector, fresh(z), shape).numpy()
    actual = bijector.forward_log_det_jacobian(fresh(z), event_ndims=len(shape)).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case_id, factory, shape", JACOBIAN, ids=[c[0] for c in JACOBIAN])
def test_forward_and_inverse_log_dets_agree(case_id, factory, shape):
    bijector = build(factory, shape, tf.float64)
    z = data_side_sample(bijector, shape, 4, tf.float64)
    fldj = bijector.forward_log_det_jacobian(z, event_ndims=len(shape))
    x = fresh(bijector.forward(fresh(z)))
    ildj = bijector.inverse_log_det_jacobian(x, event_ndims=len(bijector.forward_event_shape(shape)))
    np.testing.assert_allclose(fldj.numpy(), -ildj.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case_id, factory, shape", ROUND_TRIP[::2], ids=[c[0] for c in ROUND_TRIP[::2]])
def test_dynamic_batch_in_tf_function(case_id, factory, shape):
    bijector = build(factory, shape, tf.float32)
    out_shape = tuple(bijector.forward_event_shape(shape))
    forward = tf.function(bijector.forward, input_signature=[tf.TensorSpec([None, *shape], tf.float32)])
    inverse = tf.function(bijector.inverse, input_signature=[tf.TensorSpec([None, *out_shape], tf.float32)])
    fldj = tf.function(
        lambda z: bijector.forward_log_det_jacobian(z, event_ndims=len(shape)),
        input_signature=[tf.TensorSpec([None, *shape], tf.float32)],
    )
    for batch in (1, 7):
        z = data_side_sample(bijector, shape, batch, tf.float32)
        x = forward(z)
        assert x.shape == (batch, *out_shape)
        np.testing.assert_allclose(inverse(x).numpy(), z.numpy(), atol=1e-4)
        assert fldj(z).shape == (batch,)


def test_randomisation_makes_couplings_non_trivial():
    """The suite would notice a coupling that stayed the identity."""
    _, factory, shape = next(c for c in ROUND_TRIP if c[0].startswith("affine_channel_0"))
    bijector = factory(shape, tf.float32)
    z = data_side_sample(bijector, shape, 3, tf.float32)
    np.testing.assert_allclose(bijector.forward(z).numpy(), z.numpy())  # zero-initialised: identity
    randomize(bijector)
    assert float(tf.reduce_max(tf.abs(bijector.forward(fresh(z)) - z))) > 1e-2


def test_the_cache_would_not_hide_a_broken_inverse():
    """Round trips go through fresh tensors, so a wrong inverse is caught."""
    _, factory, shape = next(c for c in ROUND_TRIP if c[0].startswith("affine_half_0"))
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
