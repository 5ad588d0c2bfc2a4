"""FFJORD (`tfnf.flows.ffjord`): exact up to the ODE solver, normalised, trainable through FlowModel."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tfnf.bijectors import ContinuousFlow


def randomized_flow(seed=0, scale=0.4, dtype=tf.float64):
    keras.utils.set_random_seed(seed)
    flow = tfnf.flows.ffjord((2,), hidden_units=(8,), rtol=1e-7, atol=1e-7, dtype=dtype)
    assert randomize(flow, seed=seed, scale=scale) == 4
    return flow


def test_a_new_flow_is_its_base():
    flow = tfnf.flows.ffjord((2,), hidden_units=(8,))
    x = tf.random.normal([5, 2])
    np.testing.assert_allclose(flow.log_prob(x).numpy(), flow.distribution.log_prob(x).numpy(), atol=1e-6)


def test_round_trip_and_log_det_consistency():
    flow = randomized_flow()
    z = tf.constant(np.random.default_rng(0).standard_normal((6, 2)))
    x = flow.bijector.forward(z)
    assert float(tf.reduce_max(tf.abs(x - z))) > 1e-2
    np.testing.assert_allclose(flow.bijector.inverse(fresh(x)).numpy(), z.numpy(), atol=1e-5)
    fldj = flow.bijector.forward_log_det_jacobian(fresh(z), event_ndims=1).numpy()
    ildj = flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=1).numpy()
    assert np.abs(fldj).max() > 1e-2
    np.testing.assert_allclose(ildj, -fldj, atol=1e-5)


def test_log_det_matches_a_finite_difference_jacobian():
    flow = randomized_flow(seed=1)
    z = np.random.default_rng(1).standard_normal((3, 2))
    eps = 1e-5
    columns = []
    for j in range(2):
        step = np.zeros(2)
        step[j] = eps
        plus = flow.bijector.forward(tf.constant(z + step)).numpy()
        minus = flow.bijector.forward(tf.constant(z - step)).numpy()
        columns.append((plus - minus) / (2 * eps))
    jacobian = np.stack(columns, axis=-1)  # [batch, out, in]
    expected = np.linalg.slogdet(jacobian)[1]
    actual = flow.bijector.forward_log_det_jacobian(tf.constant(z), event_ndims=1).numpy()
    np.testing.assert_allclose(actual, expected, atol=1e-4)


def test_density_integrates_to_one_on_a_grid():
    flow = randomized_flow(seed=2, scale=0.3)
    axis = np.linspace(-7.0, 7.0, 141)
    xx, yy = np.meshgrid(axis, axis)
    grid = tf.constant(np.stack([xx.ravel(), yy.ravel()], 1))
    density = np.exp(flow.log_prob(grid).numpy())
    base = np.exp(flow.distribution.log_prob(grid).numpy())
    assert np.abs(density - base).max() > 1e-3  # not the base: the check is not met trivially
    samples = flow.sample(2000, seed=3).numpy()
    assert np.mean(np.all(np.abs(samples) < axis[-1], axis=1)) > 0.999
    mass = density.sum() * (axis[1] - axis[0]) ** 2
    assert abs(mass - 1.0) < 0.01  # solver tolerance 1e-7; the grid's Riemann sum dominates the error


def test_every_weight_is_a_variable_of_the_flow():
    flow = tfnf.flows.ffjord((2,), hidden_units=(8, 8))
    field = flow.bijector.vector_field
    held = {id(v) for v in flow.trainable_variables}
    assert len(field.trainable_weights) == 6
    assert all(id(getattr(w, "value", w)) in held for w in field.trainable_weights)
    assert isinstance(flow.bijector, ContinuousFlow)


def test_flow_model_fits_moons_and_the_config_round_trips():
    keras.utils.set_random_seed(0)
    flow = tfnf.flows.ffjord((2,), hidden_units=(16, 16), rtol=1e-4, atol=1e-4)
    x = tfnf.datasets.toy2d("moons", 256, seed=0)
    model = tfnf.FlowModel(flow, objective="maximum_likelihood")  # flow matching: tests/keras/test_flow_matching.py
    # Tracing the ODE solver's train step dominates: one mode (XLA is not what this checks), one step per call.
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False, steps_per_execution=1)
    before = float(model.evaluate(x, batch_size=256, verbose=0, return_dict=True)["loss"])
    history = model.fit(x, batch_size=64, epochs=2, verbose=0, shuffle=False)
    after = float(model.evaluate(x, batch_size=256, verbose=0, return_dict=True)["loss"])
    assert history.history["skipped_steps"][-1] == 0
    assert np.isfinite(after) and after < before - 0.05
    clone = tfnf.FlowModel.from_config(json.loads(json.dumps(model.get_config())))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.log_prob(x[:4]).numpy(), model.log_prob(x[:4]).numpy(), atol=1e-4)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(event_shape=(4, 4)), ValueError, "event_shape"),
    (dict(final_time=0.0), ValueError, "final_time"),
    (dict(rtol=-1.0), ValueError, "rtol"),
    (dict(hidden_units=8), TypeError, "hidden_units"),
    (dict(activation=3), TypeError, "activation"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        tfnf.flows.ffjord(**kwargs)
