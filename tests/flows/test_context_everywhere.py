"""Vector contexts (`context_shape=(k,)`) and class labels for maf, iaf, nsf and nice."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tfnf.nets import MADE

BUILDERS = {
    "maf": lambda shape, **kw: tfnf.flows.maf(shape, num_layers=2, hidden_units=(8, 8), **kw),
    "iaf": lambda shape, **kw: tfnf.flows.iaf(shape, num_layers=2, hidden_units=(8, 8), **kw),
    "nsf": lambda shape, **kw: tfnf.flows.nsf(shape, num_couplings=2, hidden_units=(8,), num_bins=4, bound=3.0, **kw),
    "nice": lambda shape, **kw: tfnf.flows.nice(shape, num_couplings=2, hidden_units=(8,), **kw),
}


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_conditional_density_integrates_to_one_for_each_context(builder):
    flow = BUILDERS[builder]((2,), context_shape=(2,), dtype=tf.float64)
    randomize(flow, seed=1, scale=0.2)
    axis = np.linspace(-8.0, 8.0, 481)
    xx, yy = np.meshgrid(axis, axis)
    grid = tf.constant(np.stack([xx.ravel(), yy.ravel()], 1))
    densities = []
    for context in ([1.0, -0.5], [-1.5, 2.0]):
        kwargs = tfnf.flows.condition(flow, np.array(context))
        density = np.exp(flow.log_prob(grid, bijector_kwargs=kwargs).numpy())
        # the grid must hold (nearly) all of the mass for the sum to mean anything
        samples = flow.sample(20_000, seed=(3, 4), bijector_kwargs=tfnf.flows.condition(flow, np.array(context))).numpy()
        assert np.mean(np.all(np.abs(samples) < axis[-1], axis=1)) > 0.999
        mass = density.sum() * (axis[1] - axis[0]) ** 2
        assert abs(mass - 1.0) < 0.01, (builder, context, mass)
        densities.append(density)
    # the context changes the density (not only a shared normaliser)
    assert np.abs(densities[0] - densities[1]).max() > 1e-2


@pytest.mark.parametrize("builder", sorted(BUILDERS))
@pytest.mark.parametrize("context", ["vector", "labels"])
def test_round_trip_and_brute_force_log_det_with_context(builder, context):
    keyword = {"context_shape": (2,)} if context == "vector" else {"num_classes": 3}
    flow = BUILDERS[builder]((3,), dtype=tf.float64, **keyword)
    randomize(flow, seed=2, scale=0.3)
    rng = np.random.default_rng(0)
    z = tf.constant(rng.standard_normal((4, 3)))
    condition = rng.standard_normal((4, 2)) if context == "vector" else np.array([0, 1, 2, 1])
    kwargs = tfnf.flows.condition(flow, condition)
    bijector = flow.bijector
    x = bijector.forward(z, **kwargs)
    np.testing.assert_allclose(bijector.inverse(fresh(x), **kwargs).numpy(), z.numpy(), atol=1e-8)
    watched = fresh(z)  # a new tensor: TFP's cache would hand back `x` without a gradient
    with tf.GradientTape() as tape:
        tape.watch(watched)
        y = bijector.forward(watched, **kwargs)
    jacobian = tape.batch_jacobian(y, watched).numpy()
    brute = np.linalg.slogdet(jacobian)[1]
    np.testing.assert_allclose(bijector.forward_log_det_jacobian(fresh(z), event_ndims=1, **kwargs).numpy(), brute, atol=1e-8)
    np.testing.assert_allclose(
        bijector.inverse_log_det_jacobian(fresh(x), event_ndims=1, **kwargs).numpy(), -brute, atol=1e-8
    )
    # another context is another map
    other = tfnf.flows.condition(flow, condition[::-1].copy())
    assert float(tf.reduce_max(tf.abs(bijector.forward(fresh(z), **other) - x))) > 1e-3


def test_conditional_made_stays_autoregressive_in_x_and_reads_the_context_everywhere():
    made = MADE(4, 2, hidden_units=(6, 6), context_size=3, dtype="float64")
    for weight in made.weights:
        weight.assign(np.random.default_rng(0).standard_normal(weight.shape) * 0.5)
    x = tf.constant(np.random.default_rng(1).standard_normal((5, 4)))
    c = tf.constant(np.random.default_rng(2).standard_normal((5, 3)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, c])
        out = made(x, context=c)
    d_x = tape.batch_jacobian(out, x).numpy()  # [batch, D, params, D]
    d_c = tape.batch_jacobian(out, c).numpy()  # [batch, D, params, k]
    for i in range(4):
        assert np.all(d_x[:, i, :, i:] == 0.0)  # output i never sees x_i, x_i+1, ...
    assert np.all(np.abs(d_c).sum(axis=(0, 2, 3)) > 0)  # every output, the first included, reads the context
    with pytest.raises(ValueError, match="context"):
        made(x)


def test_builders_record_and_check_the_context():
    flow = tfnf.flows.maf((3,), num_layers=1, hidden_units=(4,), context_shape=(2,))
    assert tfnf.flows.flow_context(flow) == {"context_shape": [2]}
    assert tfnf.flows.flow_config(flow)["config"]["context_shape"] == [2]
    assert tfnf.flows.flow_context(tfnf.flows.nice((4,), num_couplings=2, hidden_units=(4,), num_classes=5)) == {
        "num_classes": 5
    }
    with pytest.raises(ValueError, match="not both"):
        tfnf.flows.nsf((2,), num_classes=3, context_shape=(2,))
    with pytest.raises(ValueError, match="context_shape"):
        tfnf.flows.iaf((2,), context_shape=(2, 2))
    with pytest.raises(ValueError, match="no conditional_input"):
        flow.log_prob(tf.zeros([2, 3]))
    unconditional = tfnf.flows.maf((3,), num_layers=1, hidden_units=(4,))
    with pytest.raises(ValueError, match="unconditional"):
        unconditional.bijector.forward(tf.zeros([2, 3]), autoregressive0={"conditional_input": tf.zeros([2, 2])})


def conditional_data(n=512, seed=0):
    """`x: [n, 2]` around `2 * c` for contexts `c: [n, 2]`: the context matters."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(-1, 1, (n, 2)).astype("float32")
    x = (2.0 * c + 0.3 * rng.standard_normal((n, 2))).astype("float32")
    return x, c


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_flow_model_trains_on_contexts_and_the_export_agrees(builder, tmp_path):
    x, c = conditional_data()
    model = tfnf.FlowModel(BUILDERS[builder]((2,), context_shape=(2,)))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)  # the contexts are the subject, not XLA
    before = float(-np.mean(model.log_prob(x, condition=c)))
    model.fit(x, c, batch_size=64, epochs=6, verbose=0)
    after = float(-np.mean(model.log_prob(x, condition=c)))
    assert after < before - 0.5, (before, after)
    shuffled = c[np.random.default_rng(1).permutation(len(c))]
    assert float(np.mean(model.log_prob(x, condition=c))) > float(np.mean(model.log_prob(x, condition=shuffled)))
    loaded = tf.saved_model.load(str(model.export(tmp_path / builder / "1", verbose=False)))
    exported = loaded.signatures["log_prob"](x=tf.constant(x[:16]), condition=tf.constant(c[:16]))["log_prob"]
    np.testing.assert_allclose(exported.numpy(), model.log_prob(x[:16], condition=c[:16]).numpy(), rtol=1e-5, atol=1e-5)
    one = np.array([0.5, -0.5], np.float32)
    exported_one = loaded.signatures["log_prob"](x=tf.constant(x[:4]), condition=tf.constant(np.tile(one, (4, 1))))
    np.testing.assert_allclose(
        exported_one["log_prob"].numpy(), model.log_prob(x[:4], condition=one).numpy(), rtol=1e-5, atol=1e-5
    )
