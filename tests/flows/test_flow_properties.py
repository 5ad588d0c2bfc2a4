"""Property suite over every flow builder, with randomised parameters.

Conditional builders (`glow(num_classes=...)`, `realnvp(context_shape=...)`)
run every property under random conditions, passed the TFP way as
`bijector_kwargs` built by `tfnf.flows.condition`.
"""

import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, flow_kwargs, flow_params, randomize
from tests.bijectors.test_bijector_properties import brute_force_log_det

CASES = flow_params()
IDS = [c[0] for c in CASES]
PARAMS = "case_id, factory, shape, small, condition"


def build(factory, shape, dtype, seed=0):
    flow = factory(shape, dtype)
    assert randomize(flow, seed=seed, scale=0.1) > 0
    return flow


def latent(shape, batch, dtype, seed=0):
    return tf.constant(np.random.default_rng(seed).standard_normal((batch, *shape)), dtype)


@pytest.mark.parametrize(PARAMS, CASES, ids=IDS)
def test_round_trip(case_id, factory, shape, small, condition):
    flow = build(factory, shape, tf.float32)
    kwargs = flow_kwargs(flow, condition, 6)
    z = latent(shape, 6, tf.float32)
    x = flow.bijector.forward(z, **kwargs)
    assert x.shape == (6, *shape)
    assert float(tf.reduce_max(tf.abs(x - z))) > 1e-2  # the randomised flow is not the identity
    assert float(tf.reduce_max(tf.abs(flow.bijector.inverse(fresh(x), **kwargs) - z))) < 1e-4
    x2 = fresh(flow.bijector.forward(latent(shape, 6, tf.float32, seed=1), **kwargs))
    x2_back = flow.bijector.forward(fresh(flow.bijector.inverse(x2, **kwargs)), **kwargs)
    assert float(tf.reduce_max(tf.abs(x2_back - x2))) < 1e-4


@pytest.mark.parametrize(PARAMS, CASES, ids=IDS)
def test_log_det_matches_brute_force_jacobian(case_id, factory, shape, small, condition):
    flow = build(factory, small, tf.float64)
    kwargs = flow_kwargs(flow, condition, 3)
    z = latent(small, 3, tf.float64)
    expected = brute_force_log_det(flow.bijector, fresh(z), small, **kwargs).numpy()
    actual = flow.bijector.forward_log_det_jacobian(fresh(z), event_ndims=len(small), **kwargs).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)
    x = fresh(flow.bijector.forward(fresh(z), **kwargs))
    ildj = flow.bijector.inverse_log_det_jacobian(x, event_ndims=len(small), **kwargs)
    np.testing.assert_allclose(actual, -ildj.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(PARAMS, CASES, ids=IDS)
def test_log_prob_is_change_of_variables(case_id, factory, shape, small, condition):
    flow = build(factory, small, tf.float64)
    kwargs = flow_kwargs(flow, condition, 4)
    x = fresh(flow.bijector.forward(latent(small, 4, tf.float64), **kwargs))
    z = flow.bijector.inverse(fresh(x), **kwargs)
    ildj = flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=len(small), **kwargs)
    expected = flow.distribution.log_prob(z) + ildj
    np.testing.assert_allclose(flow.log_prob(fresh(x), bijector_kwargs=kwargs).numpy(), expected.numpy(), rtol=1e-10, atol=1e-10)


def _condition_spec(flow, batch=None):
    spec = tfnf.flows.flow_context(flow)
    if "num_classes" in spec:
        return tf.TensorSpec([batch], tf.int32)
    return tf.TensorSpec([batch, spec["context_shape"][0]], tf.float32)


@pytest.mark.parametrize(PARAMS, CASES, ids=IDS)
def test_dynamic_batch_in_tf_function(case_id, factory, shape, small, condition):
    flow = build(factory, shape, tf.float32)
    x_spec = tf.TensorSpec([None, *shape], tf.float32)
    if condition is None:
        log_prob = tf.function(flow.log_prob, input_signature=[x_spec])
    else:  # the condition is a second input with the same unknown batch size
        log_prob = tf.function(
            lambda x, c: flow.log_prob(x, bijector_kwargs=tfnf.flows.condition(flow, c)),
            input_signature=[x_spec, _condition_spec(flow)],
        )
    for batch in (1, 7):
        kwargs = flow_kwargs(flow, condition, batch)
        args = () if condition is None else (tf.constant(condition(batch)),)
        x = fresh(flow.bijector.forward(latent(shape, batch, tf.float32), **kwargs))
        values = log_prob(x, *args)
        assert values.shape == (batch,)
        np.testing.assert_allclose(values.numpy(), flow.log_prob(fresh(x), bijector_kwargs=kwargs).numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(PARAMS, CASES, ids=IDS)
def test_log_prob_and_sample_compile_with_xla(case_id, factory, shape, small, condition):
    flow = build(factory, small, tf.float32)
    kwargs = flow_kwargs(flow, condition, 5)
    x = fresh(flow.bijector.forward(latent(small, 5, tf.float32), **kwargs))
    if condition is None:
        log_prob = tf.function(flow.log_prob, jit_compile=True)
        sample = tf.function(lambda: flow.sample(4, seed=(1, 2)), jit_compile=True)
    else:
        c5, c4 = tf.constant(condition(5)), tf.constant(condition(4, seed=1))
        log_prob = tf.function(lambda x: flow.log_prob(x, bijector_kwargs=tfnf.flows.condition(flow, c5)), jit_compile=True)
        sample = tf.function(
            lambda: flow.sample(4, seed=(1, 2), bijector_kwargs=tfnf.flows.condition(flow, c4)), jit_compile=True
        )
    np.testing.assert_allclose(
        log_prob(x).numpy(), flow.log_prob(fresh(x), bijector_kwargs=kwargs).numpy(), rtol=1e-4, atol=1e-4
    )
    samples = sample().numpy()
    assert samples.shape == (4, *small) and np.all(np.isfinite(samples))


CONDITIONAL = [c for c in CASES if c[4] is not None]


@pytest.mark.parametrize(PARAMS, CONDITIONAL, ids=[c[0] for c in CONDITIONAL])
def test_the_condition_changes_the_flow(case_id, factory, shape, small, condition):
    """After randomisation the same latent decodes differently, and the same data has a
    different density, under two different conditions."""
    flow = build(factory, shape, tf.float32)
    z = latent(shape, 6, tf.float32)
    a, b = flow_kwargs(flow, condition, 6, seed=0), flow_kwargs(flow, condition, 6, seed=1)
    assert float(tf.reduce_max(tf.abs(flow.bijector.forward(fresh(z), **a) - flow.bijector.forward(fresh(z), **b)))) > 1e-3
    x = fresh(flow.bijector.forward(z, **a))
    assert float(tf.reduce_max(tf.abs(flow.log_prob(fresh(x), bijector_kwargs=a) - flow.log_prob(fresh(x), bijector_kwargs=b)))) > 1e-3
