"""`dequantize`: `x + u` stays inside `[x, x + 1)` even where float32 rounds the sum up."""

import numpy as np
import tensorflow as tf

from tfnf.rules.dequantization import dequantize

LARGEST_BELOW_ONE = np.nextafter(np.float32(1), np.float32(0))  # the largest u ~ U[0, 1) can draw


def test_the_top_pixel_with_the_largest_noise_stays_below_the_number_of_levels():
    x = np.array([0.0, 16.0, 255.0], np.float32)
    u = np.full(3, LARGEST_BELOW_ONE, np.float32)
    assert np.float32(255) + LARGEST_BELOW_ONE == np.float32(256)  # the rounding being guarded against
    for got in (dequantize(x, u), dequantize(tf.constant(x), tf.constant(u)).numpy()):
        assert got.dtype == np.float32
        assert np.all(got < x + 1) and np.all(got >= x)
        np.testing.assert_allclose(got, x + 1, rtol=1e-6, atol=1e-6)


def test_ordinary_noise_is_added_unchanged():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 4)).astype(np.float32)
    u = rng.uniform(0.0, 0.99, (50, 4)).astype(np.float32)
    np.testing.assert_array_equal(dequantize(x, u), x + u)
    np.testing.assert_array_equal(dequantize(tf.constant(x), tf.constant(u)).numpy(), x + u)
