"""`tfnf train --resume` after the training process was killed with SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import tfnf
from tfnf.cli.main import main

TINY = ["--dataset", "digits", "--flow", "glow", "--levels", "1", "--steps", "1", "--hidden", "8", "--verbose", "0"]


@pytest.mark.slow
def test_train_resumes_after_a_kill(tmp_path, monkeypatch):
    out = tmp_path / "run"
    metadata = out / "backup" / "training_metadata.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
    process = subprocess.Popen(
        [sys.executable, "-m", "tfnf", "train", *TINY, "--epochs", "200", "--out", str(out)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not metadata.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert metadata.exists(), process.stderr.read()[-3000:] if process.poll() is not None else "no backup in 180 s"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "metrics.json").exists()
    epochs_done = json.loads(metadata.read_text())["epoch"]  # epochs completed and backed up

    initializations = []
    original = tfnf.FlowModel.initialize
    monkeypatch.setattr(tfnf.FlowModel, "initialize", lambda self, batch: initializations.append(1) or original(self, batch))
    epochs = epochs_done + 2
    assert main(["train", *TINY, "--epochs", str(epochs), "--resume", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert initializations == []  # ActNorm comes back from the backup, not from a new data-dependent init
    assert metrics["epochs_run"] == 2  # only the epochs the killed run had not finished
    assert 0 < metrics["test_bits_per_dim"] < 8
    assert not (out / "backup").exists()
    assert (out / "saved_models" / "digits_glow" / "1" / "saved_model.pb").is_file()
