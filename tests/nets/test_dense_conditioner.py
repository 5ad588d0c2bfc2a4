"""The vector conditioner's Fourier features, and how `realnvp` chooses them."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tfnf.nets.dense_conditioner import DenseConditioner


def test_fourier_features_are_x_then_sine_and_cosine_per_frequency():
    conditioner = DenseConditioner((3,), 2, hidden_units=(8,), fourier_frequencies=(1.0, 2.5), dtype="float64")
    x = np.random.default_rng(0).normal(size=(4, 3))
    features = conditioner.encode(tf.constant(x)).numpy()
    expected = np.concatenate([x, np.sin(x), np.cos(x), np.sin(2.5 * x), np.cos(2.5 * x)], axis=-1)
    np.testing.assert_allclose(features, expected, rtol=1e-12, atol=1e-12)
    params = conditioner(tf.constant(x))
    assert params.shape == (4, 3, 2)
    assert conditioner.hidden_layers[0].kernel.shape == (15, 8)  # reads 3 * (2 * 2 + 1) features


def test_without_frequencies_the_input_is_read_as_is():
    conditioner = DenseConditioner((2,), 2, hidden_units=(8,))
    x = tf.constant(np.random.default_rng(1).normal(size=(5, 2)), tf.float32)
    assert conditioner.encode(x) is x
    conditioner(x)
    assert conditioner.hidden_layers[0].kernel.shape == (2, 8)


def test_the_context_is_joined_after_the_features_and_not_encoded():
    conditioner = DenseConditioner((1,), 2, hidden_units=(4,), context_size=3, fourier_frequencies=(1.0,))
    params = conditioner(tf.zeros([2, 1]), context=tf.ones([2, 3]))
    assert params.shape == (2, 1, 2)
    assert conditioner.hidden_layers[0].kernel.shape == (3 + 3, 4)


def test_config_round_trip_keeps_the_frequencies():
    conditioner = DenseConditioner((2,), 2, hidden_units=(8,), fourier_frequencies=(1.0, 2.0))
    rebuilt = DenseConditioner.from_config(conditioner.get_config())
    assert rebuilt.fourier_frequencies == (1.0, 2.0)


def _frequencies(flow):
    return {coupling.conditioner.fourier_frequencies for coupling in flow.bijector.bijectors}


@pytest.mark.parametrize(
    "event_size, argument, expected",
    [(2, "auto", (1.0, 2.0)), (4, "auto", (1.0, 2.0)), (6, "auto", ()), (2, (), ()), (2, None, ()), (6, [3], (3.0,))],
)
def test_realnvp_gives_low_dimensional_vectors_fourier_features(event_size, argument, expected):
    flow = tfnf.flows.realnvp((event_size,), num_couplings=2, hidden_units=(8,), fourier_frequencies=argument)
    assert _frequencies(flow) == {expected}
    assert flow.tfnf_config["config"]["fourier_frequencies"] == expected


def test_a_saved_2d_realnvp_rebuilds_with_the_same_features(tmp_path):
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,), fourier_frequencies=(0.5,)))
    for variable in model.trainable_variables:
        variable.assign(np.random.default_rng(2).normal(scale=0.1, size=variable.shape))
    x = np.random.default_rng(3).normal(size=(16, 2)).astype(np.float32)
    model.save(tmp_path / "flow.keras")
    loaded = keras.models.load_model(tmp_path / "flow.keras")
    assert _frequencies(loaded.flow) == {(0.5,)}
    np.testing.assert_allclose(loaded.log_prob(x).numpy(), model.log_prob(x).numpy(), rtol=1e-6, atol=1e-6)


def test_a_config_saved_before_fourier_features_rebuilds_without_them():
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,), fourier_frequencies=()))
    config = model.get_config()
    del config["flow"]["config"]["fourier_frequencies"]
    rebuilt = tfnf.FlowModel.from_config(config)
    assert _frequencies(rebuilt.flow) == {()}
