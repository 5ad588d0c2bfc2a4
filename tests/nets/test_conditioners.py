"""Conditioner networks and their factories: identity at initialisation, exact couplings
with every network, serialisable choices, clear errors."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.bijectors.cases import fresh, randomize
from tests.bijectors.test_bijector_properties import brute_force_log_det
from tfnf.bijectors import AdditiveCoupling, AffineCoupling, coupling_network
from tfnf.nets import ConditionerFactory, GatedConvConditioner, ResidualDenseConditioner, conditioners
from tfnf.bijectors.transformers import AffineTransformer

# (id, factory, event shape, mask)
NETWORKS = [
    ("mlp", conditioners.mlp(hidden_units=(8,)), (4,), "half"),
    ("mlp_alternate", conditioners.mlp(hidden_units=(8,)), (3,), "alternate"),
    ("residual_mlp", conditioners.residual_mlp(hidden_size=8, num_blocks=2), (4,), "half"),
    ("residual_mlp_alternate", conditioners.residual_mlp(hidden_size=8, num_blocks=1), (3,), "alternate"),
    ("conv", conditioners.conv(hidden_channels=4), (2, 2, 4), "channel"),
    ("gated_resnet", conditioners.gated_resnet(hidden_channels=4, num_blocks=2), (2, 2, 4), "channel"),
    ("gated_resnet_checkerboard", conditioners.gated_resnet(hidden_channels=4, num_blocks=1), (4, 4, 1), "checkerboard"),
]
IDS = [n[0] for n in NETWORKS]


def coupling(factory, shape, mask, parity=0, dtype=tf.float64, context_size=None, fourier_frequencies=()):
    network = coupling_network(
        factory, shape, mask, parity, AffineTransformer.num_params, context_size, dtype, "net",
        hidden_units=(8,), hidden_channels=4, dropout=0.0, fourier_frequencies=fourier_frequencies,
    )
    return AffineCoupling(shape, mask=mask, parity=parity, conditioner=network, context_size=context_size, dtype=dtype)


def sample(shape, batch=3, seed=0, dtype=tf.float64):
    return tf.constant(np.random.default_rng(seed).standard_normal((batch, *shape)), dtype)


@pytest.mark.parametrize("case_id, factory, shape, mask", NETWORKS, ids=IDS)
def test_a_new_coupling_is_the_identity_and_a_trained_one_is_not(case_id, factory, shape, mask):
    bijector = coupling(factory, shape, mask)
    z = sample(shape)
    np.testing.assert_array_equal(bijector.forward(z).numpy(), z.numpy())
    np.testing.assert_array_equal(bijector.forward_log_det_jacobian(fresh(z), event_ndims=len(shape)).numpy(), 0.0)
    assert randomize(bijector, scale=0.3) > 0
    assert float(tf.reduce_max(tf.abs(bijector.forward(fresh(z)) - z))) > 1e-3


@pytest.mark.parametrize("case_id, factory, shape, mask", NETWORKS, ids=IDS)
def test_every_network_gives_an_exact_coupling(case_id, factory, shape, mask):
    for parity in (0, 1):
        bijector = coupling(factory, shape, mask, parity)
        randomize(bijector, seed=parity, scale=0.3)
        z = sample(shape, seed=parity)
        x = bijector.forward(z)
        np.testing.assert_allclose(bijector.inverse(fresh(x)).numpy(), z.numpy(), atol=1e-10)
        expected = brute_force_log_det(bijector, fresh(z), shape).numpy()
        actual = bijector.forward_log_det_jacobian(fresh(z), event_ndims=len(shape)).numpy()
        np.testing.assert_allclose(actual, expected, rtol=1e-8, atol=1e-10)
        ildj = bijector.inverse_log_det_jacobian(fresh(x), event_ndims=len(shape)).numpy()
        np.testing.assert_allclose(ildj, -actual, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("case_id, factory, shape, mask", NETWORKS, ids=IDS)
def test_every_weight_of_the_network_is_a_variable_of_the_coupling(case_id, factory, shape, mask):
    bijector = coupling(factory, shape, mask)
    held = {id(v) for v in bijector.trainable_variables}
    weights = bijector.conditioner.trainable_weights
    assert weights and all(id(getattr(w, "value", w)) in held for w in weights)
    # and each of them changes the output: none is dead
    z = sample(shape)
    with tf.GradientTape() as tape:
        randomize(bijector, scale=0.3)
        loss = tf.reduce_sum(bijector.forward(z) ** 2)
    gradients = tape.gradient(loss, bijector.trainable_variables)
    assert all(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in gradients)


@pytest.mark.parametrize("factory, shape, mask", [
    (conditioners.residual_mlp(hidden_size=8), (4,), "half"),
    (conditioners.gated_resnet(hidden_channels=4, num_blocks=1), (2, 2, 4), "channel"),
], ids=["residual_mlp", "gated_resnet"])
def test_conditional_networks_read_their_context(factory, shape, mask):
    bijector = coupling(factory, shape, mask, context_size=3)
    randomize(bijector, scale=0.3)
    z = sample(shape)
    c1, c2 = sample((3,), seed=1), sample((3,), seed=2)
    x1 = bijector.forward(z, conditional_input=c1)
    x2 = bijector.forward(fresh(z), conditional_input=c2)
    assert float(tf.reduce_max(tf.abs(x1 - x2))) > 1e-3
    np.testing.assert_allclose(bijector.inverse(fresh(x1), conditional_input=c1).numpy(), z.numpy(), atol=1e-10)
    with pytest.raises(ValueError, match="context"):
        bijector.conditioner(tf.zeros([1, 2] if len(shape) == 1 else [1, 2, 2, 2], tf.float64))


def test_residual_mlp_reads_fourier_features():
    plain = ResidualDenseConditioner((1,), 2, hidden_size=4, num_blocks=1, dtype="float64")
    fourier = ResidualDenseConditioner((1,), 2, hidden_size=4, num_blocks=1, fourier_frequencies=(1.0, 2.0), dtype="float64")
    x = sample((1,))
    plain(x), fourier(x)
    assert plain.input_layer.kernel.shape == (1, 4)
    assert fourier.input_layer.kernel.shape == (5, 4)  # [x, sin x, cos x, sin 2x, cos 2x]


def test_gated_block_is_a_gated_residual():
    """With every block conv zero, a block adds `0 * sigmoid(0) = 0`: the stream is the input conv's output."""
    net = GatedConvConditioner(1, 2, hidden_channels=3, num_blocks=1, dtype="float64")
    x = sample((2, 2, 2))
    net(x)
    rng = np.random.default_rng(0)
    for weight in net.trainable_weights:
        weight.assign(rng.normal(scale=0.5, size=weight.shape))
    for layer in net.gate_convs:
        layer.kernel_and_bias.assign(tf.zeros_like(layer.kernel_and_bias))
    stream = tf.nn.conv2d(x, net.input_conv.kernel, 1, "SAME") + net.input_conv.bias
    expected = tf.nn.conv2d(tf.nn.elu(stream), net.output_layer.kernel, 1, "SAME") + net.output_layer.bias
    np.testing.assert_allclose(net(x).numpy()[..., 0, :], expected.numpy(), atol=1e-10)


