"""Image flows conditioned on an image (`context_shape=(h, w, c)`): glow and image realnvp."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tfnf.bijectors import collect_keras_layers
from tfnf.nets import ImageContextConditioner
from tfnf.export.saved_model import FlowExport


def tiny_glow(event_shape=(8, 8, 1), context_shape=(4, 4, 1), dtype=tf.float32, **kwargs):
    kwargs = {"num_levels": 1, "num_steps": 2, "hidden_channels": 8, "dropout": 0.0, "seed": 0, **kwargs}
    return tfnf.flows.glow(event_shape, context_shape=context_shape, dtype=dtype, **kwargs)


def tiny_realnvp(event_shape=(8, 8, 1), context_shape=(4, 4, 1), dtype=tf.float32, **kwargs):
    kwargs = {"num_levels": 2, "hidden_channels": 8, **kwargs}
    return tfnf.flows.realnvp(event_shape, context_shape=context_shape, dtype=dtype, **kwargs)


BUILDERS = {
    "glow": tiny_glow,
    "glow_two_levels": lambda **kw: tiny_glow(num_levels=2, num_steps=1, **kw),
    "realnvp": tiny_realnvp,
}


def contexts(batch, shape=(4, 4, 1), seed=0, dtype=np.float32):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (batch, *shape)).astype(dtype)


def pooled(x):
    """`[N, 8, 8, 1]` -> the 2x2 average-pooled `[N, 4, 4, 1]`."""
    return x.reshape(len(x), 4, 2, 4, 2, 1).mean(axis=(2, 4))


def variable_id(v):
    """The identity of the TensorFlow variable behind `v` (a Keras variable or a `tf.Variable`)."""
    return id(v.value) if isinstance(v, keras.Variable) else id(v)


def image_conditioners(flow):
    return [layer for layer in collect_keras_layers(flow) if isinstance(layer, ImageContextConditioner)]


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_round_trip_and_log_prob_identity(name):
    flow = BUILDERS[name]()
    randomize(flow, scale=0.1)
    kwargs = tfnf.flows.condition(flow, contexts(3))
    z = tf.constant(np.random.default_rng(1).standard_normal((3, 8, 8, 1)).astype(np.float32))
    x = flow.bijector.forward(z, **kwargs)
    z_back = flow.bijector.inverse(fresh(x), **kwargs)
    np.testing.assert_allclose(z_back.numpy(), z.numpy(), atol=1e-4)
    fldj = flow.bijector.forward_log_det_jacobian(z, event_ndims=3, **kwargs)
    ildj = flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=3, **kwargs)
    np.testing.assert_allclose(fldj.numpy(), -ildj.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "make",
    [
        # glow over 4x4: one level at 2x2, the 4x4 context downsampled
        lambda: tiny_glow((4, 4, 1), (4, 4, 1), tf.float64, num_steps=2),
        # realnvp over 4x4 with one level: checkerboard couplings at 4x4, the 2x2 context upsampled
        lambda: tiny_realnvp((4, 4, 1), (2, 2, 1), tf.float64, num_levels=1),
        # the same with the glow learned prior and a second level
        lambda: tiny_glow((4, 4, 1), (2, 2, 2), tf.float64, num_levels=2, num_steps=1),
    ],
    ids=["glow", "realnvp", "glow_prior"],
)
def test_log_det_matches_a_brute_force_jacobian_in_float64(make):
    flow = make()
    randomize(flow, scale=0.2)
    context_shape = tuple(tfnf.flows.flow_context(flow)["context_shape"])
    kwargs = tfnf.flows.condition(flow, contexts(2, context_shape, seed=3, dtype=np.float64))
    x = tf.constant(np.random.default_rng(2).uniform(-0.4, 0.4, (2, 4, 4, 1)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        z = tf.reshape(flow.bijector.inverse(x, **kwargs), [2, -1])
    jacobian = tape.batch_jacobian(z, x).numpy().reshape(2, 16, 16)
    _, brute = np.linalg.slogdet(jacobian)
    ildj = flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=3, **kwargs).numpy()
    np.testing.assert_allclose(ildj, brute, rtol=1e-8, atol=1e-8)
    assert np.abs(brute).max() > 1e-3  # a non-trivial map


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_context_changes_the_density(name):
    flow = BUILDERS[name]()
    randomize(flow, scale=0.1)
    x = tf.constant(np.random.default_rng(4).uniform(-0.4, 0.4, (4, 8, 8, 1)).astype(np.float32))
    a = flow.log_prob(fresh(x), bijector_kwargs=tfnf.flows.condition(flow, contexts(4, seed=5)))
    b = flow.log_prob(fresh(x), bijector_kwargs=tfnf.flows.condition(flow, contexts(4, seed=6)))
    assert np.all(np.abs(a.numpy() - b.numpy()) > 1e-3)
    one = contexts(1, seed=5)
    shared = flow.log_prob(fresh(x), bijector_kwargs=tfnf.flows.condition(flow, one[0]))  # one image for all
    repeated = flow.log_prob(fresh(x), bijector_kwargs=tfnf.flows.condition(flow, np.repeat(one, 4, axis=0)))
    np.testing.assert_allclose(shared.numpy(), repeated.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_encoder_variable_is_trainable_through_the_flow_and_the_model(name):
    flow = BUILDERS[name]()
    layers = image_conditioners(flow)
    assert layers and all(layer.encoder.trainable_weights for layer in layers)
    encoder_ids = {variable_id(v) for layer in layers for v in layer.encoder.trainable_weights}
    assert len(encoder_ids) == len(layers)  # one packed kernel-and-bias variable each
    assert encoder_ids <= {variable_id(v) for v in flow.trainable_variables}
    model = tfnf.FlowModel(flow, num_bins=17)
    assert encoder_ids <= {variable_id(v) for v in model.trainable_variables}


def test_every_level_and_prior_reads_the_context():
    flow = BUILDERS["glow_two_levels"]()
    names = sorted(layer.name for layer in image_conditioners(flow))
    assert names == ["level0_prior_conditioner", "level0_step0_conditioner", "level1_step0_conditioner"]
    kwargs = tfnf.flows.condition(flow, contexts(2))
    assert set(kwargs) == {"level0_step0", "level0_prior", "level0_factor_out"}


@pytest.mark.parametrize("builder", ["glow", "realnvp"])
def test_the_configuration_rebuilds_the_same_flow(builder):
    flow = tiny_glow() if builder == "glow" else tiny_realnvp()
    model = tfnf.FlowModel(flow, num_bins=17)
    randomize(flow, scale=0.1)
    rebuilt = tfnf.FlowModel.from_config(model.get_config())
    assert tfnf.flows.flow_context(rebuilt.flow) == {"context_shape": [4, 4, 1]}
    rebuilt.set_weights(model.get_weights())
    x = np.random.default_rng(7).integers(0, 17, (3, 8, 8, 1)).astype(np.float32)
    c = contexts(3)
    np.testing.assert_allclose(rebuilt.log_prob(x, condition=c), model.log_prob(x, condition=c), rtol=1e-6, atol=1e-6)


def digits_and_contexts(n=128):
    x = tfnf.datasets.digits("train", as_numpy=True)[:n]
    return x, pooled(x) / 16.0


@pytest.mark.parametrize("builder", ["glow", "realnvp"])
def test_fit_on_pairs_lowers_the_loss_and_samples_take_a_context(builder):
    keras.utils.set_random_seed(0)
    flow = tiny_glow() if builder == "glow" else tiny_realnvp()
    model = tfnf.FlowModel(flow, num_bins=17)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)  # the contexts are the subject, not XLA
    x, c = digits_and_contexts()
    before = model.evaluate(x, c, batch_size=128, verbose=0, return_dict=True)["loss"]
    model.fit(x, c, batch_size=32, epochs=3, verbose=0)
    after = model.evaluate(x, c, batch_size=128, verbose=0, return_dict=True)["loss"]
    assert after < before - 0.05
    samples = model.sample(5, condition=c[0])  # one context for all samples
    assert samples.shape == (5, 8, 8, 1)
    assert model.sample(3, condition=c[:3]).shape == (3, 8, 8, 1)


def exported_model(tmp_path):
    flow = tiny_glow()
    model = tfnf.FlowModel(flow, num_bins=17)
    x, c = digits_and_contexts(6)
    model.initialize(x, c)
    randomize(flow, scale=0.1)
    return model, x, c


def test_the_exported_graph_matches_the_model(tmp_path):
    """The serving graph (`FlowExport`) saved and loaded: condition input `[None, 4, 4, 1]`, same densities."""
    model, x, c = exported_model(tmp_path)
    export = FlowExport(model)
    tf.saved_model.save(export, str(tmp_path / "graph"), signatures=export.signatures())
    signature = tf.saved_model.load(str(tmp_path / "graph")).signatures["log_prob"]
    assert signature.structured_input_signature[1]["condition"].shape.as_list() == [None, 4, 4, 1]
    exported = signature(x=tf.constant(x), condition=tf.constant(c))["log_prob"].numpy()
    np.testing.assert_allclose(exported, model.log_prob(x, condition=c), rtol=1e-5, atol=1e-5)
    other = signature(x=tf.constant(x), condition=tf.constant(c[::-1].copy()))["log_prob"].numpy()
    assert np.abs(other - exported).max() > 1e-3
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
        signature(x=tf.constant(x), condition=tf.constant(np.full_like(c, np.nan)))


def test_model_export_accepts_an_image_context(tmp_path):
    model, x, c = exported_model(tmp_path)
    loaded = tf.saved_model.load(str(model.export(tmp_path / "glow" / "1")))
    exported = loaded.signatures["log_prob"](x=tf.constant(x), condition=tf.constant(c))["log_prob"].numpy()
    np.testing.assert_allclose(exported, model.log_prob(x, condition=c), rtol=1e-5, atol=1e-5)


def test_fit_on_a_dataset_with_validation_data():
    """`tf.data` pairs `(x [b, 8, 8, 1], context [b, 4, 4, 1])`, with validation data, train like arrays."""
    flow = tiny_glow()
    model = tfnf.FlowModel(flow, num_bins=17)
    x, c = digits_and_contexts(96)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    train = tf.data.Dataset.from_tensor_slices((x, c)).batch(32)
    history = model.fit(train, validation_data=(x[:32], c[:32]), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["val_loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.isfinite(model.evaluate(train, verbose=0, return_dict=True)["bits_per_dim"])
    wrong = tf.data.Dataset.from_tensor_slices((x, c[:, :3, :3])).batch(32)
    with pytest.raises(ValueError, match=r"shape \[batch, 4, 4, 1\]"):
        model.fit(wrong, epochs=1, verbose=0)


def test_bad_contexts_are_named():
    flow = tiny_glow()
    with pytest.raises(ValueError, match=r"shape \[batch, 4, 4, 1\]"):
        tfnf.flows.condition(flow, np.zeros((2, 2, 2, 1), np.float32))
    with pytest.raises(ValueError, match=r"shape \[batch, 4, 4, 1\]"):
        tfnf.flows.condition(flow, np.zeros((2, 4, 4, 2), np.float32))
    with pytest.raises(TypeError, match="real numbers"):
        tfnf.flows.condition(flow, np.full((2, 4, 4, 1), "a"))
    bad = np.zeros((2, 4, 4, 1), np.float32)
    bad[1, 2, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        tfnf.flows.condition(flow, bad)
    model = tfnf.FlowModel(flow, num_bins=17)
    x = np.zeros((2, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match="NaN or Inf"):
        model.log_prob(x, condition=bad)
    with pytest.raises(ValueError, match=r"shape \[batch, 4, 4, 1\]"):
        model.fit(x, np.zeros((2, 3, 3, 1), np.float32), verbose=0)
    with pytest.raises(ValueError, match="no conditional_input"):
        flow.log_prob(tf.zeros([1, 8, 8, 1]))


def test_builders_refuse_image_contexts_they_cannot_use():
    with pytest.raises(ValueError, match=r"context_shape must be \(k,\)"):
        tfnf.flows.realnvp((4,), context_shape=(2, 2, 1))
    with pytest.raises(ValueError, match=r"context_shape must be \(k,\)"):
        tfnf.flows.maf((4,), context_shape=(2, 2, 1))
    with pytest.raises(ValueError, match=r"every size >= 1"):
        tiny_glow(context_shape=(0, 4, 1))
    with pytest.raises(ValueError, match="not both"):
        tiny_glow(num_classes=3)
