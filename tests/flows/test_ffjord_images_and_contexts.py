"""FFJORD over images and with a context: exact log-dets against brute-force Jacobians, and the Hutchinson trace."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tfnf.bijectors.jacobian_trace import EXACT_TRACE_MAX_DIMS, hutchinson_trace, rademacher_probe, resolve_trace
from tfnf.nets import ConvVectorField, VectorField


def randomized(event_shape, seed=0, scale=0.4, **kwargs):
    keras.utils.set_random_seed(seed)
    flow = tfnf.flows.ffjord(event_shape, hidden_units=(4,), rtol=1e-7, atol=1e-7, dtype=tf.float64, **kwargs)
    randomize(flow, seed=seed, scale=scale)
    return flow


def check_round_trip_and_log_det(flow, z, kwargs, repeated_kwargs, eps=1e-5):
    """Forward, inverse and both log-dets against `log|det|` of the brute-force Jacobian (float64).

    The Jacobian is by central differences, every perturbed copy of the batch in one forward call
    (one ODE solve: the solver's steps are shared by the batch, so its error does not differ
    between the copies); `repeated_kwargs` hold the same context for those `2 n` copies. All of it
    is one graph: an eager ODE solve runs its loop op by op."""
    bijector, event_ndims = flow.bijector, len(flow.event_shape)
    batch, n = z.shape[0], int(np.prod(z.shape[1:]))
    steps = eps * np.eye(n).reshape(n, 1, *z.shape[1:])
    copies = np.concatenate([z.numpy()[None] + steps, z.numpy()[None] - steps]).reshape(2 * n * batch, *z.shape[1:])

    @tf.function(autograph=False)
    def everything():
        x = bijector.forward(z, **kwargs)
        fldj = bijector.forward_log_det_jacobian(z, event_ndims=event_ndims, **kwargs)
        y = tf.identity(x)  # a new tensor: TFP's cache would hand back `z` without solving
        back, ildj = bijector.inverse(y, **kwargs), bijector.inverse_log_det_jacobian(y, event_ndims=event_ndims, **kwargs)
        return x, fldj, back, ildj, bijector.forward(tf.constant(copies), **repeated_kwargs)

    x, fldj, back, ildj, moved = (value.numpy() for value in everything())
    assert np.abs(x - z.numpy()).max() > 1e-2  # not the identity: the checks are not met trivially
    np.testing.assert_allclose(back, z.numpy(), atol=1e-6)
    moved = moved.reshape(2, n, batch, n)
    expected = np.linalg.slogdet(np.transpose((moved[0] - moved[1]) / (2 * eps), (1, 2, 0)))[1]
    assert np.abs(expected).max() > 1e-2
    np.testing.assert_allclose(fldj, expected, atol=1e-5)
    np.testing.assert_allclose(ildj, -expected, atol=1e-5)
    return x


def test_an_image_flow_is_exact_against_a_brute_force_jacobian():
    flow = randomized((2, 2, 2))
    assert isinstance(flow.bijector.vector_field, ConvVectorField) and flow.bijector.trace == "exact"
    z = tf.constant(np.random.default_rng(0).standard_normal((3, 2, 2, 2)))
    check_round_trip_and_log_det(flow, z, {}, {})


@pytest.mark.parametrize("event_shape, context, rows", [
    ((2,), dict(num_classes=3), np.array([0, 2])),
    ((2, 2, 1), dict(context_shape=(2,)), np.array([[0.5, -1.0], [2.0, 0.3]])),
])
def test_a_conditional_flow_is_exact_per_context(event_shape, context, rows):
    flow = randomized(event_shape, seed=1, **context)
    z = tf.constant(np.random.default_rng(1).standard_normal((2, *event_shape)))
    outputs = []
    for row in rows:  # one context for the batch, then each per example
        kwargs = tfnf.flows.condition(flow, row)
        outputs.append(check_round_trip_and_log_det(flow, z, kwargs, kwargs))
    assert np.abs(outputs[0] - outputs[1]).max() > 1e-3  # the context changes the flow
    n = int(np.prod(event_shape))
    kwargs = tfnf.flows.condition(flow, rows)
    repeated = tfnf.flows.condition(flow, np.concatenate([rows] * (2 * n)))
    check_round_trip_and_log_det(flow, z, kwargs, repeated)


def test_a_conditional_flow_needs_its_context():
    flow = tfnf.flows.ffjord((2,), hidden_units=(4,), num_classes=3)
    with pytest.raises(ValueError, match="received no conditional_input"):
        flow.bijector.forward(tf.zeros([1, 2]))


def test_the_trace_is_exact_up_to_the_threshold_then_hutchinson():
    assert resolve_trace("auto", (EXACT_TRACE_MAX_DIMS,)) == "exact"
    assert resolve_trace("auto", (3, 3, 4)) == "hutchinson"
    assert tfnf.flows.ffjord((6, 6, 1), hidden_units=(2,)).bijector.trace == "hutchinson"
    assert tfnf.flows.ffjord((6, 6, 1), hidden_units=(2,), trace="exact").bijector.trace == "exact"
    with pytest.raises(ValueError, match="trace"):
        tfnf.flows.ffjord((2,), trace="stochastic")


def field_and_state(seed=0):
    keras.utils.set_random_seed(seed)
    field = VectorField(3, (16,), "tanh", dtype="float64")
    x = tf.constant(np.random.default_rng(seed).standard_normal((2, 3)))
    field(x, tf.constant(0.3, tf.float64))
    rng = np.random.default_rng(seed)
    for weight in field.trainable_weights:  # the zero output layer too: a field that is not zero
        weight.assign(weight.numpy() + 0.8 * rng.standard_normal(weight.shape))
    return field, x


def test_hutchinson_is_the_exact_trace_in_expectation():
    field, x = field_and_state()
    ode_fn = lambda t, s: field(s, t)  # noqa: E731
    t = tf.constant(0.3, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = field(x, t)
    exact = np.trace(tape.batch_jacobian(y, x).numpy(), axis1=1, axis2=2)
    estimates = []
    for seed in range(400):
        augmented = hutchinson_trace(seed=(seed, 7))(ode_fn, x.shape, x.dtype)
        derivative, terms = augmented(t, (x, tf.zeros_like(x)))
        estimates.append(tf.reduce_sum(terms, axis=-1).numpy())
    estimates = np.array(estimates)
    np.testing.assert_allclose(derivative.numpy(), y.numpy(), atol=1e-12)
    assert estimates.std(axis=0).min() > 1e-3  # a real estimate, not the exact trace
    np.testing.assert_allclose(estimates.mean(axis=0), exact, atol=4 * estimates.std(axis=0).max() / np.sqrt(400))


def test_hutchinson_is_exact_for_a_diagonal_jacobian_and_fixed():
    probe = rademacher_probe((5,), tf.float64)
    assert set(np.abs(probe.numpy())) == {1.0}
    np.testing.assert_array_equal(probe.numpy(), rademacher_probe((5,), tf.float64).numpy())
    scales = tf.constant([0.5, -1.0, 2.0, 0.1, 3.0], tf.float64)
    augmented = hutchinson_trace()(lambda t, s: tf.sin(s) * scales, [2, 5], tf.float64)
    x = tf.constant(np.random.default_rng(0).standard_normal((2, 5)))
    _, terms = augmented(tf.constant(0.0, tf.float64), (x, tf.zeros_like(x)))
    np.testing.assert_allclose(terms.numpy(), (tf.cos(x) * scales).numpy(), atol=1e-12)


def test_a_hutchinson_flow_is_a_fixed_function_of_each_example_and_inverts():
    flow = randomized((3, 3, 4), seed=2, scale=0.3)
    assert flow.bijector.trace == "hutchinson"
    x = tf.constant(np.random.default_rng(2).standard_normal((3, 3, 3, 4)))
    log_prob = tf.function(flow.log_prob, autograph=False)
    batch = log_prob(x).numpy()
    np.testing.assert_allclose(log_prob(fresh(x)).numpy(), batch, atol=1e-10)
    np.testing.assert_allclose(log_prob(x[1:2]).numpy(), batch[1:2], atol=1e-5)  # alone: other solver steps
    z = tf.function(flow.bijector.inverse, autograph=False)(x)
    np.testing.assert_allclose(tf.function(flow.bijector.forward, autograph=False)(z).numpy(), x.numpy(), atol=1e-6)
