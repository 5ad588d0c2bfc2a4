"""Builders and bijectors reject bad arguments with messages that name them."""

import pytest

import tfnf
from tfnf.bijectors import AffineCoupling, Squeeze


@pytest.mark.parametrize(
    "build, error, words",
    [
        (lambda: tfnf.flows.glow((6, 6, 1), num_levels=2), ValueError, "divisible by 4"),
        (lambda: tfnf.flows.glow((8, 8), num_levels=1), ValueError, "event_shape"),
        (lambda: tfnf.flows.glow((8, 8, 1), coupling="spline"), ValueError, "coupling"),
        (lambda: tfnf.flows.realnvp((4, 4)), ValueError, "event_shape"),
        (lambda: tfnf.flows.realnvp((2,), num_couplings=0), ValueError, "num_couplings"),
        (lambda: tfnf.flows.realnvp((2,), fourier_frequencies="often"), ValueError, "fourier_frequencies"),
        (lambda: tfnf.flows.realnvp((2,), fourier_frequencies=(1.0, -2.0)), ValueError, "fourier_frequencies"),
        (lambda: tfnf.flows.realnvp((8, 8, 1), fourier_frequencies=(1.0,)), ValueError, "vector flows only"),
        (lambda: tfnf.flows.nice("abc"), TypeError, "event_shape"),
        (lambda: Squeeze((5, 4, 1)), ValueError, "divisible"),
        (lambda: AffineCoupling((4, 4, 2), mask="half"), ValueError, "mask"),
        (lambda: AffineCoupling((4, 4)), ValueError, "event_shape"),
        (lambda: AffineCoupling((4,), scale_bound=0), ValueError, "scale_bound"),
    ],
)
def test_bad_arguments_are_named(build, error, words):
    with pytest.raises(error, match=words):
        build()


def test_check_invertibility_reports_round_trip_error():
    import numpy as np
    import tensorflow as tf

    from tests.bijectors.cases import randomize

    flow = tfnf.flows.realnvp((4,), num_couplings=4, hidden_units=(8,))
    randomize(flow)
    x = np.random.default_rng(0).standard_normal((16, 4)).astype("float32")
    report = tfnf.check_invertibility(flow, x)
    assert report["finite"] and report["max_abs_error"] < 1e-4
    broken = flow.bijector.bijectors[0]
    original = broken._forward_and_log_det
    broken._forward_and_log_det = lambda z: (z + 1.0, tf.zeros(tf.shape(z)[:1]))
    try:
        assert tfnf.check_invertibility(flow, x)["max_abs_error"] > 0.5
    finally:
        broken._forward_and_log_det = original
