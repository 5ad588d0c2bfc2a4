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
        # an argument of the other kind of flow would be ignored: refused instead
        (lambda: tfnf.flows.realnvp((8, 8, 1), num_couplings=4), ValueError, "num_couplings applies to vector flows only"),
        (lambda: tfnf.flows.realnvp((8, 8, 1), mask="alternate"), ValueError, "mask applies to vector flows only"),
        (lambda: tfnf.flows.realnvp((8, 8, 1), hidden_units=(32,)), ValueError, "hidden_units applies to vector flows"),
        (lambda: tfnf.flows.realnvp((4,), hidden_channels=32), ValueError, "hidden_channels applies to image flows only"),
        (lambda: tfnf.flows.realnvp((4,), num_levels=2), ValueError, "num_levels applies to image flows only"),
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


GLOW = dict(num_levels=1, num_steps=1, hidden_channels=8)  # a tiny valid Glow, one argument replaced per case
VECTOR = dict(hidden_units=(8,))


def _glow(**changes):
    return lambda: tfnf.flows.glow((8, 8, 1), **{**GLOW, **changes})


def _vector(builder, **changes):
    return lambda: getattr(tfnf.flows, builder)((2,), **{**VECTOR, **changes})


@pytest.mark.parametrize(
    "build, error, name, given",
    [
        # glow: each of these built silently or failed deep inside TF / Keras without naming the argument
        (_glow(hidden_channels=0), ValueError, "hidden_channels", "0"),
        (_glow(hidden_channels=8.5), TypeError, "hidden_channels", "8.5"),
        (_glow(hidden_channels=-8), ValueError, "hidden_channels", "-8"),
        (_glow(num_levels=True), TypeError, "num_levels", "True"),
        (_glow(num_steps=2.5), TypeError, "num_steps", "2.5"),
        (_glow(dtype="int32"), ValueError, "dtype", "int32"),
        (_glow(dtype="float16"), ValueError, "dtype", "float16"),
        (_glow(dtype="floaty"), TypeError, "dtype", "floaty"),
        (_glow(dropout=1.5), ValueError, "dropout", "1.5"),
        (_glow(dropout="0.3"), TypeError, "dropout", "0.3"),
        (_glow(seed=-1), ValueError, "seed", "-1"),
        (_glow(seed=1.5), TypeError, "seed", "1.5"),
        (_glow(num_classes="ten"), TypeError, "num_classes", "ten"),
        (lambda: tfnf.flows.glow((8.5, 8, 1), **GLOW), TypeError, "event_shape", "8.5"),
        # realnvp, vectors and images
        (_vector("realnvp", hidden_units=8), TypeError, "hidden_units", "8"),
        (_vector("realnvp", hidden_units=(8, 0)), ValueError, "hidden_units", r"\(8, 0\)"),
        (_vector("realnvp", hidden_units=(8, 8.5)), TypeError, "hidden_units", "8.5"),
        (_vector("realnvp", hidden_units="64"), TypeError, "hidden_units", "64"),
        (_vector("realnvp", num_couplings=2.5), TypeError, "num_couplings", "2.5"),
        (_vector("realnvp", dtype="float16"), ValueError, "dtype", "float16"),
        (_vector("realnvp", fourier_frequencies=3), TypeError, "fourier_frequencies", "3"),
        (_vector("realnvp", context_shape=(2.5,)), TypeError, "context_shape", "2.5"),
        (lambda: tfnf.flows.realnvp((8, 8, 1), hidden_channels=0), ValueError, "hidden_channels", "0"),
        (lambda: tfnf.flows.realnvp((8, 8, 1), num_levels=1.5), TypeError, "num_levels", "1.5"),
        (lambda: tfnf.flows.realnvp((8, 8, 1), hidden_channels=8, dropout=-0.1), ValueError, "dropout", "-0.1"),
        # nice
        (_vector("nice", hidden_units=8), TypeError, "hidden_units", "8"),
        (_vector("nice", num_couplings=True), TypeError, "num_couplings", "True"),
        (_vector("nice", dropout=1.0), ValueError, "dropout", "1.0"),
        (_vector("nice", dtype="int32"), ValueError, "dtype", "int32"),
        # nsf
        (_vector("nsf", hidden_units=8), TypeError, "hidden_units", "8"),
        (_vector("nsf", hidden_units=(16, -1)), ValueError, "hidden_units", "-1"),
        (_vector("nsf", num_bins=8.5), TypeError, "num_bins", "8.5"),
        (_vector("nsf", bound=float("inf")), ValueError, "bound", "inf"),
        (_vector("nsf", dropout=1.5), ValueError, "dropout", "1.5"),
        (_vector("nsf", dtype="int32"), ValueError, "dtype", "int32"),
        # maf and iaf
        (_vector("maf", hidden_units=8), TypeError, "hidden_units", "8"),
        (_vector("maf", num_layers=2.0), TypeError, "num_layers", "2.0"),
        (_vector("maf", scale_bound=float("inf")), ValueError, "scale_bound", "inf"),
        (_vector("maf", dtype="int32"), ValueError, "dtype", "int32"),
        (_vector("iaf", hidden_units=8), TypeError, "hidden_units", "8"),
        (_vector("iaf", num_layers=0.5), TypeError, "num_layers", "0.5"),
        (_vector("iaf", dropout=1.5), ValueError, "dropout", "1.5"),
        (_vector("iaf", dtype="float16"), ValueError, "dtype", "float16"),
    ],
)
def test_builder_arguments_are_checked_up_front(build, error, name, given):
    """Each argument is checked by the builder itself: the error names the argument and
    says what was given (the old builders built some of these silently and let others
    fail inside TensorFlow or Keras with messages that named neither)."""
    with pytest.raises(error, match=rf"^{name} must be .*got .*{given}") as info:
        build()
    assert "\n" not in str(info.value)


def test_valid_arguments_of_other_integer_and_sequence_types_are_recorded_as_python_values():
    import json

    import numpy as np

    flow = tfnf.flows.glow(
        (np.int64(8), 8, 1), num_levels=np.int64(1), num_steps=np.int32(1), hidden_channels=np.int64(8),
        dropout=np.float32(0.25), seed=np.int64(3), dtype=np.float64,
    )
    config = tfnf.flows.flow_config(flow)
    assert config["dtype"] == "float64" and config["config"]["seed"] == 3
    assert all(type(config["config"][key]) is int for key in ("num_levels", "num_steps", "hidden_channels", "seed"))
    json.dumps(config)  # every recorded value is a plain Python value
    vector = tfnf.flows.maf((3,), num_layers=np.int64(2), hidden_units=np.array([8, 8]), scale_bound=1)
    assert tfnf.flows.flow_config(vector)["config"]["hidden_units"] == (8, 8)
    assert tfnf.flows.flow_config(tfnf.flows.realnvp((2,), hidden_units=[]))["config"]["hidden_units"] == ()


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
