"""Variational dequantisation: a valid bound that training tightens, tracked and saved weights."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf

NUM_BINS = 4
CENTRES = np.array([[0.5, 0.5], [1.5, 2.5], [2.5, 1.5], [3.5, 3.5], [1.5, 0.5]], np.float32)


def _peaked_points(n, seed):
    """Continuous 2-D points clustered tightly around some bin centres of a 4 x 4 grid."""
    rng = np.random.default_rng(seed)
    centres = CENTRES[rng.integers(len(CENTRES), size=n)]
    return np.clip(centres + 0.12 * rng.standard_normal((n, 2)), 0.01, NUM_BINS - 0.01).astype(np.float32)


def _variational_model():
    flow = tfnf.flows.realnvp((2,), num_couplings=4, hidden_units=(16, 16))
    return tfnf.FlowModel(flow, num_bins=NUM_BINS, dequantization="variational", seed=0)


def _fit_density(model, points, steps=300):
    """Maximum likelihood of the flow alone on continuous points (no dequantisation)."""
    optimizer = keras.optimizers.Adam(1e-2)
    variables = [v for layer in model.flow_layers for v in layer.trainable_weights]
    optimizer.build(variables)
    data = tf.constant(points)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model.distribution.log_prob(data))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

    for _ in range(steps):
        step()


def _exact_log_mass(model, x, points_per_axis=64):
    """`log P(x) = log integral over [x, x + 1)^2 of p`, by the midpoint rule, for each row of `x: [n, 2]`."""
    offsets = (np.arange(points_per_axis) + 0.5) / points_per_axis
    grid = np.stack(np.meshgrid(offsets, offsets, indexing="ij"), -1).reshape(-1, 2)
    log_mass = []
    for cell in x:
        log_p = model.log_prob((cell + grid).astype(np.float32)).numpy().astype(np.float64)
        log_mass.append(np.logaddexp.reduce(log_p) - math.log(len(grid)))
    return np.array(log_mass)


def _bound(model, x, samples=2000):
    """Monte-Carlo mean and standard error of the dequantisation bound for each row of `x`."""
    values = model.dequantized_log_prob(np.repeat(x, samples, axis=0)).numpy().reshape(len(x), samples)
    return values.mean(axis=1), values.std(axis=1) / math.sqrt(samples)


@pytest.fixture(scope="module")
def bound_experiment():
    keras.utils.set_random_seed(7)
    model = _variational_model()
    _fit_density(model, _peaked_points(2048, seed=0))
    cells = np.unique(np.floor(CENTRES), axis=0)
    exact = _exact_log_mass(model, cells)
    before, before_se = _bound(model, cells)
    for layer in model.flow_layers:
        layer.trainable = False  # p stays fixed: only q(u | x) learns, so the exact log P(x) does not move
    model.compile(optimizer=keras.optimizers.Adam(5e-3), jit_compile=False)  # XLA: test_jit_compiled_fit_on_images
    data = np.floor(_peaked_points(2048, seed=1))
    history = model.fit(data, batch_size=256, epochs=15, verbose=0)
    after, after_se = _bound(model, cells)
    return dict(model=model, cells=cells, data=data, exact=exact, before=before, before_se=before_se,
                after=after, after_se=after_se, history=history)


def test_bound_never_exceeds_the_exact_discrete_log_likelihood(bound_experiment):
    e = bound_experiment
    cells = e["cells"].tolist()
    for name in ("before", "after"):
        slack = 4.0 * e[f"{name}_se"] + 0.01  # Monte-Carlo error + quadrature error
        excess = e[name] - e["exact"]
        assert np.all(excess <= slack), f"{name}: bound above log P(x) at {cells}: excess {excess}, slack {slack}"


def test_training_the_dequantizer_tightens_the_bound(bound_experiment):
    e = bound_experiment
    gap_before, gap_after = e["exact"] - e["before"], e["exact"] - e["after"]
    assert np.all(gap_before > 0.2), f"uniform dequantisation should be loose here, gaps {gap_before}"
    assert np.all(e["after"] > e["before"] + 0.1), f"bound did not improve: {e['before']} -> {e['after']}"
    assert np.all(gap_after < 0.5 * gap_before), f"gap only went from {gap_before} to {gap_after}"
    assert e["history"].history["loss"][-1] < e["history"].history["loss"][0]


def test_evaluate_reports_the_variational_bound(bound_experiment):
    e = bound_experiment
    model, data = e["model"], e["data"]
    loss = model.evaluate(data, batch_size=512, verbose=0, return_dict=True)["loss"]
    draws = np.stack([model.dequantized_log_prob(data).numpy() for _ in range(4)])
    np.testing.assert_allclose(loss, -draws.mean(), atol=4 * draws.std() / math.sqrt(draws.size) + 1e-3)
    rng = np.random.default_rng(0)
    uniform = -np.mean(model.log_prob(data + rng.uniform(size=data.shape).astype(np.float32)).numpy())
    assert loss < uniform - 0.2
    exact_bits = model.bits_per_dim(data + 0.5).numpy()  # log_prob stays the density at the point given
    np.testing.assert_allclose(exact_bits, -model.log_prob(data + 0.5).numpy() / (2 * math.log(2.0)), rtol=1e-6, atol=1e-6)


@pytest.fixture(scope="module")
def jointly_trained():
    keras.utils.set_random_seed(3)
    model = _variational_model()
    model.compile(optimizer=keras.optimizers.Adam(5e-3), jit_compile=False)
    before = [v.numpy().copy() for v in model.trainable_variables]
    data = np.floor(_peaked_points(1024, seed=2))
    history = model.fit(data, batch_size=128, epochs=3, validation_data=(data[:256],), verbose=0)
    return model, before, history, data


def test_dequantizer_variables_are_tracked_and_trained(jointly_trained):
    model, before, history, _ = jointly_trained
    tracked = {id(v) for v in model.trainable_variables}
    own = model.dequantizer.trainable_weights
    assert len(own) > 0 and all(id(v) in tracked for v in own)
    flow_count = sum(len(layer.trainable_weights) for layer in model.flow_layers)
    assert len(model.trainable_variables) == flow_count + len(own)
    unchanged = [v.path for v, b in zip(model.trainable_variables, before) if np.array_equal(v.numpy(), b)]
    assert not unchanged, f"untrained variables: {unchanged}"
    assert set(history.history) >= {"loss", "bits_per_dim", "val_loss", "val_bits_per_dim"}
    assert np.all(np.isfinite(history.history["val_loss"]))


def test_keras_file_and_weights_round_trips_keep_the_dequantizer(jointly_trained, tmp_path):
    model, _, _, data = jointly_trained
    assert model.get_config()["dequantization"] == "variational"
    x = tf.constant(data[:16])
    eps = tf.random.stateless_uniform([16, 2], seed=[1, 2], minval=-3.0, maxval=3.0)
    expected_u, expected_log_q = (t.numpy() for t in model.dequantizer.transform(x, eps))
    assert np.abs(expected_log_q).max() > 1e-3  # trained away from the uniform start

    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.dequantization == "variational"
    model.save_weights(tmp_path / "model.weights.h5")
    fresh = _variational_model()
    fresh.load_weights(tmp_path / "model.weights.h5")
    for other in (loaded, fresh):
        for v, w in zip(model.dequantizer.weights, other.dequantizer.weights):
            np.testing.assert_array_equal(v.numpy(), w.numpy())
        u, log_q = other.dequantizer.transform(x, eps)
        np.testing.assert_allclose(u.numpy(), expected_u, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(log_q.numpy(), expected_log_q, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(other.log_prob(data[:16]).numpy(), model.log_prob(data[:16]).numpy(), rtol=1e-6, atol=1e-6)


def test_jit_compiled_fit_on_images(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(num_levels=1), num_bins=17, dequantization="variational")
    model.compile(optimizer=keras.optimizers.Adam(2e-3), jit_compile=True)
    history = model.fit(digit_images[:256], batch_size=128, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["skipped_steps"] == [0.0, 0.0]
    bound = model.dequantized_log_prob(digit_images[:4]).numpy()
    assert bound.shape == (4,) and np.all(np.isfinite(bound))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(num_bins=4, dequantization="gaussian"),
        dict(num_bins=4, dequantization=None),
        dict(num_bins=4, dequantization=1),
        dict(num_bins=None, dequantization="variational"),
    ],
)
def test_bad_dequantization_argument_is_named(make_realnvp, kwargs):
    with pytest.raises(ValueError, match="dequantization"):
        tfnf.FlowModel(make_realnvp(), **kwargs)


def test_bad_input_to_the_bound_is_named(jointly_trained):
    model = jointly_trained[0]
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        model.dequantized_log_prob(np.full((2, 2), 4.0, np.float32))
    with pytest.raises(ValueError, match="NaN"):
        model.dequantized_log_prob(np.full((2, 2), np.nan, np.float32))
