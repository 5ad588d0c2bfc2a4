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
