"""FlowModel: training, metrics, tracking, serialisation and the generative API."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tfnf.bijectors import ActNorm


@pytest.fixture(scope="module")
def trained_glow(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(), num_bins=17, seed=1)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    history = model.fit(digit_images[:1024], batch_size=128, epochs=2, validation_data=(digit_images[1024:1280],), verbose=0)
    return model, before, history


def test_fit_logs_loss_and_bits_per_dim(trained_glow):
    model, _, history = trained_glow
    for key in ("loss", "bits_per_dim", "val_loss", "val_bits_per_dim"):
        assert key in history.history, key
        assert np.all(np.isfinite(history.history[key]))
    loss, bpd = history.history["val_loss"][-1], history.history["val_bits_per_dim"][-1]
    assert bpd == pytest.approx(loss / (64 * math.log(2.0)), rel=1e-5, abs=1e-5)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_every_variable_is_tracked_and_trained(trained_glow):
    model, before, _ = trained_glow
    layer_weights = [v for layer in model.flow_layers for v in layer.trainable_weights]
    assert len(model.trainable_variables) == len(layer_weights) > 0
    assert model.count_params() == sum(int(np.prod(v.shape)) for layer in model.flow_layers for v in layer.weights)
    changed = {v.path for v in model.trainable_variables if not np.array_equal(before[v.path], v.numpy())}
    assert changed == set(before), f"untrained variables: {sorted(set(before) - changed)}"


def test_log_prob_is_in_data_units(trained_glow, digit_images):
    model, _, _ = trained_glow
    x = digit_images[:5] + 0.5
    expected = model.flow.log_prob(x / 17.0 - 0.5) - 64 * math.log(17.0)
    np.testing.assert_allclose(model.log_prob(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.bits_per_dim(x).numpy(), -expected.numpy() / (64 * math.log(2.0)), rtol=1e-5, atol=1e-5)


def test_evaluate_dequantises_like_training(trained_glow, digit_images):
    model, _, _ = trained_glow
    results = [model.evaluate(digit_images[1280:1536], verbose=0, return_dict=True)["loss"] for _ in range(2)]
    assert results[0] != results[1]
    exact = -np.mean(model.log_prob(digit_images[1280:1536] + 0.5).numpy())
    assert abs(results[0] - exact) < 10.0


def test_evaluate_and_validation_score_the_model_without_dropout():
    """Continuous data (no dequantisation noise): evaluate's loss is exactly -mean(log_prob),
    which dropout in the conditioners (half the units) would not give."""
    from tests.bijectors.cases import randomize

    keras.utils.set_random_seed(0)
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=4, hidden_units=(32,), dropout=0.5))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    randomize(model.flow, seed=3, scale=0.5)  # zero-initialised outputs would make dropout invisible
    x = tfnf.datasets.toy2d("moons", 256, seed=0)
    exact = -float(np.mean(model.log_prob(x).numpy()))
    training_draws = [-float(tf.reduce_mean(model(x, training=True))) for _ in range(2)]
    assert min(abs(d - exact) for d in training_draws) > 1e-3  # dropout is on while training
    assert model.evaluate(x, batch_size=256, verbose=0, return_dict=True)["loss"] == pytest.approx(exact, rel=1e-5, abs=1e-5)
    history = model.fit(x[:32], batch_size=32, epochs=1, validation_data=(x,), verbose=0, shuffle=False)
    exact_after = -float(np.mean(model.log_prob(x).numpy()))
    assert history.history["val_loss"][-1] == pytest.approx(exact_after, rel=1e-5, abs=1e-5)


def test_decode_inverts_encode(trained_glow, digit_images):
    model, _, _ = trained_glow
    x = digit_images[:16]
    z = model.encode(x)
    assert z.shape == x.shape
    np.testing.assert_allclose(model.decode(z).numpy(), x, atol=1e-4)


def test_temperature(trained_glow):
    model, _, _ = trained_glow
    zero = model.sample(3, temperature=0.0, seed=0)
    decoded_zero = model.decode(np.zeros((3, 8, 8, 1), np.float32))
    np.testing.assert_allclose(zero.numpy(), decoded_zero.numpy(), atol=1e-5)
    spread = [float(np.var(model.sample(256, temperature=t, seed=3).numpy(), axis=0).mean()) for t in (0.3, 1.0)]
    assert spread[0] < spread[1]
    pixels = model.sample(32, temperature=1.0, seed=3, quantized=True).numpy()
    assert pixels.min() >= 0 and pixels.max() <= 16 and np.array_equal(pixels, np.floor(pixels))


def test_seeded_sampling_is_reproducible(trained_glow):
    model, _, _ = trained_glow
    a, b, c = (model.sample(4, seed=s).numpy() for s in (7, 7, 8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_interpolate_ends_at_the_inputs(trained_glow, digit_images):
    model, _, _ = trained_glow
    path = model.interpolate(digit_images[0], digit_images[1], steps=5).numpy()
    assert path.shape == (5, 8, 8, 1)
    np.testing.assert_allclose(path[0], digit_images[0], atol=1e-4)
    np.testing.assert_allclose(path[-1], digit_images[1], atol=1e-4)
    batch = model.interpolate(digit_images[:2], digit_images[2:4], steps=3)
    assert batch.shape == (2, 3, 8, 8, 1)


def test_keras_file_and_weights_round_trips(trained_glow, digit_images, make_glow, tmp_path):
    model, _, _ = trained_glow
    x = digit_images[:8]
    expected = model.log_prob(x).numpy()
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(loaded, tfnf.FlowModel)
    np.testing.assert_allclose(loaded.log_prob(x).numpy(), expected, rtol=1e-6, atol=1e-6)
    model.save_weights(tmp_path / "model.weights.h5")
    fresh = tfnf.FlowModel(make_glow(), num_bins=17)
    assert fresh.needs_initialization
    fresh.load_weights(tmp_path / "model.weights.h5")
    assert not fresh.needs_initialization
    np.testing.assert_allclose(fresh.log_prob(x).numpy(), expected, rtol=1e-6, atol=1e-6)


def test_actnorm_initialises_once_to_unit_statistics(make_glow, digit_images, tmp_path):
    flow = make_glow(num_steps=2)
    model = tfnf.FlowModel(flow, num_bins=None, preprocessing="none")
    batch = (digit_images[:512] + np.random.default_rng(0).uniform(size=(512, 8, 8, 1))).astype("float32") / 17.0 - 0.5
    assert model.initialize(batch) == len(model.actnorms) == 4
    outputs = {}
    for actnorm in model.actnorms:
        original = actnorm._inverse_and_log_det

        def recording(y, actnorm=actnorm, original=original):
            x, log_det = original(y)
            outputs[actnorm.name] = x.numpy()
            return x, log_det

        actnorm._inverse_and_log_det = recording
    model.bijector.inverse(tf.constant(batch))
    assert len(outputs) == 4
    for name, out in outputs.items():
        axes = tuple(range(out.ndim - 1))
        np.testing.assert_allclose(out.mean(axis=axes), 0.0, atol=1e-4, err_msg=name)
        np.testing.assert_allclose(out.std(axis=axes), 1.0, atol=1e-3, err_msg=name)
    for actnorm in model.actnorms:
        del actnorm._inverse_and_log_det
    values = [a.loc.numpy().copy() for a in model.actnorms]
    assert model.initialize(batch[::-1] * 2.0) == 0
    for a, v in zip(model.actnorms, values):
        np.testing.assert_array_equal(a.loc.numpy(), v)
    model.save_weights(tmp_path / "init.weights.h5")
    reloaded = tfnf.FlowModel(make_glow(num_steps=2), num_bins=None, preprocessing="none")
    reloaded.load_weights(tmp_path / "init.weights.h5")
    reloaded.compile()
    reloaded.fit(batch, batch_size=64, epochs=0, verbose=0)
    for a, v in zip(reloaded.actnorms, values):
        np.testing.assert_array_equal(a.loc.numpy(), v)


def test_fit_on_tf_data_and_vectors(make_realnvp, moons):
    model = tfnf.FlowModel(make_realnvp())
    model.compile(optimizer=keras.optimizers.Adam(5e-3))
    dataset = tf.data.Dataset.from_tensor_slices(moons).shuffle(512, seed=0).batch(128)
    history = model.fit(dataset, epochs=4, validation_data=dataset, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert set(history.history) == {"loss", "bits_per_dim", "skipped_steps", "val_loss", "val_bits_per_dim"}
    assert history.history["skipped_steps"] == [0.0] * 4
    results = model.evaluate(dataset, verbose=0, return_dict=True)
    np.testing.assert_allclose(results["loss"], -np.mean(model.log_prob(moons).numpy()), rtol=1e-4, atol=1e-4)


def test_jit_compiled_fit_runs(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(num_levels=1), num_bins=17)
    model.compile(jit_compile=True)
    assert model.jit_compile
    history = model.fit(digit_images[:256], batch_size=128, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_generative_helpers_follow_the_models_jit_compile(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(num_levels=1), num_bins=17)
    model.initialize(digit_images[:256])
    model.compile(jit_compile=False)
    x = digit_images[:8]
    plain = [model.log_prob(x), model.encode(x), model.sample(8, seed=3)]
    model.compile(jit_compile=True)
    assert model.jit_compile
    xla = [model.log_prob(x), model.encode(x), model.sample(8, seed=3)]
    assert {jit for _, jit in model._functions} == {False, True}
    for a, b in zip(plain, xla):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-3)
    z = model.encode(x)
    np.testing.assert_allclose(model.decode(z).numpy(), x, atol=1e-3)


def test_train_on_batch_checks_the_batch_and_initialises_actnorms_once(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(num_levels=1), num_bins=17)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    assert model.needs_initialization
    first = model.train_on_batch(digit_images[:128], return_dict=True)
    assert not model.needs_initialization
    for _ in range(10):
        last = model.train_on_batch(digit_images[:128], return_dict=True)
    assert last["loss"] < first["loss"] and last["skipped_steps"] == 0.0
    with pytest.raises(ValueError, match="pixel"):
        model.train_on_batch(np.full((4, 8, 8, 1), 17.0, np.float32))
    with pytest.raises(ValueError, match="shape"):
        model.test_on_batch(np.zeros((4, 8, 8, 2), np.float32))
    evaluated = model.test_on_batch(digit_images[:64], return_dict=True)
    assert np.isfinite(evaluated["loss"]) and set(evaluated) == {"loss", "bits_per_dim"}


def test_needs_initialization_follows_loaded_weights_and_reset_metrics_clears_trackers(
    make_glow, digit_images, tmp_path
):
    never_initialised = tfnf.FlowModel(make_glow(num_levels=1), num_bins=17)
    never_initialised.save_weights(tmp_path / "blank.weights.h5")
    model = tfnf.FlowModel(make_glow(num_levels=1), num_bins=17)
    model.compile()
    model.train_on_batch(digit_images[:128])
    assert not model.needs_initialization
    assert model.loss_tracker.count.numpy() == 1
    model.reset_metrics()
    assert [float(v.numpy()) for m in model.metrics for v in m.variables] == [0.0] * 5
    model.load_weights(tmp_path / "blank.weights.h5")
    assert model.needs_initialization  # the loaded ActNorms were never initialised
    model.train_on_batch(digit_images[:128])
    assert not model.needs_initialization


def test_train_on_batch_reports_its_own_batch_only(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(num_levels=1), num_bins=17)
    model.compile()
    model.train_on_batch(digit_images[:64])
    weight = model.trainable_variables[0]
    kept = weight.numpy()
    weight.assign(np.full_like(kept, np.nan))  # a non-finite loss: the step is skipped
    skipped = model.train_on_batch(digit_images[:64], return_dict=True)
    assert skipped["skipped_steps"] == 1.0 and np.isnan(skipped["loss"])  # the skipped step alone: no loss, not 0
    weight.assign(kept)
    good = model.train_on_batch(digit_images[64:128], return_dict=True)
    assert good["skipped_steps"] == 0.0 and good["loss"] > 0.0  # metrics were reset in between
    assert model.loss_tracker.count.numpy() == 1
    model.reset_metrics()
    assert model.loss_tracker.count.numpy() == 0


def test_train_on_batch_follows_a_recompile(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(num_levels=1), num_bins=17)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.train_on_batch(digit_images[:32])
    model.compile(optimizer=keras.optimizers.SGD(1e-3))
    model.train_on_batch(digit_images[:32])
    model.train_on_batch(digit_images[:32])
    assert isinstance(model.optimizer, keras.optimizers.SGD) and int(model.optimizer.iterations.numpy()) == 2


def test_keras_callbacks_work(make_realnvp, moons, tmp_path):
    model = tfnf.FlowModel(make_realnvp())
    model.compile()
    callbacks = [
        keras.callbacks.ModelCheckpoint(tmp_path / "best.keras", save_best_only=True, monitor="val_loss"),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True),
        keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs")),
        keras.callbacks.BackupAndRestore(str(tmp_path / "backup")),
    ]
    model.fit(moons, batch_size=128, epochs=2, validation_data=(moons,), callbacks=callbacks, verbose=0)
    assert (tmp_path / "best.keras").exists()
    assert any((tmp_path / "logs").rglob("*tfevents*"))
    best = keras.models.load_model(tmp_path / "best.keras")
    assert np.all(np.isfinite(best.log_prob(moons[:4]).numpy()))


def test_sample_grid_callback_writes_png(make_glow, digit_images, tmp_path):
    model = tfnf.FlowModel(make_glow(), num_bins=17)
    model.compile()
    callback = tfnf.SampleGridCallback(str(tmp_path / "samples_{epoch}.png"), every_n_epochs=2, num_samples=16)
    model.fit(digit_images[:256], batch_size=128, epochs=4, verbose=0, callbacks=[callback])
    assert [p.rsplit("/", 1)[1] for p in callback.written] == ["samples_2.png", "samples_4.png"]
    with open(callback.written[0], "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_summary_lists_the_flow_layers(trained_glow):
    model, _, _ = trained_glow
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    text = "\n".join(lines)
    assert "actnorm" in text and "ConvConditioner" in text


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.zeros((2, 8, 8)), ValueError, "shape"),
        (np.full((2, 8, 8, 1), np.nan), ValueError, "NaN"),
        (np.full((2, 8, 8, 1), 17.0), ValueError, "[0, 17)"),
        (np.full((2, 8, 8, 1), -1.0), ValueError, "[0, 17)"),
        (np.array([["a"] * 64] * 2).reshape(2, 8, 8, 1), TypeError, "dtype"),
    ],
)
def test_bad_input_is_named(trained_glow, bad, error, words):
    model, _, _ = trained_glow
    before = [v.numpy().copy() for v in model.weights]
    with pytest.raises(error, match=words.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        model.log_prob(bad)
    with pytest.raises(error):
        model.fit(bad, epochs=1, verbose=0)
    for v, b in zip(model.weights, before):
        np.testing.assert_array_equal(v.numpy(), b)


def test_bad_constructor_arguments(make_realnvp):
    with pytest.raises(ValueError, match="num_bins"):
        tfnf.FlowModel(make_realnvp(), num_bins=1)
    with pytest.raises(TypeError, match="flow"):
        tfnf.FlowModel("glow")
    with pytest.raises(ValueError, match="preprocessing"):
        tfnf.FlowModel(make_realnvp(), preprocessing="sqrt")


def test_actnorm_layers_are_found(make_glow):
    model = tfnf.FlowModel(make_glow(num_steps=3), num_bins=17)
    assert len(model.actnorms) == 6 and all(isinstance(a, ActNorm) for a in model.actnorms)


def _with_bad_batches(clean, bad_batches, value=np.nan):
    bad = np.full((len(bad_batches) * 64, 2), value, np.float32)
    return tf.data.Dataset.from_tensor_slices(np.concatenate([clean[:64], bad])).batch(64)


def test_a_non_finite_step_is_skipped_and_counted(make_realnvp, moons):
    model = tfnf.FlowModel(make_realnvp(), init_batch_size=64)  # fit's up-front check sees the clean batch only
    model.compile()
    history = model.fit(_with_bad_batches(moons, [1]), epochs=1, verbose=0)
    assert history.history["skipped_steps"] == [1.0]
    assert np.isfinite(history.history["loss"][0])
    assert all(np.all(np.isfinite(v.numpy())) for v in model.trainable_variables)


def _with_good_batches_after(data, good_after):
    """`data`'s batches of 64, then `good_after` clean batches (which must not be applied after a stop)."""
    return data.concatenate(tf.data.Dataset.from_tensor_slices(np.tile(good_after, (1, 1))).batch(64))


