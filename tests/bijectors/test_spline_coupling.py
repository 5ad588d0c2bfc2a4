"""The rational-quadratic spline transformer and coupling: identity at start, a genuine spline once randomised."""

import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tfnf.bijectors import RationalQuadraticSplineTransformer, SplineCoupling


def test_zero_parameters_are_the_identity():
    transformer = RationalQuadraticSplineTransformer(num_bins=6, bound=2.0)
    x = tf.constant(np.linspace(-4.0, 4.0, 41), tf.float64)
    params = tf.zeros([41, transformer.num_params], tf.float64)
    y, log_det = transformer.forward(x, params)
    np.testing.assert_allclose(y.numpy(), x.numpy(), atol=1e-12)
    np.testing.assert_allclose(log_det.numpy(), 0.0, atol=1e-12)
    assert transformer.num_params == 3 * 6 - 1


@pytest.mark.parametrize("scale", [0.3, 0.1])  # the bijector suite's and the flow suite's perturbations
def test_randomised_coupling_is_a_nonlinear_spline_with_identity_tails(scale):
    """For a fixed conditioning half, the transformed element's map has a varying slope inside
    `[-bound, bound]` (an affine map would not) and is exactly the identity outside."""
    bijector = SplineCoupling((2,), num_bins=5, bound=2.0, hidden_units=(8,), dtype=tf.float64)
    grid = np.linspace(-3.0, 3.0, 121)
    z = tf.constant(np.stack([np.full_like(grid, 0.7), grid], axis=1))
    np.testing.assert_allclose(bijector.forward(z).numpy(), z.numpy(), atol=1e-12)  # zero-initialised: identity
    randomize(bijector, seed=3, scale=scale)
    z = fresh(z)
    with tf.GradientTape() as tape:
        tape.watch(z)
        y = bijector.forward(z)
        y_transformed = y[:, 1]
    slope = tape.gradient(y_transformed, z).numpy()[:, 1]
    inside, outside = np.abs(grid) < 2.0, np.abs(grid) > 2.0
    assert np.ptp(np.log(slope[inside])) > 0.05
    np.testing.assert_allclose(y.numpy()[outside], z.numpy()[outside], atol=1e-12)
    np.testing.assert_allclose(y.numpy()[:, 0], 0.7)  # the conditioning half passes through
    np.testing.assert_allclose(bijector.forward_log_det_jacobian(fresh(z), 1).numpy(), np.log(slope), atol=1e-10)


def test_a_randomised_nsf_is_not_the_identity():
    flow = tfnf.flows.nsf((4,), num_couplings=2, hidden_units=(8,), num_bins=4, bound=2.0)
    randomize(flow, scale=0.1)
    z = tf.constant(np.random.default_rng(0).standard_normal((64, 4)), tf.float32)
    assert float(tf.reduce_max(tf.abs(flow.bijector.forward(z) - z))) > 0.05


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: RationalQuadraticSplineTransformer(num_bins=0), "num_bins"),
        (lambda: RationalQuadraticSplineTransformer(bound=-1.0), "bound"),
        (lambda: RationalQuadraticSplineTransformer(num_bins=10, bound=0.001), "min_bin_size"),
        (lambda: RationalQuadraticSplineTransformer(min_slope=1.5), "min_slope"),
        (lambda: SplineCoupling((4, 4, 2)), "event_shape"),
        (lambda: tfnf.flows.nsf((4, 4, 1)), "event_shape"),
        (lambda: tfnf.flows.nsf((4,), num_couplings=0), "num_couplings"),
    ],
)
def test_bad_arguments_are_named(build, words):
    with pytest.raises(ValueError, match=words):
        build()


@pytest.mark.parametrize("num_bins", [1, 2, 8])
def test_spline_transformer_is_tfps_rational_quadratic_spline(num_bins):
    """The direct evaluation (one bin search for value and log-derivative) gives the map of
    `tfb.RationalQuadraticSpline` with the same knots, inside and outside `[-bound, bound]`."""
    transformer = RationalQuadraticSplineTransformer(num_bins, bound=3.0)
    rng = np.random.default_rng(num_bins)
    x = tf.constant(rng.uniform(-4.0, 4.0, (200, 5)))
    params = tf.constant(rng.normal(0.0, 1.0, (200, 5, transformer.num_params)))
    y, log_det = transformer.forward(x, params)
    spline = transformer.spline(params)
    np.testing.assert_allclose(y, spline.forward(x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(log_det, spline.forward_log_det_jacobian(x, event_ndims=0), rtol=1e-9, atol=1e-9)
    x_back, inverse_log_det = transformer.inverse(y, params)
    np.testing.assert_allclose(x_back, x, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(inverse_log_det, -log_det, rtol=1e-7, atol=1e-7)


def test_spline_of_one_bin_is_the_identity():
    transformer = RationalQuadraticSplineTransformer(1, bound=2.0)
    x = tf.constant(np.linspace(-3.0, 3.0, 13).reshape(13, 1))
    params = tf.constant(np.random.default_rng(0).normal(size=(13, 1, transformer.num_params)))
    y, log_det = transformer.forward(x, params)
    np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(log_det, np.zeros_like(x), rtol=0, atol=1e-12)
