"""Training killed with SIGKILL resumes from `keras.callbacks.BackupAndRestore`.

A child process trains a tiny Glow on the digits; after the backup of its
second epoch it signals and waits, and is killed. A second child resumes from
the backup: it must start from the backed-up ActNorm parameters (not a new
data-dependent initialisation) and finish with a loss like an uninterrupted run.
"""

import json
import os
import signal
import textwrap
import time

import numpy as np
import pytest
from sklearn.datasets import load_digits

import tfnf
from tests.killed_process import child_process, sigkill

EPOCHS = 4

TRAINER = textwrap.dedent(
    """
    import json, os, sys, time
    import keras
    import numpy as np
    from sklearn.datasets import load_digits
    import tfnf

    backup_dir, log_path, pause_after_epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    keras.utils.set_random_seed(0)
    x = load_digits().images[:512, :, :, None].astype("float32")
    flow = tfnf.flows.glow((8, 8, 1), num_levels=1, num_steps=2, hidden_channels=8, seed=0)
    model = tfnf.FlowModel(flow, num_bins=17, seed=0, init_batch_size=256)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), jit_compile=False)  # XLA is not the subject

    def actnorms():
        return {a.name: [a.loc.numpy().tolist(), a.log_scale.numpy().tolist()] for a in model.actnorms}

    def log(**record):
        with open(log_path, "a") as handle:
            handle.write(json.dumps(record) + "\\n")

    class Record(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            log(event="begin", initial_epoch=model._initial_epoch, actnorms=actnorms())

        def on_epoch_end(self, epoch, logs=None):
            log(event="epoch", epoch=epoch, loss=float(logs["loss"]), actnorms=actnorms())
            if epoch == pause_after_epoch:
                log(event="paused")
                time.sleep(600)  # the test kills the process here

    backup = keras.callbacks.BackupAndRestore(backup_dir)  # listed first: restores before Record reads
    model.fit(x, batch_size=64, epochs=%d, shuffle=False, callbacks=[backup, Record()], verbose=0)
    log(event="done")
    """
    % EPOCHS
)


def _records(path):
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _run(script, backup_dir, log_path, pause_after_epoch=-1, kill_when_paused=False, timeout=240):
    with child_process([script, backup_dir, log_path, pause_after_epoch]) as process:
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline:
            if kill_when_paused and any(r["event"] == "paused" for r in _records(log_path)):
                sigkill(process)
                return process.returncode, ""
            time.sleep(0.1)
        if process.poll() is None:
            raise AssertionError(f"training child did not finish within {timeout} s")
        return process.returncode, process.stderr.read()


@pytest.mark.slow
def test_sigkilled_training_resumes_from_its_backup(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAINER)

    killed_log, backup = tmp_path / "killed.jsonl", tmp_path / "backup"
    code, _ = _run(script, backup, killed_log, pause_after_epoch=1, kill_when_paused=True)
    assert code == -signal.SIGKILL
    killed = _records(killed_log)
    assert [r["event"] for r in killed] == ["begin", "epoch", "epoch", "paused"]
    assert (backup / "latest.weights.h5").is_file() and (backup / "training_metadata.json").is_file()
    backed_up = killed[2]["actnorms"]  # written by BackupAndRestore at the end of epoch 1

    code, stderr = _run(script, backup, tmp_path / "resumed.jsonl")
    assert code == 0, stderr[-3000:]
    resumed = _records(tmp_path / "resumed.jsonl")
    begin = resumed[0]
    assert begin["event"] == "begin" and begin["initial_epoch"] == 2
    assert [r["epoch"] for r in resumed if r["event"] == "epoch"] == list(range(2, EPOCHS))
    assert resumed[-1]["event"] == "done"
    for name, (loc, log_scale) in backed_up.items():  # restored exactly, not re-initialised from data
        np.testing.assert_array_equal(begin["actnorms"][name][0], loc, err_msg=name)
        np.testing.assert_array_equal(begin["actnorms"][name][1], log_scale, err_msg=name)

    fresh = tfnf.FlowModel(tfnf.flows.glow((8, 8, 1), num_levels=1, num_steps=2, hidden_channels=8, seed=0), num_bins=17, seed=0)
    fresh.initialize(load_digits().images[:256, :, :, None].astype("float32"))
    data_statistics = {a.name: a.loc.numpy() for a in fresh.actnorms}
    assert any(not np.allclose(begin["actnorms"][n][0], v, atol=1e-3) for n, v in data_statistics.items())

    code, stderr = _run(script, tmp_path / "reference_backup", tmp_path / "reference.jsonl")
    assert code == 0, stderr[-3000:]
    reference = [r["loss"] for r in _records(tmp_path / "reference.jsonl") if r["event"] == "epoch"]
    final = [r["loss"] for r in resumed if r["event"] == "epoch"][-1]
    assert len(reference) == EPOCHS and np.isfinite(final)
    assert abs(final - reference[-1]) < 0.05 * abs(reference[-1]), (final, reference)
    assert final < killed[1]["loss"]  # training went on improving after the restart
