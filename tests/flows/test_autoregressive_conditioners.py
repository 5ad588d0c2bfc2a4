"""maf and iaf with each autoregressive network (MADE, residual MADE, a factory, a callable):
identity at initialisation, exact, conditional, trainable through FlowModel, serialisable when named."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tests.bijectors.test_bijector_properties import brute_force_log_det
from tfnf.bijectors import MaskedAutoregressive
from tfnf.nets import MADE, ResidualMADE, conditioners

CHOICES = [
    ("made", MADE),
    ("residual_made", ResidualMADE),
    (conditioners.residual_made(hidden_size=7, num_blocks=1), ResidualMADE),
    (conditioners.made(hidden_units=(5, 5)), MADE),
]
IDS = ["made", "residual_made", "residual_made_custom", "made_custom"]
BUILDERS = [tfnf.flows.maf, tfnf.flows.iaf]


def networks(flow):
    return [b.network for b in flow.bijector.bijectors if isinstance(b, MaskedAutoregressive)]


def points(batch, size=3, seed=0, dtype=tf.float64):
    return tf.constant(np.random.default_rng(seed).standard_normal((batch, size)), dtype)


@pytest.mark.parametrize("builder", BUILDERS, ids=["maf", "iaf"])
@pytest.mark.parametrize("choice, network_class", CHOICES, ids=IDS)
def test_identity_at_start_then_exact_round_trip_and_log_det(builder, choice, network_class):
    flow = builder((3,), num_layers=2, hidden_units=(6,), conditioner=choice, dtype=tf.float64)
    assert {type(n) for n in networks(flow)} == {network_class}
    z = points(4)
    for layer in (b for b in flow.bijector.bijectors if isinstance(b, MaskedAutoregressive)):
        np.testing.assert_array_equal(layer.forward(z).numpy(), z.numpy())  # zero-initialised output
    held = {id(v) for v in flow.trainable_variables}
    assert all(id(getattr(w, "value", w)) in held for n in networks(flow) for w in n.trainable_weights)
    randomize(flow, seed=1, scale=0.2)
    x = flow.bijector.forward(z)
    assert float(tf.reduce_max(tf.abs(x - z))) > 1e-3
    np.testing.assert_allclose(flow.bijector.inverse(fresh(x)).numpy(), z.numpy(), atol=1e-9)
    expected = brute_force_log_det(flow.bijector, fresh(z), (3,)).numpy()
    actual = flow.bijector.forward_log_det_jacobian(fresh(z), event_ndims=1).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-9)


def test_the_factory_options_override_the_builder_and_none_takes_it():
    widths = [n.hidden_size for n in networks(tfnf.flows.maf((3,), hidden_units=(9, 4), conditioner="residual_made"))]
    assert widths == [9] * 4
    flow = tfnf.flows.iaf((3,), hidden_units=(9,), dropout=0.1, conditioner=conditioners.made(hidden_units=(5,)))
    assert {(n.hidden_units, n.dropout) for n in networks(flow)} == {((5,), 0.1)}


def test_a_conditional_residual_made_maf_is_exact_per_context():
    flow = tfnf.flows.maf((3,), num_layers=2, hidden_units=(6,), context_shape=(2,), conditioner="residual_made", dtype=tf.float64)
    randomize(flow, seed=2, scale=0.3)
    z = points(3)
    context = points(3, size=2, seed=5)
    kwargs = tfnf.flows.condition(flow, context)
    x = flow.bijector.forward(z, **kwargs)
    np.testing.assert_allclose(flow.bijector.inverse(x, **kwargs).numpy(), z.numpy(), atol=1e-9)
    expected = brute_force_log_det(flow.bijector, fresh(z), (3,), **kwargs).numpy()
    actual = flow.bijector.forward_log_det_jacobian(fresh(z), event_ndims=1, **kwargs).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-9)
    other = flow.bijector.forward(z, **tfnf.flows.condition(flow, context + 1.0))
    assert float(tf.reduce_max(tf.abs(other - x))) > 1e-3  # the context matters


@pytest.mark.parametrize("builder", BUILDERS, ids=["maf", "iaf"])
def test_fit_and_the_config_round_trip_with_a_named_network(builder):
    keras.utils.set_random_seed(0)
    flow = builder((2,), num_layers=2, hidden_units=(8,), conditioner=conditioners.residual_made(num_blocks=1))
    model = tfnf.FlowModel(flow)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    x = tfnf.datasets.toy2d("moons", 64, seed=0)
    history = model.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert all(np.isfinite(history.history["loss"]))
    config = json.loads(json.dumps(model.get_config()))
    assert config["flow"]["config"]["conditioner"]["name"] == "residual_made"
    clone = tfnf.FlowModel.from_config(config)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.log_prob(x[:5]).numpy(), model.log_prob(x[:5]).numpy(), rtol=1e-5, atol=1e-4)


def test_the_default_records_nothing_and_a_callable_is_used_but_not_serialisable():
    assert "conditioner" not in tfnf.flows.flow_config(tfnf.flows.maf((3,)))["config"]

    def network(event_shape, num_params, context_size=None, dtype="float32", name=None):
        return ResidualMADE(event_shape[0], num_params, hidden_size=4, num_blocks=1, context_size=context_size, dtype=dtype, name=name)

    flow = tfnf.flows.maf((3,), num_layers=2, conditioner=network)
    assert {type(n) for n in networks(flow)} == {ResidualMADE}
    with pytest.raises(TypeError, match="custom callable and cannot be serialised"):
        tfnf.flows.check_serializable(tfnf.flows.flow_config(flow))
    with pytest.raises(TypeError, match="must return a Keras layer"):
        tfnf.flows.maf((3,), conditioner=lambda *a, **k: "not a layer")


@pytest.mark.parametrize("builder, conditioner, match", [
    (tfnf.flows.maf, "mlp", "is for vector couplings"),
    (tfnf.flows.iaf, "gated_resnet", "is for image couplings"),
    (tfnf.flows.realnvp, "made", "is for autoregressive layers"),
    (tfnf.flows.nsf, "residual_made", "is for autoregressive layers"),
])
def test_a_network_of_the_wrong_kind_is_refused_by_name(builder, conditioner, match):
    with pytest.raises(ValueError, match=match):
        builder((3,), conditioner=conditioner)
