"""Conditional flows: `tfnf.flows.condition`, TFP's keyword routing and caching, builder arguments."""

import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize


def small_glow(**kwargs):
    return tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=1, hidden_channels=4, seed=0, **kwargs)


def test_condition_builds_the_nested_bijector_kwargs():
    flow = tfnf.flows.realnvp((4,), num_couplings=2, hidden_units=(8,), context_shape=(3,))
    c = tf.ones([5, 3])
    kwargs = tfnf.flows.condition(flow, c)
    assert set(kwargs) == {"coupling0", "coupling1"}
    assert kwargs["coupling0"]["conditional_input"] is kwargs["coupling1"]["conditional_input"]  # one context, shared
    np.testing.assert_array_equal(kwargs["coupling0"]["conditional_input"].numpy(), c.numpy())
    glow_kwargs = tfnf.flows.condition(small_glow(num_classes=10), np.arange(5) % 10)
    # every step's coupling, the learned prior, and (through FactorOut) the next level
    assert set(glow_kwargs) == {"level0_step0", "level0_prior", "level0_factor_out"}
    assert set(glow_kwargs["level0_step0"]) == {"level0_step0_coupling"}
    assert set(glow_kwargs["level0_factor_out"]) == {"level1_step0"}
    one_hot = glow_kwargs["level0_prior"]["conditional_input"].numpy()
    np.testing.assert_array_equal(one_hot, np.eye(10, dtype=np.float32)[np.arange(5)])


def test_the_same_kwargs_work_through_bijector_and_distribution():
    flow = small_glow(num_classes=3)
    randomize(flow, scale=0.1)
    labels = np.array([0, 1, 2, 1], np.int32)
    kwargs = tfnf.flows.condition(flow, labels)
    x = flow.sample(4, seed=(3, 4), bijector_kwargs=kwargs)
    z = flow.bijector.inverse(fresh(x), **kwargs)
    expected = flow.distribution.log_prob(z) + flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=3, **kwargs)
    np.testing.assert_allclose(flow.log_prob(fresh(x), bijector_kwargs=kwargs).numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_the_cache_is_keyed_on_the_context():
    """TFP caches forward/inverse pairs per keyword arguments: another context is recomputed."""
    flow = tfnf.flows.realnvp((4,), num_couplings=2, hidden_units=(8,), num_classes=3)
    randomize(flow)
    z = tf.constant(np.random.default_rng(0).standard_normal((3, 4)), tf.float32)
    a, b = tfnf.flows.condition(flow, [0, 1, 2]), tfnf.flows.condition(flow, [2, 2, 2])
    x = flow.bijector.forward(z, **a)
    assert flow.bijector.inverse(x, **a) is z  # cache hit under the same context
    other = flow.bijector.inverse(x, **b)
    assert other is not z and float(tf.reduce_max(tf.abs(other - z))) > 1e-3


def test_conditional_flows_refuse_missing_or_bad_conditions():
    flow = small_glow(num_classes=3)
    x = tf.zeros([2, 8, 8, 1])
    with pytest.raises(ValueError, match="no conditional_input"):
        flow.log_prob(x)
    with pytest.raises(ValueError, match=r"class labels in \[0, 3\)"):
        tfnf.flows.condition(flow, [0, 3])
    with pytest.raises(TypeError, match="integer class labels"):
        tfnf.flows.condition(flow, [0.5, 1.0])
    with pytest.raises(ValueError, match="unconditional"):
        tfnf.flows.condition(small_glow(), [0, 1])
    vector_flow = tfnf.flows.realnvp((4,), num_couplings=2, hidden_units=(8,), context_shape=(3,))
    with pytest.raises(ValueError, match=r"\[batch, 3\]"):
        tfnf.flows.condition(vector_flow, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        tfnf.flows.condition(vector_flow, np.full((2, 3), np.nan))


def test_builder_arguments_are_checked_and_recorded():
    with pytest.raises(ValueError, match="not both"):
        tfnf.flows.realnvp((4,), num_classes=3, context_shape=(2,))
    with pytest.raises(ValueError, match="num_classes"):
        small_glow(num_classes=1)
    with pytest.raises(ValueError, match="context_shape"):
        tfnf.flows.realnvp((4,), context_shape=(2, 2))
    assert tfnf.flows.flow_config(small_glow(num_classes=10))["config"]["num_classes"] == 10
    assert tfnf.flows.flow_context(small_glow(num_classes=10)) == {"num_classes": 10}
    vector = tfnf.flows.realnvp((4,), context_shape=(3,))
    assert tfnf.flows.flow_config(vector)["config"]["context_shape"] == [3]
    assert tfnf.flows.flow_context(vector) == {"context_shape": [3]}
    # unconditional builders record nothing new
    assert "num_classes" not in tfnf.flows.flow_config(small_glow())["config"]
    assert tfnf.flows.flow_context(small_glow()) is None


def test_conditioning_only_adds_parameters_that_read_the_context():
    def count(flow):
        return sum(int(np.prod(w.shape)) for w in flow.trainable_variables)

    plain, conditional = count(small_glow()), count(small_glow(num_classes=10))
    # per conditioner: the first conv reads 10 more input channels (3x3 kernels); the
    # learned prior's single conv too
    assert conditional > plain
    vector_plain = count(tfnf.flows.realnvp((4,), num_couplings=2, hidden_units=(8,)))
    vector_conditional = count(tfnf.flows.realnvp((4,), num_couplings=2, hidden_units=(8,), context_shape=(3,)))
    assert vector_conditional - vector_plain == 2 * 3 * 8  # 3 more inputs into each first hidden layer
