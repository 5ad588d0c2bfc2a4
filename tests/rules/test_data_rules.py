"""The pixel, bits/dim, dequantisation and finite-weight rules (shared by the model, its export
and the command line)."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfnf.rules.bits_per_dim import nats_to_bits_per_dim
from tfnf.rules.dequantization import check_dequantization, dequantize
from tfnf.rules.finite_weights import refuse_nonfinite_weights
from tfnf.rules.pixels import pixel_range_message, pixels_in_range


def test_pixels_are_in_range_for_numbers_and_tensors_alike():
    for low, high, expected in [(0, 16, True), (-1, 3, False), (0, 17, False), (0.0, 16.9, True), (np.nan, np.nan, False)]:
        assert bool(pixels_in_range(low, high, 17)) is expected
        assert bool(pixels_in_range(tf.constant(float(low)), tf.constant(float(high)), 17.0).numpy()) is expected
    assert pixel_range_message("x", 17) == "x must hold pixel values in [0, 17) for num_bins=17, got values in"


def test_bits_per_dim_is_nats_over_d_ln_2_for_floats_arrays_and_tensors():
    assert nats_to_bits_per_dim(64 * math.log(2.0), 64) == pytest.approx(1.0)
    np.testing.assert_allclose(nats_to_bits_per_dim(np.array([0.0, 2 * math.log(2.0)]), 2), [0.0, 1.0])
    np.testing.assert_allclose(nats_to_bits_per_dim(tf.constant([math.log(2.0)]), 1).numpy(), [1.0], rtol=1e-6, atol=1e-6)


def test_dequantization_adds_the_noise_and_checks_its_argument():
    np.testing.assert_array_equal(dequantize(np.array([0.0, 3.0]), np.array([0.25, 0.5])), [0.25, 3.5])
    assert check_dequantization("variational", 17) == "variational"
    with pytest.raises(ValueError, match="dequantization must be one of"):
        check_dequantization("gaussian", 17)
    with pytest.raises(ValueError, match="needs discrete data"):
        check_dequantization("variational", None)


def test_non_finite_weights_are_refused_by_name():
    refuse_nonfinite_weights([], "refusing to export:")
    with pytest.raises(ValueError, match=r"^refusing to export: NaN or Inf in variable a, variable b \(did training diverge\?\)"):
        refuse_nonfinite_weights(["variable a", "variable b"], "refusing to export:")


def test_positive_amounts_are_floats_and_mistakes_are_named_by_kind():
    from tfnf.rules.numbers import check_positive

    assert check_positive(3, "--epochs") == 3.0 and check_positive(np.float32(0.5), "clip_norm") == 0.5
    with pytest.raises(TypeError, match="^--learning-rate must be a positive number, got '1e-3'"):
        check_positive("1e-3", "--learning-rate")
    for value in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=f"^--time-budget must be a positive number, got {value!r}$"):
            check_positive(value, "--time-budget")
