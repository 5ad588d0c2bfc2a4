"""`DataFlow`: one graph-pure model of data over any flow, any base, any leading batch shape."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnf
from tfnf.flows import DataFlow

tfb, tfd = tfp.bijectors, tfp.distributions


def shifted_normal(loc=3.0, scale=0.5):
    """Identity bijector over N(loc, scale^2) in 2-D: samples must have that mean and std."""
    base = tfd.MultivariateNormalDiag(tf.Variable([loc, loc]), tfp.util.TransformedVariable([scale, scale], tfb.Softplus()))
    return tfd.TransformedDistribution(base, tfb.Identity())


def mixture():
    components = tfd.MultivariateNormalDiag([[-2.0, 0.0], [2.0, 0.0]], [[0.3, 0.3], [0.3, 0.3]])
    return tfd.TransformedDistribution(tfd.MixtureSameFamily(tfd.Categorical(logits=[0.0, 0.0]), components), tfb.Identity())


@pytest.mark.parametrize("temperature", [1.0, 0.5, 0.0])
def test_gaussian_base_temperature_scales_its_standardised_noise(temperature):
    flow = DataFlow(shifted_normal())
    x = flow.sample(20_000, temperature, seed=tf.constant([1, 2])).numpy()
    np.testing.assert_allclose(x.mean(axis=0), 3.0, atol=0.02)
    np.testing.assert_allclose(x.std(axis=0), 0.5 * temperature, atol=0.01)


def test_sampling_draws_from_the_flows_own_base_in_every_execution_mode():
    flow = DataFlow(shifted_normal())
    seed = tf.constant([3, 4])
    eager = flow.sample(4000, 1.0, seed).numpy()
    graph = tf.function(flow.sample)(4000, tf.constant(1.0), seed).numpy()
    xla = tf.function(flow.sample, jit_compile=True)(4000, tf.constant(1.0), seed).numpy()
    np.testing.assert_allclose(graph, eager, rtol=1e-6, atol=1e-6)
    for x in (eager, xla):  # XLA draws its own stream from the same seed
        assert abs(x.mean() - 3.0) < 0.05 and abs(x.std() - 0.5) < 0.03


def test_a_non_gaussian_base_takes_temperature_one_only():
    flow = DataFlow(mixture())
    x = flow.sample(4000, 1.0, seed=tf.constant([1, 2])).numpy()
    assert abs(np.mean(x[:, 0] < 0) - 0.5) < 0.05 and abs(np.abs(x[:, 0]).mean() - 2.0) < 0.05  # two modes
    with pytest.raises(tf.errors.InvalidArgumentError, match="temperature is defined for Gaussian bases only"):
        tf.function(flow.sample)(4, tf.constant(0.7), tf.constant([1, 2]))


def test_a_batched_flow_is_refused():
    batched = tfd.TransformedDistribution(tfd.Normal(tf.zeros([3]), 1.0), tfb.Identity())
    with pytest.raises(ValueError, match="batch shape"):
        DataFlow(batched)


def _digits_flow(**kwargs):
    flow = tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=1, hidden_channels=4, seed=0, **kwargs)
    for variable in flow.trainable_variables:  # past the identity start
        variable.assign(variable + 0.02 * tf.random.stateless_normal(variable.shape, [0, 1]))
    return flow


def test_any_leading_batch_shape_matches_the_flat_batch():
    flow = DataFlow(_digits_flow(num_classes=3), num_bins=17, preprocessing="shift", condition_spec={"num_classes": 3})
    x = np.random.default_rng(0).integers(0, 17, (2, 3, 8, 8, 1)).astype("float32")
    labels = np.array([[0, 1, 2], [2, 1, 0]])
    flat = flow.log_prob(x.reshape(6, 8, 8, 1), labels.reshape(6)).numpy()
    np.testing.assert_allclose(flow.log_prob(x, labels).numpy(), flat.reshape(2, 3), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(flow.log_prob(x[0, 0], 0).numpy(), flat[0], rtol=1e-5, atol=1e-5)  # no batch axis at all
    z = flow.encode(x, labels)
    assert z.shape == x.shape
    np.testing.assert_allclose(flow.decode(z, labels).numpy(), x, atol=1e-3)
    np.testing.assert_allclose(flow.bits_per_dim(x, labels).numpy(), -flat.reshape(2, 3) / (64 * math.log(2.0)), rtol=1e-5, atol=1e-5)


def test_every_method_traces_inside_a_users_tf_function_and_xla():
    flow = DataFlow(_digits_flow(), num_bins=17, preprocessing="shift")
    x = tf.constant(np.random.default_rng(1).integers(0, 17, (4, 8, 8, 1)).astype("float32"))

    @tf.function(jit_compile=True)
    def everything(x):
        z = flow.encode(x)
        return flow.log_prob(x), flow.decode(z), flow.quantize(flow.sample(4, 0.7, tf.constant([1, 2]))), flow.interpolate(x[0], x[1], 3)

    log_prob, decoded, pixels, path = everything(x)
    np.testing.assert_allclose(log_prob.numpy(), flow.log_prob(x).numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(decoded.numpy(), x.numpy(), atol=1e-3)
    assert pixels.shape == (4, 8, 8, 1) and set(np.unique(pixels.numpy())) <= set(range(17))
    assert path.shape == (3, 8, 8, 1)
    np.testing.assert_allclose(path[0].numpy(), x[0].numpy(), atol=1e-3)
    np.testing.assert_allclose(path[-1].numpy(), x[1].numpy(), atol=1e-3)


def test_log_prob_is_in_data_units():
    """Scaling pixels by num_bins and shifting is part of the density: the data-unit density integrates to 1."""
    flow = DataFlow(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)), num_bins=4, preprocessing="shift")
    axis = np.linspace(-24.0, 28.0, 521, dtype=np.float32)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1)  # [521, 521, 2]: a leading batch shape of two axes
    density = np.exp(flow.log_prob(grid).numpy())
    assert abs(np.trapezoid(np.trapezoid(density, axis), axis) - 1.0) < 2e-3


def test_factor_out_labels_its_own_levels_and_chains_pass_them_back():
    from tfnf.bijectors.latent_levels import latent_levels
    from tfnf.private_apis import is_chain

    split = tfnf.bijectors.FactorOut((2, 2, 4), tfb.Identity(), num_kept=1)
    assert split.sizes == (1, 3)
    levels = split.latent_levels((2, 2, 4), 0)
    np.testing.assert_array_equal(levels[0, 0], [1, 0, 0, 0])
    chain = tfb.Chain([split, tfb.Scale(2.0)])  # elementwise on the latent side: the labels pass unchanged
    assert is_chain(chain) and is_chain(tfb.Chain([tfb.Shift(1.0)])) and not is_chain(tfb.Shift(1.0))
    np.testing.assert_array_equal(latent_levels(chain, (2, 2, 4)), levels)
    reordered = tfb.Chain([split, tfb.Invert(tfb.Permute([3, 2, 1, 0]))])  # reordered on the latent side
    np.testing.assert_array_equal(latent_levels(reordered, (2, 2, 4))[0, 0], [0, 0, 0, 1])
    with pytest.raises(ValueError, match="acts on the latent before the multi-scale split"):
        latent_levels(tfb.Chain([split, tfb.ScaleMatvecTriL(tf.eye(4))]), (2, 2, 4))  # mixes channels
