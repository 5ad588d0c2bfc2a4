"""`build_network`: the one place a default network is chosen, for builders and bare bijectors alike."""

import keras
import pytest
import tensorflow as tf

from tfnf.bijectors import AffineCoupling, MaskedAutoregressive
from tfnf.nets import MADE, ConvConditioner, DenseConditioner, build_network, conditioners


@pytest.mark.parametrize("event_shape, input_shape, autoregressive, expected", [
    ((4,), (2,), False, DenseConditioner),
    ((4, 4, 2), (4, 4, 1), False, ConvConditioner),
    ((4,), (4,), True, MADE),
])
def test_none_is_the_default_of_the_events_kind(event_shape, input_shape, autoregressive, expected):
    assert conditioners.DEFAULTS == {"vector": "mlp", "image": "conv", "autoregressive": "made"}
    layer = build_network(None, event_shape, input_shape, 2, dtype=tf.float32, autoregressive=autoregressive,
                          hidden_units=(8,), hidden_channels=4)
    assert isinstance(layer, expected)


def test_bijectors_built_without_a_network_take_the_same_default():
    assert isinstance(AffineCoupling((4,), hidden_units=(8,)).conditioner, DenseConditioner)
    assert isinstance(AffineCoupling((4, 4, 2), hidden_channels=4).conditioner, ConvConditioner)
    assert isinstance(MaskedAutoregressive((4,), hidden_units=(8,)).network, MADE)


def test_a_callable_gets_the_flows_dtype_policy_and_must_return_a_layer():
    seen = {}

    def network(shape, num_params, context_size=None, dtype=None, name=None):
        seen.update(shape=shape, dtype=dtype, name=name)
        return keras.layers.Dense(num_params)

    build_network(network, (4,), (2,), 3, dtype=tf.float64, name="n")
    assert seen == {"shape": (2,), "dtype": "float64", "name": "n"}
    with pytest.raises(TypeError, match="must return a Keras layer"):
        build_network(lambda *a, **k: None, (4,), (2,), 3)


@pytest.mark.parametrize("options, error", [
    (dict(hidden_units=8), TypeError), (dict(hidden_units=[8, 0]), ValueError), (dict(hidden_units=[8.5]), TypeError),
    (dict(dropout="0.3"), TypeError), (dict(dropout=1.5), ValueError),
])
def test_a_wrong_kind_of_value_is_a_type_error_a_bad_value_a_value_error(options, error):
    with pytest.raises(error, match="conditioner 'mlp'"):
        conditioners.mlp(**options)
    with pytest.raises(TypeError, match="conditioner must be one of"):
        conditioners.ConditionerFactory(3)
