"""`tf.distribute.MirroredStrategy` over two logical CPU devices trains like one device.

The strategy needs the devices configured before TensorFlow initialises, so
the comparison runs in a child process and reports JSON.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

CHILD = textwrap.dedent(
    """
    import json
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    import numpy as np
    from sklearn.datasets import load_digits
    import tfnf

    # Continuous data with the dequantisation noise drawn once, so both runs see identical batches.
    rng = np.random.default_rng(0)
    pixels = load_digits().images[:512, :, :, None]
    x = ((pixels + rng.uniform(size=pixels.shape)) / 17.0 - 0.5).astype("float32")
    bad = x[:128].copy()
    bad[96:] = np.nan  # the second half of a batch: one replica's share is finite, the other's is not

    def train(strategy):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            flow = tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=1, hidden_channels=8, dropout=0.0, seed=0)
            model = tfnf.FlowModel(flow, num_bins=None, preprocessing="none", init_batch_size=256)
            # step by step and without XLA on one device too, so that the curves compare step for step
            model.compile(optimizer=keras.optimizers.Adam(2e-3), steps_per_execution=1, jit_compile=False)
        batch_losses = []
        record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batch_losses.append(float(logs["loss"])))
        history = model.fit(x, batch_size=64, epochs=3, shuffle=False, callbacks=[record], verbose=0)
        actnorms = {
            a.name: [np.asarray(v.numpy()).tolist() for v in strategy.experimental_local_results(a.variable.value)]
            for a in model.actnorms
        }
        model.init_batch_size = 64  # fit's up-front check reads the clean first batch only
        skipped = model.fit(tf.data.Dataset.from_tensor_slices(bad).batch(64), epochs=1, verbose=0)
        return {
            "replicas": strategy.num_replicas_in_sync,
            "variable_type": type(model.actnorms[0].variable.value).__name__,
            "epoch_losses": history.history["loss"],
            "batch_losses": batch_losses,
            "actnorms": actnorms,
            "skipped_steps": skipped.history["skipped_steps"],
            "finite_weights": bool(all(np.all(np.isfinite(v.numpy())) for v in model.trainable_variables)),
            "log_prob": model.log_prob(x[:4]).numpy().tolist(),
        }

    one = train(tf.distribute.get_strategy())
    two = train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    print(json.dumps({"one": one, "two": two}))
    """
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    script = tmp_path_factory.mktemp("mirrored") / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_replicas_follow_the_one_device_loss_curve(runs):
    one, two = runs["one"], runs["two"]
    assert one["replicas"] == 1 and two["replicas"] == 2 and two["variable_type"] == "MirroredVariable"
    assert len(two["batch_losses"]) == len(one["batch_losses"]) == 24
    np.testing.assert_allclose(two["batch_losses"], one["batch_losses"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(two["epoch_losses"], one["epoch_losses"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(two["log_prob"], one["log_prob"], rtol=1e-3, atol=1e-3)
    assert one["epoch_losses"][-1] < one["epoch_losses"][0]


@pytest.mark.slow
def test_actnorm_is_initialised_identically_on_every_replica(runs):
    one, two = runs["one"], runs["two"]
    assert set(two["actnorms"]) == set(one["actnorms"]) and len(one["actnorms"]) == 2
    for name, replicas in two["actnorms"].items():
        assert len(replicas) == 2
        np.testing.assert_array_equal(replicas[0], replicas[1], err_msg=name)
        np.testing.assert_allclose(replicas[0], one["actnorms"][name][0], rtol=1e-3, atol=1e-4, err_msg=name)


@pytest.mark.slow
def test_a_batch_non_finite_on_one_replica_is_skipped_by_all(runs):
    for run in runs.values():
        assert run["skipped_steps"] == [1.0]
        assert run["finite_weights"]
