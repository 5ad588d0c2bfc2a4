"""Bad input to the SavedModel signatures fails with an error naming the problem.

The signatures fix the input dtypes; everything else (shape, empty batches,
NaN/Inf, pixel range, `num_samples`, `temperature`) is asserted inside the
exported graph, so a serving client sees the same messages.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

import tfnf

EVENT = (8, 8, 1)
SHAPE = r"x must have shape \[batch, 8, 8, 1\], got\] \[{}\]"


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    x = load_digits().images[:128, :, :, None].astype("float32")
    model = tfnf.FlowModel(tfnf.flows.glow(EVENT, num_levels=1, num_steps=1, hidden_channels=4, seed=0), num_bins=17)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, batch_size=64, epochs=1, verbose=0)
    loaded = tf.saved_model.load(model.export(tmp_path_factory.mktemp("bad") / "digits" / "1"))
    return model, loaded


def _images(value, n=2, dtype=tf.float32):
    return tf.fill([n, *EVENT], tf.constant(value, dtype))


# (id, x, message pattern); every failure is a tf.errors.InvalidArgumentError.
BAD_X = [
    ("rank_8x8", tf.zeros([2, 8, 8]), SHAPE.format("2 8 8")),
    ("points_2d", tf.zeros([5, 2]), SHAPE.format("5 2")),
    ("wrong_size", tf.zeros([3, 4, 4, 1]), SHAPE.format("3 4 4 1")),
    ("strings", tf.fill([2, *EVENT], "a"), "expected to be a float tensor but is a string tensor"),
    ("complex", tf.zeros([2, *EVENT], tf.complex64), "expected to be a float tensor but is a complex64 tensor"),
    ("bool", tf.zeros([2, *EVENT], tf.bool), "expected to be a float tensor but is a bool tensor"),
    ("float64", tf.zeros([2, *EVENT], tf.float64), "expected to be a float tensor but is a double tensor"),
    ("nan", _images(np.nan), r"x contains NaN or Inf values"),
    ("inf", _images(np.inf), r"x contains NaN or Inf values"),
    ("pixel_17", _images(17.0), r"x must hold pixel values in \[0, 17\) for num_bins=17, got values in\] \[17\] \[17\]"),
    ("pixel_negative", _images(-0.5), r"x must hold pixel values in \[0, 17\)"),
    ("empty", tf.zeros([0, *EVENT]), "x is an empty batch"),
]


def _expected(signature, case_id, pattern):
    if signature == "decode":
        if case_id.startswith("pixel"):
            return None  # latents are unbounded
        return pattern.replace("x must", "z must").replace("x contains", "z contains").replace("x is", "z is")
    return pattern


CASES = [
    pytest.param(signature, x, _expected(signature, case_id, pattern), id=f"{signature}-{case_id}")
    for signature in ("serving_default", "log_prob", "encode", "decode")
    for case_id, x, pattern in BAD_X
]


@pytest.mark.parametrize("signature, x, pattern", CASES)
def test_bad_batches_are_named(export, signature, x, pattern):
    _, loaded = export
    function = loaded.signatures[signature]
    name = "z" if signature == "decode" else "x"
    if pattern is None:
        assert np.all(np.isfinite(function(**{name: x})["x"].numpy()))
        return
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern):
        function(**{name: x})


SAMPLING = [
    ("num_samples_0", 0, 1.0, r"num_samples must be positive, got\] \[0\]"),
    ("num_samples_negative", -4, 1.0, r"num_samples must be positive, got\] \[-4\]"),
    ("temperature_negative", 2, -0.5, r"temperature must be finite and >= 0, got\] \[-0.5\]"),
    ("temperature_nan", 2, float("nan"), r"temperature must be finite and >= 0, got\] \[nan\]"),
    ("temperature_inf", 2, float("inf"), r"temperature must be finite and >= 0, got\] \[inf\]"),
]


@pytest.mark.parametrize("seeded", [False, True], ids=["sample", "sample_seeded"])
@pytest.mark.parametrize("num_samples, temperature, pattern", [c[1:] for c in SAMPLING], ids=[c[0] for c in SAMPLING])
def test_bad_sampling_arguments_are_named(export, seeded, num_samples, temperature, pattern):
    _, loaded = export
    kwargs = dict(num_samples=tf.constant(num_samples), temperature=tf.constant(temperature))
    if seeded:
        kwargs["seed"] = tf.constant([1, 2])
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern):
        loaded.signatures["sample_seeded" if seeded else "sample"](**kwargs)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(num_samples=tf.constant(2.0), temperature=tf.constant(1.0)), "expected to be a int32 tensor but is a float tensor"),
        (dict(num_samples=tf.constant(2), temperature=tf.constant(1.0, tf.float64)), "expected to be a float tensor but is a double tensor"),
        (dict(num_samples=tf.constant("2"), temperature=tf.constant(1.0)), "expected to be a int32 tensor but is a string tensor"),
    ],
    ids=["num_samples_float", "temperature_float64", "num_samples_string"],
)
def test_wrong_sampling_dtypes_are_named(export, kwargs, pattern):
    _, loaded = export
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern):
        loaded.signatures["sample"](**kwargs)


def test_good_input_still_matches_the_model(export):
    model, loaded = export
    x = np.random.default_rng(0).integers(0, 17, (3, *EVENT)).astype("float32")
    np.testing.assert_allclose(loaded.signatures["log_prob"](x=tf.constant(x))["log_prob"].numpy(), model.log_prob(x).numpy(), rtol=1e-4, atol=1e-4)
    edge = np.concatenate([np.zeros((1, *EVENT)), np.full((1, *EVENT), 16.999)]).astype("float32")
    assert np.all(np.isfinite(loaded.signatures["log_prob"](x=tf.constant(edge))["log_prob"].numpy()))
    samples = loaded.signatures["sample"](num_samples=tf.constant(1), temperature=tf.constant(0.0))["samples"]
    assert samples.shape == (1, *EVENT)


@pytest.mark.parametrize("signature", ["sample", "sample_seeded"])
def test_sample_counts_beyond_the_size_cap_are_named(export, signature):
    """As `FlowModel.sample`, one call returns at most 4 GiB: 2**32 / (64 values * 4 bytes) = 16777216 samples."""
    _, loaded = export
    for num_samples in (2**31 - 1, 2**24 + 1):
        kwargs = dict(num_samples=tf.constant(num_samples), temperature=tf.constant(1.0))
        if signature == "sample_seeded":
            kwargs["seed"] = tf.constant([1, 2])
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"num_samples must be at most 16777216 \(4 GiB of samples"):
            loaded.signatures[signature](**kwargs)
