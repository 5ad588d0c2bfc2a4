"""`memory_saving=True` of `glow` and image `realnvp`: same density, same training, kept on save."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tfnf.bijectors import MemorySavingChain


def chains_in(model):
    return [m for m in model.data_flow.bijector.submodules if isinstance(m, MemorySavingChain)]


def pixels(n=16, shape=(8, 8, 3), seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape)).astype(np.float32)


def small_glow(memory_saving, **kwargs):
    keras.utils.set_random_seed(3)
    flow = tfnf.flows.glow((8, 8, 3), num_levels=2, num_steps=2, hidden_channels=8, seed=0, memory_saving=memory_saving, **kwargs)
    return tfnf.FlowModel(flow, num_bins=256, seed=0)


def test_log_prob_is_the_same_with_and_without():
    x = pixels()
    models = []
    for memory_saving in (False, True):
        models.append(small_glow(memory_saving))
        models[-1].initialize(x)  # (its dequantisation noise drawn right after the same seeding)
    ordinary, saving = models
    assert len(chains_in(saving)) == 2 and not chains_in(ordinary)
    np.testing.assert_allclose(saving.log_prob(x).numpy(), ordinary.log_prob(x).numpy(), rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_fit_trains_as_the_ordinary_step(jit_compile):
    x = pixels(32)
    histories = []
    for memory_saving in (False, True):
        model = small_glow(memory_saving)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit_compile, steps_per_execution=1)
        history = model.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0)
        assert not model.needs_initialization  # ActNorm's data-dependent initialisation ran through the chains
        histories.append(history.history["loss"])
    assert np.all(np.isfinite(histories[1]))
    # same data, same dequantisation noise, same dropout masks: the same four updates
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-4, atol=1e-3)


def test_save_and_load_keep_the_option(tmp_path):
    x = pixels()
    model = small_glow(True)
    model.compile(jit_compile=False, steps_per_execution=1)
    model.fit(x, batch_size=8, epochs=1, verbose=0)
    assert model.flow_description["config"]["memory_saving"] is True
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert len(chains_in(loaded)) == 2
    np.testing.assert_allclose(loaded.log_prob(x).numpy(), model.log_prob(x).numpy(), rtol=1e-6, atol=1e-4)
    assert "memory_saving" not in small_glow(False).flow_description["config"]  # older configurations rebuild as they were


def test_realnvp_image_gradients_match():
    x = np.random.default_rng(1).uniform(0.05, 0.95, (4, 8, 8, 3)).astype(np.float64)
    gradients = []
    for memory_saving in (False, True):
        keras.utils.set_random_seed(5)
        flow = tfnf.flows.realnvp((8, 8, 3), num_levels=2, hidden_channels=6, dropout=0.2, dtype="float64", memory_saving=memory_saving)
        model = tfnf.FlowModel(flow)
        for v in model.trainable_variables:  # away from the identity start, so every gradient is exercised
            v.assign(v + 0.05 * np.random.default_rng(int(np.prod(v.shape))).standard_normal(v.shape))

        @tf.function
        def step(x):
            with tf.GradientTape() as tape:
                loss = -tf.reduce_mean(model(x, training=True))
            return tape.gradient(loss, model.trainable_variables)

        gradients.append(step(tf.constant(x)))
        if memory_saving:
            assert len(chains_in(model)) == 3  # checkers + channels of level 0, checkers of level 1
    for expected, got in zip(*gradients):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-9, atol=1e-9)


def test_option_is_checked():
    with pytest.raises(TypeError, match="memory_saving must be True or False"):
        tfnf.flows.glow((8, 8, 3), num_levels=2, memory_saving="yes")
    with pytest.raises(ValueError, match="memory_saving applies to image realnvp"):
        tfnf.flows.realnvp((4,), memory_saving=True)
