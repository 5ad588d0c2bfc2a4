"""The builder skeleton: one signature rule, argument checks by name, the configuration from the call."""

import inspect
import json

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnf
from tfnf.bijectors import AffineCoupling, coupling_network
from tfnf.bijectors.transformers import AffineTransformer
from tfnf.flows import Architecture, flow_builder


@flow_builder("two_couplings", kinds=("vector",), recorded_when_set=("width",))
def two_couplings(flow, hidden_units=(8,), dropout=0.0, width=None):
    """A builder of one's own: two affine couplings (the test of the skeleton)."""
    parts = [
        AffineCoupling(
            flow.event_shape, parity=k, hidden_units=hidden_units, dropout=dropout, context_size=flow.context_size,
            dtype=flow.dtype, name=f"coupling{k}",
            conditioner=coupling_network(flow.conditioner, flow.event_shape, None, k, AffineTransformer.num_params,
                                         flow.context_size, flow.dtype, f"c{k}", hidden_units=hidden_units),
        )
        for k in range(2)
    ]
    return Architecture(tfp.bijectors.Chain(parts))


def test_every_builder_has_the_common_keyword_arguments():
    for name, builder in tfnf.flows.BUILDERS.items():
        parameters = inspect.signature(builder).parameters
        assert list(parameters)[0] == "event_shape"
        assert {"base", "dtype", "name"} <= set(parameters), name
        assert parameters["name"].default == name
        if name != "ffjord":
            assert {"num_classes", "context_shape", "dropout"} <= set(parameters), name
        if name not in ("ffjord", "jet", "tarflow"):  # the transformer flows' networks are their transformers
            assert "conditioner" in parameters, name
        else:
            assert "conditioner" not in parameters, name


def test_a_builder_of_ones_own_gets_checks_context_base_and_a_recorded_configuration():
    flow = two_couplings((4,), hidden_units=np.array([8, 8]), num_classes=3, base="diagonal_gaussian", dtype="float64")
    config = tfnf.flows.flow_config(flow)
    assert config["builder"] == "two_couplings" and config["dtype"] == "float64"
    assert config["config"] == {
        "event_shape": (4,), "hidden_units": (8, 8), "dropout": 0.0, "name": "two_couplings", "num_classes": 3,
        "base": {"kind": "diagonal_gaussian"},
    }
    json.dumps(config)
    x = tf.zeros([2, 4], tf.float64)
    assert flow.log_prob(x, bijector_kwargs=tfnf.flows.condition(flow, [0, 2])).shape == [2]
    assert "width" in tfnf.flows.flow_config(two_couplings((4,), width=3))["config"]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(event_shape=(4, 4, 1)), ValueError, "two_couplings takes vectors"),
    (dict(event_shape=(4,), hidden_units=8), TypeError, "^hidden_units must be"),
    (dict(event_shape=(4,), dropout=1.0), ValueError, "^dropout must be"),
    (dict(event_shape=(4,), dtype="int32"), ValueError, "^dtype must be"),
    (dict(event_shape=(4,), conditioner=3), TypeError, "conditioner must be None"),
])
def test_arguments_are_checked_by_name_before_anything_is_built(kwargs, error, match):
    with pytest.raises(error, match=match):
        two_couplings(**kwargs)


def test_a_recorded_configuration_rebuilds_the_same_call():
    for name, kwargs in [("realnvp", dict(event_shape=(8, 8, 1), hidden_channels=4)), ("nsf", dict(event_shape=(3,))),
                         ("maf", dict(event_shape=(3,), transformer="spline", num_bins=4)),
                         ("glow", dict(event_shape=(4, 4, 1), num_levels=1, num_steps=1, hidden_channels=4)),
                         ("ffjord", dict(event_shape=(2,)))]:
        config = tfnf.flows.flow_config(tfnf.flows.build_flow(name, **kwargs))
        again = tfnf.flows.flow_config(tfnf.flows.build_flow(name, **config["config"]))
        assert again == config


def test_options_left_at_their_default_are_not_recorded_where_older_configurations_lack_them():
    assert "fourier_frequencies" not in tfnf.flows.flow_config(tfnf.flows.realnvp((4, 4, 1), hidden_channels=4))["config"]
    recorded = tfnf.flows.flow_config(tfnf.flows.realnvp((2,), mixing="lu", seed=1))["config"]
    assert (recorded["mixing"], recorded["seed"], recorded["fourier_frequencies"]) == ("lu", 1, (1.0, 2.0))
    assert "transformer" not in tfnf.flows.flow_config(tfnf.flows.iaf((2,)))["config"]
