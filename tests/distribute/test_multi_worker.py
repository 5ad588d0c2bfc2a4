"""`tf.distribute.MultiWorkerMirroredStrategy`: two worker processes on loopback ports
train one tiny flow together and end with the same finite losses."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

WORKER = textwrap.dedent(
    """
    import json
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG; before any other TF work

    import keras
    import numpy as np
    import tfnf

    rng = np.random.default_rng(0)
    x = (rng.standard_normal((512, 2)) * [1.0, 0.3]).astype("float32")
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(64).with_options(options)

    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(dataset, epochs=2, verbose=0)
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "loss": history.history["loss"],
        "skipped_steps": history.history["skipped_steps"],
        "log_prob": model.log_prob(x[:4]).numpy().tolist(),
    }))
    """
)


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_together(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    workers = []
    try:
        for index in range(2):
            config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
            env = dict(os.environ, TF_CONFIG=json.dumps(config), TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
            workers.append(
                subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            )
        deadline = time.monotonic() + 240
        outputs = [worker.communicate(timeout=max(1.0, deadline - time.monotonic())) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for worker, (_, stderr) in zip(workers, outputs):
        assert worker.returncode == 0, stderr[-3000:]
    results = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    for result in results:
        assert result["replicas"] == 2
        assert len(result["loss"]) == 2 and np.all(np.isfinite(result["loss"]))
        assert result["skipped_steps"] == [0.0, 0.0]
    np.testing.assert_allclose(results[0]["loss"], results[1]["loss"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(results[0]["log_prob"], results[1]["log_prob"], rtol=1e-6, atol=1e-6)  # the same weights
