"""FlowModel on a conditional flow: fit/evaluate on (x, y), conditional sampling, errors, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf


@pytest.fixture(scope="module")
def labelled_digits():
    images, labels = tfnf.datasets.digits("train", as_numpy=True, with_labels=True)
    return images[:512], labels[:512]


@pytest.fixture(scope="module")
def trained(labelled_digits):
    x, y = labelled_digits
    flow = tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=1, hidden_channels=8, seed=0, num_classes=10)
    model = tfnf.FlowModel(flow, num_bins=17, seed=1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)  # XLA: test_fit_on_a_dataset_of_pairs
    assert model.conditional and model.needs_initialization
    history = model.fit(x, y, batch_size=128, epochs=2, validation_data=(x[:128], y[:128]), verbose=0)
    return model, history


def test_fit_on_arrays_initialises_actnorm_and_learns(trained):
    model, history = trained
    assert not model.needs_initialization
    assert np.all(np.isfinite(history.history["loss"])) and np.all(np.isfinite(history.history["val_loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["skipped_steps"] == [0.0, 0.0]


def test_log_prob_depends_on_the_label(trained, labelled_digits):
    model, _ = trained
    x, y = labelled_digits
    right = model.log_prob(x[:64], condition=y[:64]).numpy()
    wrong = model.log_prob(x[:64], condition=(y[:64] + 5) % 10).numpy()
    assert right.shape == (64,) and np.all(np.isfinite(right))
    assert right.mean() > wrong.mean()  # even briefly trained, the true label explains the digit better
    np.testing.assert_allclose(model.bits_per_dim(x[:4], condition=y[:4]).numpy(), -right[:4] / (64 * np.log(2.0)), rtol=1e-5, atol=1e-5)


def test_evaluate_on_arrays_and_on_a_dataset(trained, labelled_digits):
    model, _ = trained
    x, y = labelled_digits
    from_arrays = model.evaluate(x[:256], y[:256], batch_size=128, verbose=0, return_dict=True)
    dataset = tf.data.Dataset.from_tensor_slices((x[:256], y[:256])).batch(128)
    from_dataset = model.evaluate(dataset, verbose=0, return_dict=True)
    exact = -np.mean(model.log_prob(x[:256] + 0.5, condition=y[:256]).numpy())
    for result in (from_arrays, from_dataset):
        assert abs(result["loss"] - exact) < 10.0


def test_fit_on_a_dataset_of_pairs(labelled_digits):
    x, y = labelled_digits
    flow = tfnf.flows.glow((8, 8, 1), num_levels=1, num_steps=1, hidden_channels=8, seed=0, num_classes=10)
    model = tfnf.FlowModel(flow, num_bins=17)
    model.compile(jit_compile=True)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(128)
    history = model.fit(dataset, epochs=2, validation_data=dataset, verbose=0)
    assert not model.needs_initialization
    assert history.history["loss"][-1] < history.history["loss"][0]
    bad = tf.data.Dataset.from_tensor_slices((x[:128], np.full(128, 12, np.int32))).batch(64)
    with pytest.raises(ValueError, match=r"class labels in \[0, 10\)"):
        model.fit(bad, epochs=1, verbose=0)


def test_sampling_encoding_and_decoding_take_the_condition(trained, labelled_digits):
    model, _ = trained
    x, y = labelled_digits
    one_label = model.sample(5, condition=3, seed=0, temperature=0.7).numpy()
    same = model.sample(5, condition=[3] * 5, seed=0, temperature=0.7).numpy()
    other = model.sample(5, condition=[8] * 5, seed=0, temperature=0.7).numpy()
    np.testing.assert_array_equal(one_label, same)
    assert one_label.shape == (5, 8, 8, 1) and not np.allclose(one_label, other)
    pixels = model.sample(6, condition=np.arange(6), seed=1, quantized=True).numpy()
    assert pixels.min() >= 0 and pixels.max() <= 16
    z = model.encode(x[:8], condition=y[:8])
    np.testing.assert_allclose(model.decode(z, condition=y[:8]).numpy(), x[:8], atol=1e-4)
    assert not np.allclose(model.decode(z, condition=(y[:8] + 1) % 10).numpy(), x[:8], atol=1e-2)
    path = model.interpolate(x[0], x[1], steps=4, condition=y[0])
    assert path.shape == (4, 8, 8, 1)
    np.testing.assert_allclose(path.numpy()[0], x[0], atol=1e-4)


def test_clear_errors_for_missing_unexpected_or_bad_conditions(trained, labelled_digits, make_realnvp, moons):
    model, _ = trained
    x, y = labelled_digits
    with pytest.raises(ValueError, match="conditional"):
        model.log_prob(x[:4])
    with pytest.raises(ValueError, match="conditional"):
        model.sample(4)
    with pytest.raises(ValueError, match=r"class labels in \[0, 10\)"):
        model.sample(2, condition=[1, 10])
    with pytest.raises(ValueError, match=r"class labels in \[0, 10\)"):
        model.fit(x[:8], np.full(8, -1), verbose=0)
    with pytest.raises(ValueError, match="entries"):
        model.log_prob(x[:4], condition=y[:3])
    with pytest.raises(ValueError, match="pass them as y"):
        model.fit(x[:8], verbose=0)
    with pytest.raises(ValueError, match=r"\(x, condition\) pairs"):
        model.fit(tf.data.Dataset.from_tensor_slices(x[:8]).batch(4), verbose=0)
    plain = tfnf.FlowModel(make_realnvp())
    plain.compile()
    with pytest.raises(ValueError, match="unconditional"):
        plain.log_prob(moons[:4], condition=[0, 1, 0, 1])
    with pytest.raises(ValueError, match="unconditional"):
        plain.fit(moons, np.zeros(len(moons), np.int32), verbose=0)


def test_keras_file_round_trip(trained, labelled_digits, tmp_path):
    model, _ = trained
    x, y = labelled_digits
    expected = model.log_prob(x[:8], condition=y[:8]).numpy()
    assert model.get_config()["flow"]["config"]["num_classes"] == 10
    model.save(tmp_path / "conditional.keras")
    loaded = keras.models.load_model(tmp_path / "conditional.keras")
    assert isinstance(loaded, tfnf.FlowModel) and loaded.conditional
    np.testing.assert_allclose(loaded.log_prob(x[:8], condition=y[:8]).numpy(), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        loaded.sample(3, condition=[1, 2, 3], seed=5).numpy(), model.sample(3, condition=[1, 2, 3], seed=5).numpy(), atol=1e-5
    )


def test_vector_context_realnvp(moons, tmp_path):
    upper = (moons[:, 1] > 0.25 + 0.0 * moons[:, 0]).astype(np.float32)
    context = np.stack([upper, 1.0 - upper], axis=1)
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=4, hidden_units=(16, 16), context_shape=(2,)))
    model.compile(optimizer=keras.optimizers.Adam(5e-3), jit_compile=False)
    history = model.fit(moons, context, batch_size=128, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    with pytest.raises(ValueError, match=r"\[batch, 2\]"):
        model.log_prob(moons[:3], condition=np.zeros((3, 3)))
    model.save(tmp_path / "vector.keras")
    loaded = keras.models.load_model(tmp_path / "vector.keras")
    np.testing.assert_allclose(
        loaded.log_prob(moons[:5], condition=context[:5]).numpy(), model.log_prob(moons[:5], condition=context[:5]).numpy(), rtol=1e-6, atol=1e-6
    )


def test_variational_dequantisation_with_a_condition(labelled_digits):
    x, y = labelled_digits
    flow = tfnf.flows.glow((8, 8, 1), num_levels=1, num_steps=1, hidden_channels=8, seed=0, num_classes=10)
    model = tfnf.FlowModel(flow, num_bins=17, dequantization="variational", seed=0)
    model.compile(jit_compile=False)
    history = model.fit(x[:256], y[:256], batch_size=128, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    bound = model.dequantized_log_prob(x[:8], condition=y[:8]).numpy()
    assert bound.shape == (8,) and np.all(np.isfinite(bound))


def test_a_tuple_of_data_and_conditions_is_fit_x_y(moons):
    """`fit((x, c))`, Keras' habit for several inputs, reads as `fit(x, c)`."""
    context = np.stack([moons[:, 0] > 0.5, moons[:, 0] <= 0.5], axis=1).astype(np.float32)
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,), context_shape=(2,)))
    model.compile(jit_compile=False)
    history = model.fit((moons[:64], context[:64]), batch_size=32, epochs=1, verbose=0)
    assert history.history["skipped_steps"] == [0.0] and np.isfinite(history.history["loss"][0])
    as_pair = model.evaluate((moons[:64], context[:64]), verbose=0, return_dict=True)
    assert as_pair == model.evaluate(moons[:64], context[:64], verbose=0, return_dict=True)
    with pytest.raises(ValueError, match=r"pass the conditions once: fit\(\(x, y\)\) or fit\(x, y\), not both"):
        model.fit((moons[:64], context[:64]), context[:64], verbose=0)
