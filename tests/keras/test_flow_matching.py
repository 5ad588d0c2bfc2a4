"""Flow matching through `FlowModel.fit`: the objective, the path, honest logs, exact evaluation, saving and export."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tfnf.keras.flow_matching_step import SIGMA_MIN, conditional_ot_path


def two_gaussians(n, seed=0):
    rng = np.random.default_rng(seed)
    centre = np.where(rng.uniform(size=(n, 1)) < 0.5, -1.0, 1.0) * np.array([[1.2, 0.0]])
    return (centre + 0.35 * rng.standard_normal((n, 2))).astype("float32")


@pytest.fixture(scope="module")
def trained():
    """An ffjord trained by flow matching on two Gaussians (and its data, history and first loss)."""
    keras.utils.set_random_seed(0)
    model = tfnf.FlowModel(tfnf.flows.ffjord((2,), hidden_units=(32, 32), rtol=1e-6, atol=1e-6), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False, steps_per_execution=25)
    x = two_gaussians(256 * 300)
    first = model.fit(x[:256 * 25], batch_size=256, epochs=1, verbose=0, shuffle=False).history
    history = model.fit(x[256 * 25:], batch_size=256, epochs=1, verbose=0, shuffle=False, validation_data=x[:512]).history
    return model, x, first, history


def test_auto_picks_flow_matching_for_a_continuous_flow_and_maximum_likelihood_otherwise():
    assert tfnf.FlowModel(tfnf.flows.ffjord((2,), hidden_units=(4,))).objective == "flow_matching"
    assert tfnf.FlowModel(tfnf.flows.nsf((2,), num_couplings=1, hidden_units=(4,))).objective == "maximum_likelihood"
    learned_base = tfnf.flows.ffjord((2,), hidden_units=(4,), base="diagonal_gaussian")
    assert tfnf.FlowModel(learned_base).objective == "maximum_likelihood"
    explicit = tfnf.FlowModel(tfnf.flows.ffjord((2,), hidden_units=(4,)), objective="maximum_likelihood")
    assert explicit.objective == "maximum_likelihood" and explicit.flow_matching_tracker is None


@pytest.mark.parametrize("flow, kwargs, match", [
    (lambda: tfnf.flows.nsf((2,), num_couplings=1, hidden_units=(4,)), {}, "not one continuous flow"),
    (lambda: tfnf.flows.ffjord((2,), hidden_units=(4,), base="diagonal_gaussian"), {}, "learned base"),
    (lambda: tfnf.flows.ffjord((2, 2, 1), hidden_units=(2,)), dict(num_bins=4, dequantization="variational"),
     "variational dequantizer"),
])
def test_flow_matching_on_a_flow_it_cannot_train_is_an_error(flow, kwargs, match):
    with pytest.raises(ValueError, match=f"objective='flow_matching'.*{match}"):
        tfnf.FlowModel(flow(), objective="flow_matching", **kwargs)


def test_an_unknown_objective_is_an_error():
    with pytest.raises(ValueError, match="objective must be one of"):
        tfnf.FlowModel(tfnf.flows.ffjord((2,), hidden_units=(4,)), objective="score_matching")


def test_the_conditional_path_runs_from_the_base_draw_to_the_data_point_at_its_velocity():
    rng = np.random.default_rng(0)
    x0, x1 = tf.constant(rng.standard_normal((3, 2))), tf.constant(rng.standard_normal((3, 2)))
    start, velocity = conditional_ot_path(x0, x1, tf.zeros([3], tf.float64))
    end, _ = conditional_ot_path(x0, x1, tf.ones([3], tf.float64))
    np.testing.assert_allclose(start.numpy(), x0.numpy(), atol=1e-12)
    np.testing.assert_allclose(end.numpy(), x1.numpy() + SIGMA_MIN * x0.numpy(), atol=1e-12)
    s, eps = tf.constant([0.2, 0.5, 0.9], tf.float64), 1e-6
    difference = (conditional_ot_path(x0, x1, s + eps)[0] - conditional_ot_path(x0, x1, s - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(difference.numpy(), velocity.numpy(), atol=1e-6)


def test_training_logs_the_flow_matching_loss_which_decreases_and_evaluation_the_exact_nll(trained):
    model, x, first, history = trained
    assert set(first) == {"flow_matching_loss", "skipped_steps"}  # no NLL-looking key for a regression loss
    assert {"val_loss", "val_bits_per_dim"} <= set(history) and "loss" not in history
    assert history["skipped_steps"][-1] == 0
    assert history["flow_matching_loss"][-1] < first["flow_matching_loss"][-1] - 0.1
    metrics = model.evaluate(x[:512], batch_size=256, verbose=0, return_dict=True)
    nll = -float(np.mean(model.log_prob(x[:512]).numpy()))
    np.testing.assert_allclose(metrics["loss"], nll, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(history["val_loss"][-1], nll, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(metrics["bits_per_dim"], nll / (2 * np.log(2)), rtol=1e-5, atol=1e-5)
    base_nll = -float(np.mean(model.flow.distribution.log_prob(x[:512]).numpy()))
    assert nll < base_nll - 0.3  # the field learned the data


def test_the_density_after_flow_matching_integrates_to_one(trained):
    model = trained[0]
    axis = np.linspace(-6.0, 6.0, 121)
    xx, yy = np.meshgrid(axis, axis)
    grid = np.stack([xx.ravel(), yy.ravel()], 1).astype("float32")
    density = np.exp(model.log_prob(grid).numpy().astype(np.float64))
    samples = model.sample(2000, seed=1).numpy()
    assert np.mean(np.all(np.abs(samples) < axis[-1], axis=1)) > 0.999
    assert abs(density.sum() * (axis[1] - axis[0]) ** 2 - 1.0) < 0.02


def test_the_objective_survives_the_config_a_save_and_the_export(trained, tmp_path):
    model, x = trained[:2]
    config = json.loads(json.dumps(model.get_config()))
    assert config["objective"] == "flow_matching"
    assert tfnf.FlowModel.from_config(config).objective == "flow_matching"
    assert tfnf.FlowModel(**{**config, "objective": "maximum_likelihood"}).objective == "maximum_likelihood"
    model.save(tmp_path / "fm.keras")
    loaded = keras.models.load_model(tmp_path / "fm.keras")
    assert loaded.objective == "flow_matching"
    expected = model.log_prob(x[:6]).numpy()
    np.testing.assert_allclose(loaded.log_prob(x[:6]).numpy(), expected, rtol=1e-5, atol=1e-5)
    z = model.encode(x[:4])
    np.testing.assert_allclose(model.decode(z).numpy(), x[:4], atol=1e-3)
    exported = tf.saved_model.load(model.export(tmp_path / "fm" / "1"))
    served = exported.signatures["log_prob"](x=tf.constant(x[:6]))["log_prob"].numpy()
    np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-5)
    sample = exported.signatures["sample"](num_samples=tf.constant(3), temperature=tf.constant(1.0))
    assert sample["samples"].shape == (3, 2) and np.all(np.isfinite(sample["samples"].numpy()))


def test_a_conditional_image_flow_trains_by_flow_matching_and_exports(tmp_path):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 256)
    pixels = np.clip(rng.integers(0, 2, (256, 2, 2, 1)) + 2 * labels[:, None, None, None], 0, 3).astype("float32")
    flow = tfnf.flows.ffjord((2, 2, 1), hidden_units=(8,), num_classes=2, rtol=1e-4, atol=1e-4)
    model = tfnf.FlowModel(flow, num_bins=4, seed=1)
    assert model.objective == "flow_matching"
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False, steps_per_execution=8)
    before = model.evaluate(pixels, labels, batch_size=128, verbose=0, return_dict=True)["bits_per_dim"]
    history = model.fit(pixels, labels, batch_size=64, epochs=6, verbose=0).history
    assert history["skipped_steps"][-1] == 0 and np.isfinite(history["flow_matching_loss"][-1])
    after = model.evaluate(pixels, labels, batch_size=128, verbose=0, return_dict=True)["bits_per_dim"]
    assert after < before - 0.05
    drawn = model.sample(6, seed=0, quantized=True, condition=np.array([0, 1, 0, 1, 0, 1])).numpy()
    assert drawn.shape == (6, 2, 2, 1) and set(np.unique(drawn)) <= {0.0, 1.0, 2.0, 3.0}
    exported = tf.saved_model.load(model.export(tmp_path / "images" / "1"))
    served = exported.signatures["log_prob"](x=tf.constant(pixels[:5]), condition=tf.constant(labels[:5], tf.int32))
    np.testing.assert_allclose(
        served["log_prob"].numpy(), model.log_prob(pixels[:5], condition=labels[:5]).numpy(), rtol=1e-4, atol=1e-4
    )


def test_a_maximum_likelihood_ffjord_still_logs_its_nll():
    keras.utils.set_random_seed(0)
    model = tfnf.FlowModel(tfnf.flows.ffjord((2,), hidden_units=(8,), rtol=1e-3, atol=1e-3), objective="maximum_likelihood")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False, steps_per_execution=1)
    history = model.fit(two_gaussians(128), batch_size=64, epochs=1, verbose=0).history
    assert set(history) == {"loss", "bits_per_dim", "skipped_steps"}
