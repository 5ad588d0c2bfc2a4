"""`Invertible1x1Conv`: random-rotation start, and an LU diagonal that cannot reach zero."""

import numpy as np
import pytest
import tensorflow as tf

from tfnf.bijectors import Invertible1x1Conv
from tfnf.bijectors.invertible_1x1_conv import MIN_ABS_S


@pytest.mark.parametrize("lu_decomposed", [True, False])
def test_starts_as_a_rotation(lu_decomposed):
    conv = Invertible1x1Conv((4, 4, 5), lu_decomposed=lu_decomposed, seed=3, dtype=tf.float64)
    w = conv.weight_matrix().numpy()
    np.testing.assert_allclose(w @ w.T, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(w), 1.0, atol=1e-12)
    assert abs(float(conv.inverse_log_det_jacobian(tf.zeros([1, 4, 4, 5], tf.float64), event_ndims=3)[0])) < 1e-10


def test_lu_diagonal_is_floored_away_from_zero():
    conv = Invertible1x1Conv((3, 3, 4), seed=1, dtype=tf.float64)
    packed = conv._params.lower_upper.numpy()
    np.fill_diagonal(packed, [-1e3, -50.0, 0.0, 2.0])  # raw log|s| as a diverging optimiser might leave it
    conv._params.lower_upper.assign(packed)
    w = conv.weight_matrix().numpy()
    abs_s = np.abs(np.diag(np.linalg.qr(w)[1]))  # |det W| = prod |s| is kept, W stays invertible
    assert np.isfinite(np.linalg.cond(w)) and np.prod(abs_s) >= MIN_ABS_S**2 * 0.999
    x = tf.constant(np.random.default_rng(0).standard_normal((2, 3, 3, 4)))
    y = conv.forward(x)
    np.testing.assert_allclose(conv.inverse(tf.constant(y.numpy())).numpy(), x.numpy(), atol=1e-8)
    log_det = float(conv.inverse_log_det_jacobian(tf.constant(y.numpy()), event_ndims=3)[0])
    np.testing.assert_allclose(log_det, 9 * np.log(abs(np.linalg.det(w))), rtol=1e-10, atol=1e-10)
    assert log_det >= 9 * (2 * np.log(MIN_ABS_S) + 0.0 + 2.0) - 1e-6


def test_lu_form_trains_one_packed_matrix_that_reassembles_w():
    conv = Invertible1x1Conv((2, 2, 4), seed=5, dtype=tf.float64)
    layer = conv.keras_layers[0]
    assert [v.name for v in layer.trainable_weights] == ["lower_upper"]
    rng = np.random.default_rng(6)
    packed = rng.normal(size=(4, 4))
    layer.lower_upper.assign(packed)
    p, sign = layer.permutation.numpy(), layer.sign_s.numpy()
    lower = np.tril(packed, -1) + np.eye(4)
    log_abs_s = np.log(MIN_ABS_S) + np.logaddexp(0.0, np.diag(packed) - np.log(MIN_ABS_S))
    upper = np.triu(packed, 1) + np.diag(sign * np.exp(log_abs_s))
    np.testing.assert_allclose(conv.weight_matrix().numpy(), p @ lower @ upper, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.inverse_weight_matrix().numpy() @ (p @ lower @ upper), np.eye(4), atol=1e-10)
