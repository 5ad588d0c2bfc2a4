"""Nothing silent: overflowing values, skipped epochs, stray conditions and huge sample counts are named."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf


@pytest.fixture(scope="module")
def model(digit_images):
    model = tfnf.FlowModel(tfnf.flows.glow((8, 8, 1), num_levels=1, num_steps=1, hidden_channels=4, seed=0), num_bins=17)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(digit_images[:128], batch_size=64, epochs=1, verbose=0)
    return model


def test_values_beyond_the_models_dtype_are_not_finite():
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    huge = np.array([[1e300, 0.0]], np.float64)
    for call in (model.log_prob, model.encode, model.bits_per_dim):
        with pytest.raises(ValueError, match="beyond the range of the model's dtype float32"):
            call(huge)
    model.compile()
    with pytest.raises(ValueError, match="beyond the range of the model's dtype float32"):
        model.fit(np.repeat(huge, 8, axis=0), batch_size=4, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"NaN or Inf values \(in the model dtype float32\)"):
        model.evaluate(tf.data.Dataset.from_tensor_slices(np.repeat(huge, 8, axis=0)).batch(4), verbose=0)


def test_an_epoch_of_skipped_steps_reports_nan_not_a_perfect_loss(model):
    def all_nan():
        for _ in range(3):
            yield (np.full((4, 8, 8, 1), np.nan, np.float32),)

    history = model.fit(all_nan(), epochs=1, verbose=0)
    assert history.history["skipped_steps"] == [3.0]
    assert np.isnan(history.history["loss"][0]) and np.isnan(history.history["bits_per_dim"][0])


@pytest.mark.parametrize("path", ["arrays", "dataset", "generator", "validation"])
def test_a_condition_given_to_an_unconditional_model_is_one_error_on_every_path(model, digit_images, path):
    x, y = digit_images[:8], np.arange(8) % 10

    def pairs():
        yield x, y

    calls = {
        "arrays": lambda: model.fit(x, y, epochs=1, verbose=0),
        "dataset": lambda: model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(4), epochs=1, verbose=0),
        "generator": lambda: model.fit(pairs(), epochs=1, verbose=0),
        "validation": lambda: model.fit(x, epochs=1, validation_data=(x, y), verbose=0),
    }
    with pytest.raises(ValueError, match=r"this FlowModel is unconditional but got y \(conditions"):
        calls[path]()


@pytest.mark.parametrize(
    "n, pattern",
    [(2**31, r"n \(the number of samples\) must be at most 2147483647"), (10**8, r"n \(the number of samples\) = 100000000 would return 23.8 GiB")],
)
def test_huge_sample_counts_are_named_before_allocating(model, n, pattern):
    with pytest.raises(ValueError, match=pattern):
        model.sample(n)


def test_a_large_sample_is_decoded_in_chunks_with_the_same_result(model, monkeypatch):
    import tfnf.keras.flow_model as flow_model

    whole = model.sample(10, seed=3).numpy()
    monkeypatch.setattr(flow_model, "SAMPLE_CHUNK", 4)
    np.testing.assert_allclose(model.sample(10, seed=3).numpy(), whole, rtol=1e-5, atol=1e-5)


def test_a_generator_batch_of_the_wrong_event_shape_is_named(model):
    def wrong_shape():
        yield (np.zeros((4, 8, 8, 2), np.float32),)

    with pytest.raises(ValueError, match=r"x must have shape \[batch, 8, 8, 1\], got batches of shape.*8.*8.*2"):
        model.fit(wrong_shape(), epochs=1, verbose=0)


@pytest.mark.parametrize("jit_compile", ["auto", True])
def test_a_later_generator_batch_of_the_wrong_event_shape_is_named_with_or_without_xla(digit_images, jit_compile):
    # the bad batch is read inside tf.data, after Keras has looked at the first ones; XLA drops
    # in-graph assertions, so the shape is checked as the generator yields it
    model = tfnf.FlowModel(tfnf.flows.glow((8, 8, 1), num_levels=1, num_steps=1, hidden_channels=4, seed=0), num_bins=17)
    model.compile(jit_compile=jit_compile, steps_per_execution=1)

    def batches():
        for start in range(0, 256, 32):
            yield (digit_images[start : start + 32],)
        yield (np.zeros((32, 8, 8, 2), np.float32),)

    with pytest.raises(ValueError, match=r"^x must have shape \[batch, 8, 8, 1\], got batches of shape \[32, 8, 8, 2\]$"):
        model.fit(batches(), epochs=1, verbose=0)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float64])
def test_8_bit_pixels_in_any_dtype_with_256_bins(dtype):
    pixels = np.random.default_rng(0).integers(0, 256, (64, 4, 4, 1)).astype(dtype)
    pixels[0, 0, 0, 0] = 255
    model = tfnf.FlowModel(tfnf.flows.glow((4, 4, 1), num_levels=1, num_steps=1, hidden_channels=4, seed=0), num_bins=256)
    model.compile()
    history = model.fit(pixels, batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    dataset = tf.data.Dataset.from_tensor_slices(pixels).batch(32)
    assert np.isfinite(model.evaluate(dataset, verbose=0, return_dict=True)["loss"])
    expected = model.log_prob(pixels[:4].astype(np.float32)).numpy()
    np.testing.assert_allclose(model.log_prob(pixels[:4]).numpy(), expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match=r"pixel values in \[0, 256\)"):
        model.log_prob(np.full((1, 4, 4, 1), 256, np.int64))


def test_num_bins_up_to_two_to_the_sixteen():
    flow = tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,))
    assert tfnf.FlowModel(flow, num_bins=2**16).num_bins == 65536
    with pytest.raises(ValueError, match="num_bins must be an integer in \\[2, 65536\\]"):
        tfnf.FlowModel(flow, num_bins=2**16 + 1)
