"""Checks shared by the image transformer flows (`jet`, `tarflow`): exactness, tracking, training, saving."""

import keras
import numpy as np
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tests.jacobians import batch_jacobian
from tfnf.bijectors import collect_keras_layers

TINY = {"width": 8, "depth": 1, "num_heads": 2}


def check_round_trip(build):
    flow = build((8, 8, 1), dtype=tf.float64)
    randomize(flow, scale=0.3)
    x = tf.constant(np.random.default_rng(0).uniform(-0.5, 0.5, (3, 8, 8, 1)))
    z = flow.bijector.inverse(x)
    assert np.abs(z.numpy() - x.numpy()).max() > 1e-2  # randomised: not the identity
    np.testing.assert_allclose(flow.bijector.forward(fresh(z)).numpy(), x.numpy(), rtol=0, atol=1e-10)
    fldj = flow.bijector.forward_log_det_jacobian(fresh(z), event_ndims=3)
    ildj = flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=3)
    np.testing.assert_allclose(fldj.numpy(), -ildj.numpy(), rtol=1e-9, atol=1e-9)


def check_brute_force_log_det(build, context=None):
    """`log_prob` = base density of the latent + `log|det|` of the brute-force Jacobian, for each of
    two contexts (`context`: None, `"classes"` or `"vector"`), which give different densities."""
    kwargs = {None: {}, "classes": {"num_classes": 2}, "vector": {"context_shape": (3,)}}[context]
    conditions = {None: [None], "classes": [0, 1], "vector": list(np.random.default_rng(7).standard_normal((2, 3)))}[context]
    flow = build((4, 4, 1), dtype=tf.float64, **kwargs)
    randomize(flow, scale=0.3)
    x = tf.constant(np.random.default_rng(1).uniform(-0.5, 0.5, (2, 4, 4, 1)))
    densities = []
    for c in conditions:
        kw = {} if c is None else tfnf.flows.condition(flow, np.stack([c, c]))
        copies = {} if c is None else tfnf.flows.condition(flow, np.stack([c] * 32))  # as batch_jacobian repeats x
        jacobian = batch_jacobian(lambda copy: flow.bijector.inverse(copy, **copies), x)
        _, brute = np.linalg.slogdet(jacobian.numpy())
        ildj = flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=3, **kw).numpy()
        np.testing.assert_allclose(ildj, brute, rtol=1e-8, atol=1e-8)
        assert np.abs(brute).max() > 1e-2
        z = flow.bijector.inverse(fresh(x), **kw)
        expected = flow.distribution.log_prob(z).numpy() + brute
        log_prob = flow.log_prob(fresh(x), bijector_kwargs=kw).numpy()
        np.testing.assert_allclose(log_prob, expected, rtol=1e-8, atol=1e-8)
        densities.append(log_prob)
    if context is not None:  # each context its own density
        assert np.abs(densities[0] - densities[1]).min() > 1e-3


def check_every_weight_is_trainable_in_flow_model(build, num_layers):
    flow = build((8, 8, 1), num_classes=3)
    layers = collect_keras_layers(flow)
    assert len(layers) == num_layers
    model = tfnf.FlowModel(flow, num_bins=17)
    tracked = {id(getattr(v, "value", v)) for v in model.trainable_variables}
    weights = [w for layer in layers for w in layer.trainable_weights]
    assert weights and all(id(getattr(w, "value", w)) in tracked for w in weights)
    names = {w.path for w in weights}
    assert any("position" in n for n in names) and any("context_embed" in n for n in names)


def check_fit_lowers_the_loss(build):
    keras.utils.set_random_seed(0)
    model = tfnf.FlowModel(build((8, 8, 1)), num_bins=17)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False, steps_per_execution=1)
    x = tfnf.datasets.digits("train", as_numpy=True)[:128]
    before = model.evaluate(x, batch_size=128, verbose=0, return_dict=True)["loss"]
    model.fit(x, batch_size=32, epochs=3, verbose=0)
    after = model.evaluate(x, batch_size=128, verbose=0, return_dict=True)["loss"]
    assert np.isfinite(after) and after < before - 0.1


def check_saving_and_export(build, tmp_path):
    """`.keras` save/load gives the same densities; the SavedModel's `log_prob` equals the model's and
    its `sample` signature draws images."""
    flow = build((8, 8, 1), num_classes=3)
    randomize(flow, scale=0.1)
    model = tfnf.FlowModel(flow, num_bins=17)
    x = tfnf.datasets.digits("train", as_numpy=True)[:6]
    labels = np.array([0, 1, 2, 0, 1, 2], np.int32)
    expected = model.log_prob(x, labels).numpy()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.log_prob(x, labels).numpy(), expected, rtol=1e-5, atol=1e-4)
    fresh_model = tfnf.FlowModel(build((8, 8, 1), num_classes=3), num_bins=17)
    assert not np.allclose(fresh_model.log_prob(x, labels).numpy(), expected, atol=1e-2)
    exported = tf.saved_model.load(model.export(tmp_path / "export" / "1"))
    served = exported.signatures["log_prob"](x=tf.constant(x), condition=tf.constant(labels))["log_prob"]
    np.testing.assert_allclose(served.numpy(), expected, rtol=1e-5, atol=1e-4)
    samples = exported.signatures["sample"](condition=tf.constant(labels[:4]), temperature=tf.constant(0.7))
    assert samples["samples"].shape == (4, 8, 8, 1) and np.all(np.isfinite(samples["samples"].numpy()))
    pixels = samples["pixels"].numpy()
    assert pixels.min() >= 0 and pixels.max() <= 16