@pytest.mark.parametrize("factory", [conditioners.mlp(hidden_units=[4, 4], dropout=0.1), conditioners.residual_mlp(num_blocks=3),
                                     conditioners.conv(), conditioners.gated_resnet(hidden_channels=8)], ids=lambda f: f.name)
def test_factories_round_trip_through_json(factory):
    config = json.loads(json.dumps(factory.get_config()))
    assert ConditionerFactory.from_config(config) == factory
    assert conditioners.resolve(config) == factory
    assert conditioners.resolve(factory.name) == ConditionerFactory(factory.name)


def test_keras_layers_serialise():
    for layer in (ResidualDenseConditioner((2,), 2, hidden_size=4, context_size=3), GatedConvConditioner(2, 2, hidden_channels=4, num_blocks=1)):
        clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


def test_custom_callables_are_recorded_as_unserialisable():
    def network(transformed_shape, num_params, context_size=None, dtype="float32", name=None):
        return ResidualDenseConditioner(transformed_shape, num_params, hidden_size=4, dtype=dtype, name=name)

    assert conditioners.resolve(network) is network
    described = conditioners.describe(network)
    with pytest.raises(TypeError, match="custom callable"):
        described.get_config()
    assert conditioners.resolve(described) is network


@pytest.mark.parametrize("value, error, match", [
    ("resnet", ValueError, "conditioner must be one of"),
    (3, TypeError, "conditioner must be None"),
    ({"name": "mlp", "widths": 3}, TypeError, "unknown"),
    ({"name": "residual_mlp", "num_blocks": -1}, ValueError, "num_blocks"),
    ({"name": "gated_resnet", "hidden_channels": 0}, ValueError, "hidden_channels"),
    ({"name": "mlp", "hidden_units": 8}, TypeError, "hidden_units"),
    ({"name": "conv", "dropout": 1.5}, ValueError, "dropout"),
])
def test_bad_choices_are_named(value, error, match):
    with pytest.raises(error, match=match):
        conditioners.resolve(value)


def test_a_network_for_the_other_kind_of_event_is_refused():
    with pytest.raises(ValueError, match="'gated_resnet' is for image couplings"):
        coupling(conditioners.gated_resnet(), (4,), "half")
    with pytest.raises(ValueError, match="'residual_mlp' is for vector couplings"):
        coupling(conditioners.residual_mlp(), (2, 2, 4), "channel")
    with pytest.raises(ValueError, match="hidden_units, which is empty"):
        conditioners.residual_mlp().build((2,), 2, hidden_units=())


def test_a_callable_must_return_a_keras_layer():
    with pytest.raises(TypeError, match="must return a Keras layer"):
        coupling_network(lambda *a, **k: "net", (4,), "half", 0, 2, None, tf.float32, "n")


def test_additive_couplings_take_the_networks_too():
    network = coupling_network(conditioners.gated_resnet(hidden_channels=4, num_blocks=1), (2, 2, 2), "channel", 1, 1, None, tf.float64, "n")
    bijector = AdditiveCoupling((2, 2, 2), mask="channel", parity=1, conditioner=network, dtype=tf.float64)
    randomize(bijector, scale=0.3)
    z = sample((2, 2, 2))
    np.testing.assert_allclose(bijector.inverse(fresh(bijector.forward(z))).numpy(), z.numpy(), atol=1e-10)
    np.testing.assert_allclose(bijector.forward_log_det_jacobian(fresh(z), event_ndims=3).numpy(), 0.0)
