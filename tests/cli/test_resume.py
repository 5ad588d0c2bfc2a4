"""`tfnf train --resume` after the training process was killed with SIGKILL."""

import json

import pytest

import tfnf
from tests.killed_process import child_process, sigkill, wait_for_file
from tfnf.cli.main import main

TINY = ["--dataset", "digits", "--flow", "glow", "--levels", "1", "--steps", "1", "--hidden", "8", "--quiet"]


@pytest.mark.slow
def test_train_resumes_after_a_kill(tmp_path, monkeypatch):
    out = tmp_path / "run"
    metadata = out / "backup" / "training_metadata.json"
    with child_process(["-m", "tfnf", "train", *TINY, "--epochs", "200", "--out", out]) as process:
        wait_for_file(process, metadata)
        sigkill(process)
    assert not (out / "metrics.json").exists()
    epochs_done = json.loads(metadata.read_text())["epoch"]  # epochs completed and backed up

    initializations = []
    original = tfnf.FlowModel.initialize
    monkeypatch.setattr(tfnf.FlowModel, "initialize", lambda self, batch: initializations.append(1) or original(self, batch))
    # the resumed run compiles without XLA: jit_compile="auto" would build and time both train steps,
    # and the choice is not what is tested here (tests/keras/test_jit_compile_choice.py)
    compile_ = tfnf.FlowModel.compile
    monkeypatch.setattr(tfnf.FlowModel, "compile", lambda self, *a, **k: compile_(self, *a, **{**k, "jit_compile": False}))
    epochs = epochs_done + 2
    assert main(["train", *TINY, "--epochs", str(epochs), "--resume", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert initializations == []  # ActNorm comes back from the backup, not from a new data-dependent init
    assert metrics["epochs_run"] == 2  # only the epochs the killed run had not finished
    assert 0 < metrics["test_bits_per_dim"] < 8
    assert not (out / "backup").exists()
    assert (out / "saved_models" / "digits_glow" / "1" / "saved_model.pb").is_file()
