"""Property suite over every flow builder, with randomised parameters."""

import numpy as np
import pytest
import tensorflow as tf

from tests.bijectors.cases import FLOW_CASES, fresh, randomize
from tests.bijectors.test_bijector_properties import brute_force_log_det

IDS = [c[0] for c in FLOW_CASES]


def build(factory, shape, dtype, seed=0):
    flow = factory(shape, dtype)
    assert randomize(flow, seed=seed, scale=0.1) > 0
    return flow


def latent(shape, batch, dtype, seed=0):
    return tf.constant(np.random.default_rng(seed).standard_normal((batch, *shape)), dtype)


@pytest.mark.parametrize("case_id, factory, shape, small", FLOW_CASES, ids=IDS)
def test_round_trip(case_id, factory, shape, small):
    flow = build(factory, shape, tf.float32)
    z = latent(shape, 6, tf.float32)
    x = flow.bijector.forward(z)
    assert x.shape == (6, *shape)
    assert float(tf.reduce_max(tf.abs(x - z))) > 1e-2  # the randomised flow is not the identity
    assert float(tf.reduce_max(tf.abs(flow.bijector.inverse(fresh(x)) - z))) < 1e-4
    x2 = fresh(flow.bijector.forward(latent(shape, 6, tf.float32, seed=1)))
    assert float(tf.reduce_max(tf.abs(flow.bijector.forward(fresh(flow.bijector.inverse(x2))) - x2))) < 1e-4


@pytest.mark.parametrize("case_id, factory, shape, small", FLOW_CASES, ids=IDS)
def test_log_det_matches_brute_force_jacobian(case_id, factory, shape, small):
    flow = build(factory, small, tf.float64)
    z = latent(small, 3, tf.float64)
    expected = brute_force_log_det(flow.bijector, fresh(z), small).numpy()
    actual = flow.bijector.forward_log_det_jacobian(fresh(z), event_ndims=len(small)).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)
    ildj = flow.bijector.inverse_log_det_jacobian(fresh(flow.bijector.forward(fresh(z))), event_ndims=len(small))
    np.testing.assert_allclose(actual, -ildj.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case_id, factory, shape, small", FLOW_CASES, ids=IDS)
def test_log_prob_is_change_of_variables(case_id, factory, shape, small):
    flow = build(factory, small, tf.float64)
    x = fresh(flow.bijector.forward(latent(small, 4, tf.float64)))
    z = flow.bijector.inverse(fresh(x))
    expected = flow.distribution.log_prob(z) + flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=len(small))
    np.testing.assert_allclose(flow.log_prob(fresh(x)).numpy(), expected.numpy(), rtol=1e-10)


@pytest.mark.parametrize("case_id, factory, shape, small", FLOW_CASES, ids=IDS)
def test_dynamic_batch_in_tf_function(case_id, factory, shape, small):
    flow = build(factory, shape, tf.float32)
    log_prob = tf.function(flow.log_prob, input_signature=[tf.TensorSpec([None, *shape], tf.float32)])
    for batch in (1, 7):
        x = fresh(flow.bijector.forward(latent(shape, batch, tf.float32)))
        values = log_prob(x)
        assert values.shape == (batch,)
        np.testing.assert_allclose(values.numpy(), flow.log_prob(fresh(x)).numpy(), rtol=1e-4)


@pytest.mark.parametrize("case_id, factory, shape, small", FLOW_CASES, ids=IDS)
def test_log_prob_and_sample_compile_with_xla(case_id, factory, shape, small):
    flow = build(factory, small, tf.float32)
    x = fresh(flow.bijector.forward(latent(small, 5, tf.float32)))
    log_prob = tf.function(flow.log_prob, jit_compile=True)
    np.testing.assert_allclose(log_prob(x).numpy(), flow.log_prob(fresh(x)).numpy(), rtol=1e-4, atol=1e-4)
    sample = tf.function(lambda: flow.sample(4, seed=(1, 2)), jit_compile=True)
    samples = sample().numpy()
    assert samples.shape == (4, *small) and np.all(np.isfinite(samples))
