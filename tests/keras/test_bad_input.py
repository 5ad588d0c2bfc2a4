"""Bad input at every public `FlowModel` entry point raises an error naming the problem.

Each bad batch is tried at each entry point that takes data; nothing may be
trained or changed by a call that fails.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

import tfnf

EVENT = (8, 8, 1)
SHAPE = r"(must have shape|must yield batches of shape) \[(batch, )?8, 8, 1\]"
DTYPE = "must hold real numbers, got dtype"


def _images(value, n=2, dtype=np.float32):
    return np.full((n, *EVENT), value, dtype)


# (id, batch, error type, message pattern)
BAD_BATCHES = [
    ("rank_8x8", np.zeros((2, 8, 8), np.float32), ValueError, SHAPE),
    ("points_2d", np.zeros((5, 2), np.float32), ValueError, SHAPE),
    ("wrong_size", np.zeros((2, 4, 4, 1), np.float32), ValueError, SHAPE),
    ("strings", np.full((2, *EVENT), "a"), TypeError, DTYPE),
    ("complex", _images(1 + 1j, dtype=np.complex64), TypeError, DTYPE + " complex64"),
    ("bool", _images(True, dtype=bool), TypeError, DTYPE + " bool"),
    ("nan", _images(np.nan), ValueError, "NaN or Inf"),
    ("inf", _images(-np.inf), ValueError, "NaN or Inf"),
    ("pixel_17", _images(17.0), ValueError, r"pixel values in \[0, 17\)"),
    ("pixel_negative", _images(-1.0), ValueError, r"pixel values in \[0, 17\)"),
    ("empty", np.zeros((0, *EVENT), np.float32), ValueError, "empty"),
]
IDS = [case[0] for case in BAD_BATCHES]
VALUE_CASES = {"nan", "inf", "pixel_17", "pixel_negative"}


@pytest.fixture(scope="module")
def model():
    x = load_digits().images[:128, :, :, None].astype("float32")
    model = tfnf.FlowModel(tfnf.flows.glow(EVENT, num_levels=1, num_steps=1, hidden_channels=4, seed=0), num_bins=17)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, batch_size=64, epochs=1, verbose=0)
    return model


def _dataset(batch):
    return tf.data.Dataset.from_tensor_slices(batch).batch(2)


def _digits(n=4):
    return np.random.default_rng(0).integers(0, 17, (n, *EVENT)).astype("float32")


# Entry point -> a call feeding `batch` to it. `decode` takes latents, which have no pixel range.
ENTRY_POINTS = {
    "log_prob": lambda m, b: m.log_prob(b),
    "bits_per_dim": lambda m, b: m.bits_per_dim(b),
    "encode": lambda m, b: m.encode(b),
    "decode": lambda m, b: m.decode(b),
    "interpolate": lambda m, b: m.interpolate(b, b, steps=3),
    "fit_array": lambda m, b: m.fit(b, batch_size=2, epochs=1, verbose=0),
    "fit_dataset": lambda m, b: m.fit(_dataset(b), epochs=1, verbose=0),
    "fit_validation_array": lambda m, b: m.fit(_digits(), batch_size=2, validation_data=(b,), epochs=1, verbose=0),
    "fit_validation_dataset": lambda m, b: m.fit(_digits(), batch_size=2, validation_data=_dataset(b), epochs=1, verbose=0),
    "evaluate_array": lambda m, b: m.evaluate(b, verbose=0),
    "evaluate_dataset": lambda m, b: m.evaluate(_dataset(b), verbose=0),
}


SKIPPED = "skipped"


def expectation(entry, case_id, error, pattern):
    """What `entry` does with bad batch `case_id`: (error type, pattern), None if it is accepted,
    or `SKIPPED` for a training step that is skipped."""
    if entry == "fit_dataset" and case_id in ("nan", "inf"):
        return SKIPPED
    if entry == "decode" and case_id.startswith("pixel"):
        return None  # latents are unbounded
    if entry == "interpolate" and error is ValueError and pattern == SHAPE:
        return ValueError, r"x_a must have shape \[8, 8, 1\] or \[batch, 8, 8, 1\]"
    if entry == "interpolate" and pattern == "empty":
        return ValueError, "x_a is an empty batch"
    if "dataset" in entry and case_id == "empty":
        return ValueError, "is empty"
    if "dataset" in entry and case_id == "strings":
        return TypeError, DTYPE + " string"
    return error, pattern


CASES = [
    pytest.param(entry, case_id, batch, expectation(entry, case_id, error, pattern), id=f"{entry}-{case_id}")
    for entry in ENTRY_POINTS
    for case_id, batch, error, pattern in BAD_BATCHES
]


@pytest.mark.parametrize("entry, case_id, batch, expected", CASES)
def test_bad_batch_is_named_and_changes_nothing(model, entry, case_id, batch, expected):
    before = [v.numpy().copy() for v in model.weights]
    if expected is None:  # accepted by design: the call succeeds and gives finite values
        assert np.all(np.isfinite(ENTRY_POINTS[entry](model, batch).numpy()))
        return
    if expected == SKIPPED:  # a non-finite training batch is a numerical fault: skipped, and an epoch of them is NaN
        trained = [v.numpy().copy() for v in model.trainable_weights]
        history = ENTRY_POINTS[entry](model, batch)
        assert history.history["skipped_steps"] == [1.0] and np.isnan(history.history["loss"][0])
        for variable, value in zip(model.trainable_weights, trained):
            np.testing.assert_array_equal(variable.numpy(), value, err_msg=variable.path)
        return
    error, pattern = expected
    with pytest.raises(error, match=pattern):
        ENTRY_POINTS[entry](model, batch)
    if entry == "fit_validation_dataset" and case_id in VALUE_CASES:
        return  # values of a validation dataset are checked when it is read, after an epoch of (good) training
    for variable, value in zip(model.weights, before):
        np.testing.assert_array_equal(variable.numpy(), value, err_msg=variable.path)


def test_non_finite_training_batches_are_skipped_not_applied(model):
    """A non-finite batch of a training dataset is a numerical fault, not an error: skipped and counted."""
    batches = _dataset(np.concatenate([_digits(2), _images(np.nan, n=2), _images(np.inf, n=2)]))
    history = model.fit(batches, epochs=1, verbose=0)
    assert history.history["skipped_steps"] == [2.0] and np.isfinite(history.history["loss"][0])
    assert all(np.all(np.isfinite(v.numpy())) for v in model.trainable_variables)


def test_a_bad_batch_deep_in_a_dataset_is_caught_while_reading(model):
    """Value checks on datasets run as batches are read, not only on the first ones."""
    good = _digits(8)
    bad = np.concatenate([good, _images(16.5, n=2), _images(40.0, n=2)])
    with pytest.raises(ValueError, match=r"x must hold pixel values in \[0, 17\).*40"):
        model.evaluate(_dataset(bad), verbose=0)
    with pytest.raises(ValueError, match=r"pixel values in \[0, 17\)"):
        model.fit(_dataset(bad), epochs=1, verbose=0)


def test_unbatched_and_dict_datasets_are_named(model):
    single = tf.data.Dataset.from_tensor_slices(_digits())
    with pytest.raises(ValueError, match=r"got single examples of shape \[8, 8, 1\]; call .batch"):
        model.fit(single, epochs=1, verbose=0)
    with pytest.raises(TypeError, match="must yield tensors"):
        model.evaluate(tf.data.Dataset.from_tensor_slices({"image": _digits()}).batch(2), verbose=0)


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (dict(n=0), ValueError, r"n \(the number of samples\) must be positive, got 0"),
        (dict(n=-3), ValueError, "must be positive, got -3"),
        (dict(n=2.5), TypeError, "must be an integer, got 2.5"),
        (dict(n="4"), TypeError, "must be an integer"),
        (dict(n=2, temperature=-0.5), ValueError, "temperature must be finite and >= 0, got -0.5"),
        (dict(n=2, temperature=float("nan")), ValueError, "temperature must be finite and >= 0, got nan"),
        (dict(n=2, temperature=float("inf")), ValueError, "temperature must be finite and >= 0, got inf"),
        (dict(n=2, temperature="hot"), TypeError, "temperature must be a real number"),
        (dict(n=2, seed="abc"), TypeError, "seed must be an integer, got 'abc'"),
        (dict(n=2, seed=2.5), TypeError, "seed must be an integer, got 2.5"),
        (dict(n=2, seed=-1), ValueError, "seed must be >= 0, got -1"),
        (dict(n=2, seed=2**32), ValueError, "seed must be <= 4294967295, got 4294967296"),
        (dict(n=2, seed=[1, 2, 3]), ValueError, "seed must be an integer or a pair of integers, got 3 values"),
    ],
    ids=["n_0", "n_negative", "n_float", "n_string", "temperature_negative", "temperature_nan", "temperature_inf", "temperature_string",
         "seed_string", "seed_float", "seed_negative", "seed_2_to_the_32", "seed_triple"],
)
def test_bad_sampling_arguments(model, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        model.sample(**kwargs)


def test_bad_interpolation_arguments(model):
    x = _digits(2)
    with pytest.raises(ValueError, match="steps must be >= 2, got 1"):
        model.interpolate(x[0], x[1], steps=1)
    with pytest.raises(ValueError, match="x_a and x_b must have the same shape"):
        model.interpolate(x, x[:1])
    with pytest.raises(ValueError, match=r"x_b must hold pixel values in \[0, 17\)"):
        model.interpolate(x[0], x[1] + 17)


def test_continuous_model_takes_any_finite_value_but_no_nan():
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    assert np.all(np.isfinite(model.log_prob(np.array([[-1e3, 40.0]], np.float32)).numpy()))
    with pytest.raises(ValueError, match="NaN or Inf"):
        model.log_prob(np.array([[0.0, np.nan]], np.float32))
    with pytest.raises(ValueError, match=r"shape \[batch, 2\]"):
        model.log_prob(np.zeros((3, 8, 8, 1), np.float32))


def test_zero_dimensional_numbers_are_numbers(model):
    expected = model.sample(2, temperature=0.7, seed=4).numpy()
    for temperature in (np.array(0.7), np.float32(0.7), tf.constant(0.7), np.float64(0.7)):
        np.testing.assert_array_equal(model.sample(2, temperature=temperature, seed=4).numpy(), expected)
    for n in (np.int64(2), np.array(2), tf.constant(2)):
        np.testing.assert_array_equal(model.sample(n, temperature=0.7, seed=4).numpy(), expected)
    np.testing.assert_array_equal(model.sample(2, temperature=0.7, seed=np.uint32(4)).numpy(), expected)


@pytest.mark.parametrize(
    "num_bins, error",
    [(float("inf"), ValueError), (float("nan"), ValueError), (2.5, ValueError), ([17], TypeError), ("17", TypeError), (True, TypeError)],
    ids=["inf", "nan", "fraction", "list", "string", "bool"],
)
def test_num_bins_that_are_not_an_integer_are_named(num_bins, error):
    flow = tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,))
    with pytest.raises(error, match=r"num_bins must be an integer in \[2, 65536\] or None, got"):
        tfnf.FlowModel(flow, num_bins=num_bins)
    assert tfnf.FlowModel(flow, num_bins=np.int64(17)).num_bins == 17
    assert tfnf.FlowModel(flow, num_bins=17.0).num_bins == 17


@pytest.mark.parametrize("call", ["fit", "evaluate"])
def test_missing_data_name_x(model, call):
    with pytest.raises(ValueError, match=f"{call} needs data: x is None"):
        getattr(model, call)(None, verbose=0)


def test_an_unconditional_model_given_a_tuple_of_inputs_says_so(model):
    x = _digits(4)
    with pytest.raises(ValueError, match=r"this FlowModel is unconditional but got x as a tuple of 2 arrays"):
        model.fit((x, np.arange(4)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"this FlowModel is unconditional but got x as a tuple of 2 arrays"):
        model.evaluate((x, x), verbose=0)
