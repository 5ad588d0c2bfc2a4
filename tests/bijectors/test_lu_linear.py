"""`LULinear`: an exact, invertible, learned linear map of vectors."""

import numpy as np
import pytest
import tensorflow as tf

from tests.bijectors.cases import fresh, randomize
from tests.bijectors.test_bijector_properties import brute_force_log_det
from tfnf.bijectors import LULinear


def sample(size, batch=4, seed=0, dtype=tf.float64):
    return tf.constant(np.random.default_rng(seed).standard_normal((batch, size)), dtype)


@pytest.mark.parametrize("size", [1, 2, 5])
def test_round_trip_and_log_det_match_brute_force_in_float64(size):
    bijector = LULinear((size,), seed=3, dtype=tf.float64)
    assert randomize(bijector, scale=0.5) == 1  # one trainable variable: L, U and log|s| packed
    z = sample(size)
    x = bijector.forward(z)
    if size > 1:
        assert float(tf.reduce_max(tf.abs(x - z))) > 1e-2
    np.testing.assert_allclose(bijector.inverse(fresh(x)).numpy(), z.numpy(), atol=1e-12)
    expected = brute_force_log_det(bijector, fresh(z), (size,)).numpy()
    actual = bijector.forward_log_det_jacobian(fresh(z), event_ndims=1).numpy()
    assert abs(expected[0]) > 1e-3  # the randomised map changes volume
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bijector.inverse_log_det_jacobian(fresh(x), event_ndims=1).numpy(), -actual, rtol=1e-12, atol=1e-12)


def test_forward_is_the_inverse_of_the_lu_product():
    bijector = LULinear((3,), seed=0, dtype=tf.float64)
    randomize(bijector, scale=0.5)
    w = bijector.weight_matrix().numpy()
    x = sample(3)
    np.testing.assert_allclose(bijector.inverse(x).numpy(), x.numpy() @ w, atol=1e-12)
    np.testing.assert_allclose(bijector.inverse_log_det_jacobian(fresh(x), event_ndims=1).numpy(), np.linalg.slogdet(w)[1], atol=1e-12)


def test_a_new_map_is_a_seeded_rotation():
    a, b = LULinear((4,), seed=7, dtype=tf.float64), LULinear((4,), seed=7, dtype=tf.float64)
    w = a.weight_matrix().numpy()
    np.testing.assert_allclose(w @ w.T, np.eye(4), atol=1e-10)
    np.testing.assert_allclose(w, b.weight_matrix().numpy())
    np.testing.assert_allclose(a.forward_log_det_jacobian(sample(4), event_ndims=1).numpy(), 0.0, atol=1e-12)


def test_any_batch_shape_and_trainable_variables():
    bijector = LULinear((3,), seed=0)
    z = tf.random.normal([2, 5, 3])
    assert bijector.forward(z).shape == (2, 5, 3)
    assert bijector.forward_log_det_jacobian(z, event_ndims=1).shape == (2, 5)
    assert len(bijector.trainable_variables) == 1
    assert bijector.copy().event_shape_in == (3,)


@pytest.mark.parametrize("shape", [(4, 4, 2), (), (0,)])
def test_only_vectors(shape):
    with pytest.raises(ValueError, match="event_shape"):
        LULinear(shape)
