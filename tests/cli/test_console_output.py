"""What a user sees on the console: no TensorFlow log lines unless --verbose, and the time budget's notes."""

import json
import os
import subprocess
import sys

TOY = ["train", "--dataset", "eight_gaussians", "--flow", "realnvp", "--couplings", "2", "--hidden", "8", "--quiet"]


def run_tfnf(*args):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user's shell has it
    return subprocess.run([sys.executable, "-m", "tfnf", *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def test_a_run_stopped_by_the_time_budget_says_so_and_stderr_stays_empty(tmp_path):
    out = tmp_path / "run"
    result = run_tfnf(*TOY, "--epochs", "3", "--time-budget", "0.001", "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no "cuInit", no "All log messages before absl::InitializeLog()"
    assert "stopped by the time budget (0.001 s) after 1 of 3 epochs" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 1 and metrics["epochs_requested"] == 3 and metrics["stopped_by_time_budget"]


def test_the_note_before_training_and_verbose_logging(tmp_path):
    args = [a for a in TOY if a != "--quiet"]
    result = run_tfnf(*args, "--epochs", "1", "--verbose", "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert "stops at the end of the first epoch past the time budget of 600 s, even if epochs remain" in result.stdout
    assert "stopped by the time budget" not in result.stdout  # the one epoch asked for ran to its end
    assert result.stderr.strip()  # TensorFlow's own log lines (level 0 shows its start-up messages)
