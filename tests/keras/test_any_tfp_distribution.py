"""`FlowModel` trains and samples whatever TFP distribution it is given, from every path."""

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnf

tfb, tfd = tfp.bijectors, tfp.distributions


def learned_base_chain():
    """A stock `tfb.Shift` holding its own variable, chained with a tfnf flow, over a learned diagonal normal."""
    base = tfd.MultivariateNormalDiag(
        tf.Variable([0.0, 0.0], name="base_loc"),
        tfp.util.TransformedVariable([1.0, 1.0], tfb.Softplus(), name="base_scale"),
    )
    inner = tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)).bijector
    return tfd.TransformedDistribution(base, tfb.Chain([tfb.Shift(tf.Variable([0.0, 0.0], name="shift")), inner]))


def shifted_normal():
    """The identity over N(3, 0.5^2) in 2-D."""
    base = tfd.MultivariateNormalDiag(tf.Variable([3.0, 3.0]), tfp.util.TransformedVariable([0.5, 0.5], tfb.Softplus()))
    return tfd.TransformedDistribution(base, tfb.Identity())


def points(n=512, seed=0):
    return (np.random.default_rng(seed).standard_normal((n, 2)) * [0.5, 2.0] + [3.0, -1.0]).astype("float32")


def test_every_variable_of_a_stock_tfp_flow_reaches_keras_and_trains(tmp_path):
    flow = learned_base_chain()
    model = tfnf.FlowModel(flow)
    assert {id(v) for v in flow.trainable_variables} == {id(v.value) for v in model.trainable_variables}
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    before = [v.numpy().copy() for v in flow.trainable_variables]
    model.fit(points(), batch_size=64, epochs=2, verbose=0)
    moved = [not np.allclose(b, v.numpy()) for b, v in zip(before, flow.trainable_variables)]
    assert all(moved), [v.name for v, m in zip(flow.trainable_variables, moved) if not m]

    x = points(8, seed=1)
    expected = model.log_prob(x).numpy()
    model.save_weights(tmp_path / "chain.weights.h5")
    for v in flow.trainable_variables:
        v.assign(v + 1.0)
    assert not np.allclose(model.log_prob(x).numpy(), expected)
    model.load_weights(tmp_path / "chain.weights.h5")
    np.testing.assert_allclose(model.log_prob(x).numpy(), expected, rtol=1e-6, atol=1e-6)


def test_a_variable_no_module_holds_is_an_error_naming_it():
    hidden = tf.Variable([1.0, 1.0], name="hidden_scale")

    class ScaleByAClosure(tfb.Bijector):
        def __init__(self, read):
            super().__init__(forward_min_event_ndims=1, is_constant_jacobian=True, name="closure_scale")
            self._read = read  # a function: tf.Module cannot see the variable behind it

        def _forward(self, x):
            return x * self._read()

        def _inverse(self, y):
            return y / self._read()

        def _inverse_log_det_jacobian(self, y):
            return -tf.reduce_sum(tf.math.log(self._read()))

    model = tfnf.FlowModel(tfd.TransformedDistribution(tfd.MultivariateNormalDiag([0.0, 0.0]), ScaleByAClosure(lambda: hidden + 0.0)))
    model.compile(jit_compile=False)
    with pytest.raises(ValueError, match="hidden_scale"):
        model.fit(points(), batch_size=64, epochs=1, verbose=0)


