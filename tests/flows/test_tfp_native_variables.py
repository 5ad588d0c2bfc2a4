"""Flows are first-class TFP objects: every variable in `trainable_variables`, checkpoints, plain tape loops."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tfnf.bijectors import collect_keras_layers

BUILDS = {
    "glow": lambda: tfnf.flows.glow((4, 4, 1), num_levels=1, num_steps=2, hidden_channels=4, seed=0),
    "glow_conditional": lambda: tfnf.flows.glow((4, 4, 1), num_levels=1, num_steps=1, hidden_channels=4, num_classes=3),
    "realnvp": lambda: tfnf.flows.realnvp((2,), num_couplings=4, hidden_units=(16, 16)),
    "realnvp_image": lambda: tfnf.flows.realnvp((4, 4, 1), num_levels=1, hidden_channels=4),
    "nice": lambda: tfnf.flows.nice((4,), num_couplings=2, hidden_units=(8,)),
    "nsf": lambda: tfnf.flows.nsf((2,), num_couplings=2, hidden_units=(8,)),
    "maf": lambda: tfnf.flows.maf((3,), num_layers=2, hidden_units=(8,)),
    "iaf": lambda: tfnf.flows.iaf((3,), num_layers=2, hidden_units=(8,)),
}


def _data(flow, n=16, seed=0):
    shape = (n, *flow.event_shape)
    x = np.random.default_rng(seed).uniform(-0.4, 0.4, shape).astype("float32")
    return tf.constant(x)


def _kwargs(flow, n=16):
    if tfnf.flows.flow_context(flow) is None:
        return {}
    return tfnf.flows.condition(flow, np.arange(n) % 3)


def _keras_variables(flow):
    return {id(w.value): w.value for layer in collect_keras_layers(flow) for w in layer.weights}


def _randomise(variables, seed=1):
    rng = np.random.default_rng(seed)
    for v in variables:
        if v.dtype.is_floating:
            v.assign(v + 0.05 * rng.standard_normal(v.shape).astype(v.dtype.as_numpy_dtype))


@pytest.mark.parametrize("name", BUILDS)
def test_distribution_and_bijector_list_every_variable(name):
    flow = BUILDS[name]()
    every = _keras_variables(flow)
    trainable = {i for i, v in every.items() if v.trainable}
    assert len(every) > 0
    assert {id(v) for v in flow.variables} == set(every)
    assert {id(v) for v in flow.bijector.variables} == set(every)
    assert {id(v) for v in flow.trainable_variables} == trainable
    assert {id(v) for v in flow.bijector.trainable_variables} == trainable


@pytest.mark.parametrize("name", BUILDS)
def test_checkpoint_restores_identical_log_prob(name, tmp_path):
    flow = BUILDS[name]()
    x, kwargs = _data(flow), _kwargs(flow)
    _randomise(flow.trainable_variables)
    expected = flow.log_prob(x, bijector_kwargs=kwargs).numpy()
    path = tf.train.Checkpoint(flow=flow).save(str(tmp_path / "ckpt"))
    saved = {name for name, _ in tf.train.list_variables(path)}
    assert len(saved) >= len(flow.variables)
    _randomise(flow.variables, seed=2)  # every variable moves, flags included
    assert not np.allclose(flow.log_prob(x, bijector_kwargs=kwargs).numpy(), expected)
    tf.train.Checkpoint(flow=flow).restore(path).assert_existing_objects_matched()
    np.testing.assert_array_equal(flow.log_prob(x, bijector_kwargs=kwargs).numpy(), expected)


@pytest.mark.parametrize("name", ["glow", "realnvp", "nsf", "maf"])
def test_plain_gradient_tape_loop_trains_every_variable(name):
    flow = BUILDS[name]()
    _randomise(flow.trainable_variables)  # past the zero-initialised output layers, every gradient is non-zero
    x = _data(flow, n=64)
    optimizer = keras.optimizers.Adam(1e-2)
    variables = flow.trainable_variables
    before = [v.numpy().copy() for v in variables]
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(flow.log_prob(x))
        gradients = tape.gradient(loss, variables)
        assert all(g is not None for g in gradients)
        optimizer.apply_gradients(zip(gradients, variables))
    moved = [not np.array_equal(v.numpy(), b) for v, b in zip(variables, before)]
    assert all(moved), [v.name for v, m in zip(variables, moved) if not m]
