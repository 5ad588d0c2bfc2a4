"""A conditional `FlowModel` under `tf.distribute.MirroredStrategy` (two logical CPUs) trains like one device.

The labels are split over the replicas with their images; ActNorm is
initialised from the first batch with its labels. Runs in a child process
because the logical devices must exist before TensorFlow initialises.
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
    import tfnf

    images, labels = tfnf.datasets.digits("train", as_numpy=True, with_labels=True)
    rng = np.random.default_rng(0)
    x = ((images[:256] + rng.uniform(size=images[:256].shape)) / 17.0 - 0.5).astype("float32")
    y = labels[:256]

    def train(strategy):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            flow = tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=1, hidden_channels=8, dropout=0.0, seed=0, num_classes=10)
            model = tfnf.FlowModel(flow, num_bins=None, preprocessing="none", init_batch_size=128)
            # step by step and without XLA on one device too, so that the curves compare step for step
            model.compile(optimizer=keras.optimizers.Adam(2e-3), steps_per_execution=1, jit_compile=False)
        history = model.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0)
        return {
            "replicas": strategy.num_replicas_in_sync,
            "epoch_losses": history.history["loss"],
            "log_prob": model.log_prob(x[:4], condition=y[:4]).numpy().tolist(),
        }

    one = train(tf.distribute.get_strategy())
    two = train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    print(json.dumps({"one": one, "two": two}))
    """
)


@pytest.mark.slow
def test_conditional_training_on_two_replicas_matches_one_device(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    runs = json.loads(result.stdout.strip().splitlines()[-1])
    one, two = runs["one"], runs["two"]
    assert one["replicas"] == 1 and two["replicas"] == 2
    np.testing.assert_allclose(two["epoch_losses"], one["epoch_losses"], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(two["log_prob"], one["log_prob"], rtol=1e-3, atol=1e-3)
    assert one["epoch_losses"][-1] < one["epoch_losses"][0]