@pytest.mark.parametrize("steps_per_execution", [1, 16])
def test_repeated_non_finite_steps_stop_training_keeping_good_weights(make_realnvp, moons, steps_per_execution):
    model = tfnf.FlowModel(make_realnvp(), init_batch_size=64, max_consecutive_skips=3)
    model.compile(steps_per_execution=steps_per_execution)
    snapshots = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: snapshots.append([v.numpy().copy() for v in model.trainable_variables])
    )
    reference = tfnf.FlowModel(make_realnvp(), init_batch_size=64)
    reference.compile(steps_per_execution=1)
    reference.set_weights(model.get_weights())
    data = _with_good_batches_after(_with_bad_batches(moons, [1, 2, 3, 4, 5], np.inf), moons[64:256])
    with pytest.raises(FloatingPointError, match="3 consecutive steps"):
        model.fit(data, epochs=1, verbose=0, callbacks=[record])
    if steps_per_execution == 1:
        assert len(snapshots) == 4  # one good step, then three skipped ones before the stop
    else:
        assert len(snapshots) == 1  # one call of 9 steps: 1 good, 5 bad (stop after 3), 3 good never applied
    assert model.optimizer.iterations.numpy() == 1
    reference.fit(moons[:64], batch_size=64, epochs=1, verbose=0, shuffle=False)  # the one good step alone
    for v, good in zip(model.trainable_variables, reference.trainable_variables):
        np.testing.assert_allclose(v.numpy(), good.numpy(), rtol=1e-5, atol=1e-7)
