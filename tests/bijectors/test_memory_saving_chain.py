"""`MemorySavingChain`: the gradient that recomputes activations equals ordinary backpropagation."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import tfnf
from tfnf.bijectors import (
    ActNorm,
    AffineCoupling,
    ContinuousFlow,
    Invertible1x1Conv,
    MemorySavingChain,
    Squeeze,
    initialize_actnorms,
)

tfb = tfp.bijectors

RUNS = {
    "eager": lambda f: f,
    "graph": tf.function,
    "xla": lambda f: tf.function(f, jit_compile=True),
}


def twin_glows(dtype="float32", **kwargs):
    """The same small glow (same weights, same dropout seeds) without and with memory saving,
    its ActNorms initialised from the same batch; returns the two `FlowModel`s and the batch."""
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (6, 8, 8, 3)).astype(dtype)
    models = []
    for memory_saving in (False, True):
        keras.utils.set_random_seed(7)
        flow = tfnf.flows.glow(
            (8, 8, 3), num_levels=2, num_steps=3, hidden_channels=8, seed=0, dtype=dtype,
            memory_saving=memory_saving, **kwargs,
        )
        models.append(tfnf.FlowModel(flow))
    return models, x


def loss_and_gradients(model, x, run, condition=None):
    @run
    def step(x, condition):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model(x, training=True, condition=condition))
        return loss, tape.gradient(loss, model.trainable_variables)

    return step(tf.constant(x), condition)


def assert_same_gradients(ordinary, saving, rtol, floor):
    assert len(ordinary) == len(saving)
    for expected, got in zip(ordinary, saving):
        assert got is not None
        expected, got = np.asarray(expected), np.asarray(got)
        scale = max(1.0, float(np.max(np.abs(expected))))
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=floor * scale)


@pytest.mark.parametrize("run", list(RUNS))
def test_glow_gradients_match_ordinary_backpropagation_float32(run):
    (ordinary, saving), x = twin_glows()  # dropout 0.3 on: the recomputation must replay the masks
    for model in (ordinary, saving):
        model.initialize(x)
    loss_a, grads_a = loss_and_gradients(ordinary, x, RUNS[run])
    loss_b, grads_b = loss_and_gradients(saving, x, RUNS[run])
    np.testing.assert_allclose(loss_b.numpy(), loss_a.numpy(), rtol=1e-6, atol=1e-4)
    assert_same_gradients(grads_a, grads_b, rtol=1e-4, floor=1e-4)


def test_glow_gradients_are_exact_in_float64():
    (ordinary, saving), x = twin_glows("float64")
    for model in (ordinary, saving):
        model.initialize(x)
    _, grads_a = loss_and_gradients(ordinary, x, tf.function)
    _, grads_b = loss_and_gradients(saving, x, tf.function)
    assert_same_gradients(grads_a, grads_b, rtol=1e-9, floor=1e-9)


def test_replayed_dropout_is_needed():
    """Without the replayed masks the gradient differs: the test above can fail."""
    (ordinary, saving), x = twin_glows()
    for model in (ordinary, saving):
        model.initialize(x)
    chains = [m for m in saving.data_flow.bijector.submodules if isinstance(m, MemorySavingChain)]
    assert len(chains) == 2
    _, grads_a = loss_and_gradients(ordinary, x, tf.function)
    for chain in chains:
        chain._generators = [[] for _ in chain._generators]  # states no longer set back
    _, grads_b = loss_and_gradients(saving, x, tf.function)
    with pytest.raises(AssertionError):
        assert_same_gradients(grads_a, grads_b, rtol=1e-4, floor=1e-4)


@pytest.mark.parametrize("run", ["graph", "xla"])
def test_conditional_glow_gradients_match(run):
    (ordinary, saving), x = twin_glows(num_classes=3)
    labels = np.array([0, 1, 2, 0, 1, 2], np.int32)
    for model in (ordinary, saving):
        model.initialize(x, labels)
    _, grads_a = loss_and_gradients(ordinary, x, RUNS[run], tf.constant(labels))
    _, grads_b = loss_and_gradients(saving, x, RUNS[run], tf.constant(labels))
    assert_same_gradients(grads_a, grads_b, rtol=1e-4, floor=1e-4)


def small_steps(context_size, dtype=tf.float64):
    shape = (4, 4, 4)
    steps = []
    for k in range(3):
        steps.append(tfb.Chain([
            ActNorm(shape, dtype=dtype, name=f"actnorm{k}"),
            Invertible1x1Conv(shape, seed=k, dtype=dtype, name=f"conv{k}"),
            AffineCoupling(
                shape, mask="checkerboard" if k % 2 else "channel", parity=k, hidden_channels=6,
                context_size=context_size, dtype=dtype, name=f"coupling{k}",
            ),
        ], name=f"step{k}"))
    return shape, steps


def perturb(variables, seed):
    """Random weights, so that no gradient is zero by construction (zero-initialised outputs)."""
    rng = np.random.default_rng(seed)
    for v in variables:
        if v.dtype.is_floating:
            v.assign(v + 0.1 * rng.standard_normal(v.shape))


def test_gradients_with_respect_to_input_context_and_variables_equal_a_plain_chain():
    shape, steps = small_steps(context_size=2)
    saving = MemorySavingChain(steps, shape, dtype=tf.float64, name="saving")
    plain = tfb.Chain(steps, name="plain")
    perturb(saving.trainable_variables, 0)
    rng = np.random.default_rng(1)
    y = tf.constant(rng.standard_normal((5, *shape)))
    context = tf.constant(rng.standard_normal((5, 2)))
    weights = tf.constant(rng.standard_normal((5, *shape)))

    def gradients(bijector, kwargs):
        with tf.GradientTape() as tape:
            tape.watch([y, context])
            x = bijector.inverse(y, **kwargs)
            ildj = bijector.inverse_log_det_jacobian(y, event_ndims=3, **kwargs)
            value = tf.reduce_sum(weights * x) + tf.reduce_sum(ildj**2)
        return tape.gradient(value, [y, context] + list(saving.trainable_variables))

    expected = gradients(plain, tfnf.bijectors.conditional_kwargs(plain, context))
    got = gradients(saving, {"conditional_input": context})
    assert len(saving.trainable_variables) >= 9
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-9, atol=1e-9)
    assert float(tf.reduce_max(tf.abs(expected[1]))) > 1e-3  # the context's gradient is not trivially zero


def test_same_maps_as_a_plain_chain_and_small_round_trip_error():
    shape, steps = small_steps(context_size=None, dtype=tf.float32)
    saving = MemorySavingChain(steps, shape, name="saving")
    plain = tfb.Chain(steps)
    perturb(saving.trainable_variables, 2)
    x = tf.constant(np.random.default_rng(3).standard_normal((4, *shape)), tf.float32)
    np.testing.assert_allclose(saving.inverse(x).numpy(), plain.inverse(x).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(saving.forward(x).numpy(), plain.forward(x).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        saving.inverse_log_det_jacobian(x, event_ndims=3).numpy(),
        plain.inverse_log_det_jacobian(x, event_ndims=3).numpy(), rtol=1e-5, atol=1e-4,
    )
    error = float(saving.round_trip_error(x))
    assert 0.0 <= error < 1e-4


def test_actnorm_data_dependent_initialisation_runs_through_the_chain():
    shape, steps = small_steps(context_size=None, dtype=tf.float32)
    saving = MemorySavingChain(steps, shape, name="saving")
    batch = np.random.default_rng(4).normal(3.0, 2.0, (64, *shape)).astype(np.float32)
    assert initialize_actnorms(saving, batch) == 3
    latent = steps[0].inverse(batch)  # the first step's output is normalised per channel
    first = steps[0].bijectors[0].inverse(batch).numpy()
    np.testing.assert_allclose(first.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    assert np.all(np.isfinite(latent.numpy()))


def test_refuses_what_it_cannot_recompute():
    shape = (4, 4, 4)
    with pytest.raises(ValueError, match="at least one step"):
        MemorySavingChain([], shape)
    with pytest.raises(ValueError, match="keeps the event shape"):
        MemorySavingChain([Squeeze(shape)], shape)
    with pytest.raises(ValueError, match="ContinuousFlow"):
        MemorySavingChain([ContinuousFlow((3,), hidden_units=(4,))], (3,))

    class Noisy(tfb.Identity):
        def __init__(self):
            super().__init__(name="noisy")
            self.generator = tf.random.Generator.from_seed(0)

    with pytest.raises(ValueError, match="tf.random.Generator"):
        MemorySavingChain([Noisy()], shape)


def step_activation_bytes(num_steps, memory_saving):
    """Peak bytes TensorFlow's CPU allocator holds during one traced gradient step of a one-level
    glow (32x32x3, batch 32, graph mode), above what it holds before the step, less one float32
    gradient per parameter (held at once by any step): the step's activation memory. (Tens of
    MB: the allocator's statistics move in chunks of 256 KiB and more, too coarse for tinier flows.)"""
    keras.utils.set_random_seed(0)
    flow = tfnf.flows.glow(
        (32, 32, 3), num_levels=1, num_steps=num_steps, hidden_channels=32, seed=0, memory_saving=memory_saving
    )
    model = tfnf.FlowModel(flow)
    x = tf.constant(np.random.default_rng(0).uniform(-0.5, 0.5, (32, 32, 32, 3)).astype("float32"))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)

    step(x)  # traced once, so the measured call allocates only what a step allocates
    before = tf.config.experimental.get_memory_info("CPU:0")["current"]
    tf.config.experimental.reset_memory_stats("CPU:0")
    gradients = step(x)
    peak = tf.config.experimental.get_memory_info("CPU:0")["peak"]
    parameters = sum(int(np.prod(g.shape)) for g in gradients)
    return peak - before - 4 * parameters


def test_activation_memory_does_not_grow_with_depth_with_memory_saving():
    saving = {k: step_activation_bytes(k, True) for k in (2, 6)}
    ordinary = {k: step_activation_bytes(k, False) for k in (2, 6)}
    # the measure sees depth: ordinary backpropagation keeps every step's activations
    assert ordinary[6] > 2 * ordinary[2], ordinary
    # four more steps add a small fraction of what they add to ordinary backpropagation (the
    # allocator's chunks make a few hundred KB of noise at this size; benchmarks/memory_saving.py
    # measures a 32x32x3 glow of 8 to 32 steps per level: flat)
    assert saving[6] - saving[2] < 0.25 * (ordinary[6] - ordinary[2]), (saving, ordinary)
    assert saving[6] < 0.5 * ordinary[6], (saving, ordinary)
