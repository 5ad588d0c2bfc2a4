"""tfnf flows compose with TensorFlow Probability's bijectors and distributions."""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import tfnf
from tests.bijectors.cases import fresh, randomize

tfb, tfd = tfp.bijectors, tfp.distributions


def small_flow():
    flow = tfnf.flows.realnvp((3,), num_couplings=4, hidden_units=(8,), dtype=tf.float64)
    randomize(flow, seed=5)
    return flow


def test_chain_with_a_shift():
    flow = small_flow()
    shift = tf.constant([1.0, -2.0, 0.5], tf.float64)
    shifted = tfd.TransformedDistribution(flow.distribution, tfb.Chain([tfb.Shift(shift), flow.bijector]))
    x = fresh(flow.sample(5, seed=(1, 2)))
    np.testing.assert_allclose(shifted.log_prob(fresh(x + shift)).numpy(), flow.log_prob(x).numpy(), rtol=1e-10, atol=1e-10)
    samples = shifted.sample(4, seed=(3, 4))
    assert samples.shape == (4, 3)


def test_invert_swaps_the_directions():
    flow = small_flow()
    inverted = tfb.Invert(flow.bijector)
    x = fresh(flow.sample(4, seed=(5, 6)))
    np.testing.assert_allclose(inverted.forward(x).numpy(), flow.bijector.inverse(fresh(x)).numpy(), atol=1e-12)
    np.testing.assert_allclose(
        inverted.forward_log_det_jacobian(fresh(x), event_ndims=1).numpy(),
        flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=1).numpy(),
        rtol=1e-10, atol=1e-10,
    )
    # A density pushed through Invert(flow.bijector) is the flow's latent density.
    latent = tfd.TransformedDistribution(flow, inverted)
    z = tf.constant(np.random.default_rng(0).standard_normal((6, 3)))
    np.testing.assert_allclose(latent.log_prob(z).numpy(), flow.distribution.log_prob(z).numpy(), rtol=1e-8, atol=1e-8)


def test_non_standard_base():
    flow = small_flow()
    loc, scale = tf.constant([0.5, -1.0, 2.0], tf.float64), tf.constant([2.0, 0.5, 1.5], tf.float64)
    base = tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)
    dist = tfd.TransformedDistribution(base, flow.bijector)
    x = fresh(dist.sample(5, seed=(7, 8)))
    z = flow.bijector.inverse(fresh(x))
    expected = base.log_prob(z) + flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=1)
    np.testing.assert_allclose(dist.log_prob(fresh(x)).numpy(), expected.numpy(), rtol=1e-10, atol=1e-10)
    assert dist.sample(3, seed=(1, 1)).shape == (3, 3)