def test_sampling_honours_the_base_on_every_path(tmp_path):
    model = tfnf.FlowModel(shifted_normal())
    samples = model.sample(8000, temperature=1.0, seed=0).numpy()
    np.testing.assert_allclose(samples.mean(axis=0), 3.0, atol=0.03)
    np.testing.assert_allclose(samples.std(axis=0), 0.5, atol=0.02)
    cooled = model.sample(8000, temperature=0.5, seed=0).numpy()
    np.testing.assert_allclose(cooled.std(axis=0), 0.25, atol=0.01)
    np.testing.assert_allclose(model.decode(model.encode(samples[:5])).numpy(), samples[:5], rtol=1e-6, atol=1e-6)
    path = model.interpolate(samples[0], samples[1], steps=5).numpy()
    np.testing.assert_allclose(path[2], (samples[0] + samples[1]) / 2, rtol=1e-5, atol=1e-5)

    export = model.export(str(tmp_path / "normal" / "1"), verbose=False)
    loaded = tf.saved_model.load(export)
    for name, extra in (("sample", {}), ("sample_seeded", {"seed": tf.constant([1, 2])})):
        drawn = loaded.signatures[name](num_samples=tf.constant(8000), temperature=tf.constant(1.0), **extra)["samples"].numpy()
        np.testing.assert_allclose(drawn.mean(axis=0), 3.0, atol=0.03, err_msg=name)
        np.testing.assert_allclose(drawn.std(axis=0), 0.5, atol=0.02, err_msg=name)

    out = tmp_path / "cli.npy"
    subprocess.run(
        [sys.executable, "-m", "tfnf", "sample", export, "-n", "8000", "--temperature", "1", "--out", str(out)],
        check=True, capture_output=True, timeout=300,
    )
    drawn = np.load(out)
    np.testing.assert_allclose(drawn.mean(axis=0), 3.0, atol=0.03)
    np.testing.assert_allclose(drawn.std(axis=0), 0.5, atol=0.02)


def test_a_mixture_base_samples_as_it_is_and_refuses_other_temperatures(tmp_path):
    components = tfd.MultivariateNormalDiag([[-2.0, 0.0], [2.0, 0.0]], [[0.3, 0.3], [0.3, 0.3]])
    base = tfd.MixtureSameFamily(tfd.Categorical(logits=[0.0, 0.0]), components)
    model = tfnf.FlowModel(tfd.TransformedDistribution(base, tfb.Identity()))
    samples = model.sample(4000, seed=0).numpy()
    assert abs(np.abs(samples[:, 0]).mean() - 2.0) < 0.05
    with pytest.raises(ValueError, match="temperature is defined for Gaussian bases only.*MixtureSameFamily"):
        model.sample(4, temperature=0.7)
    export = model.export(str(tmp_path / "mixture" / "1"), verbose=False)
    loaded = tf.saved_model.load(export)
    with pytest.raises(tf.errors.InvalidArgumentError, match="temperature is defined for Gaussian bases only"):
        loaded.signatures["sample"](num_samples=tf.constant(4), temperature=tf.constant(0.7))
    assert loaded.signatures["sample"](num_samples=tf.constant(4), temperature=tf.constant(1.0))["samples"].shape == (4, 2)

    command = [sys.executable, "-m", "tfnf", "sample", export, "-n", "2000", "--out", str(tmp_path / "m.npy")]
    subprocess.run(command, check=True, capture_output=True, timeout=300)  # the default temperature is 1 here
    assert abs(np.abs(np.load(tmp_path / "m.npy")[:, 0]).mean() - 2.0) < 0.1
    refused = subprocess.run([*command, "--temperature", "0.7"], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "--temperature must be 1 for this model" in refused.stderr


def test_density_methods_work_inside_a_users_tf_function_and_on_any_batch_shape():
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    for variable in model.trainable_variables:
        variable.assign(variable + 0.1 * tf.random.stateless_normal(variable.shape, [0, 1]))
    x = points(12).reshape(3, 4, 2)
    flat = model.log_prob(x.reshape(12, 2)).numpy()
    np.testing.assert_allclose(model.log_prob(x).numpy(), flat.reshape(3, 4), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.encode(x).numpy().reshape(12, 2), model.encode(x.reshape(12, 2)).numpy(), rtol=1e-6, atol=1e-6)

    @tf.function
    def user_function(x):
        return model.log_prob(x), model.decode(model.encode(x)), model.sample(3, temperature=0.5, seed=tf.constant([1, 2]))

    log_prob, decoded, drawn = user_function(tf.constant(x))
    np.testing.assert_allclose(log_prob.numpy(), flat.reshape(3, 4), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(decoded.numpy(), x, atol=1e-5)
    assert drawn.shape == (3, 2)
