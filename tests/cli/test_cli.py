"""The `tfnf` command line end to end on a tiny configuration, and its error paths."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tfnf
from tfnf.cli.main import main

TINY = ["--levels", "1", "--steps", "1", "--hidden", "8", "--epochs", "1", "--quiet"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--dataset", "digits", "--flow", "glow", "--out", str(out), *TINY]) == 0
    return out


def test_train_writes_every_artifact(trained_run):
    for name in ("samples.png", "interpolation.png", "loss.png", "metrics.json", "model.keras"):
        assert (trained_run / name).is_file(), name
    with open(trained_run / "samples.png", "rb") as handle:
        assert handle.read(4) == b"\x89PNG"
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["parameters"] > 0 and metrics["epochs_run"] == 1
    assert 0 < metrics["test_bits_per_dim"] < 8
    assert metrics["saved_model"] == os.path.join("saved_models", "digits_glow", "1")  # relative to --out
    assert (trained_run / metrics["saved_model"] / "saved_model.pb").is_file()
    assert metrics["keras_model"] == "model.keras"
    assert metrics["pictures"] == ["samples.png", "interpolation.png", "loss.png"]
    assert set(metrics["versions"]) >= {"tensorflow", "tensorflow_probability", "keras"}
    # one epoch of 20 steps in calls of 16 is too short for jit_compile="auto" to have chosen
    assert metrics["jit_compile"].startswith("jit_compile='auto': not chosen yet")


def test_evaluate_on_the_export_agrees_with_metrics(trained_run, capsys):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(trained_run / metrics["saved_model"]), "--dataset", "digits", "--split", "test"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert abs(result["bits_per_dim"] - metrics["test_bits_per_dim"]) < 0.02
    assert result["examples"] == metrics["test_examples"] == 270


def test_sample_from_the_export(trained_run, tmp_path):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    grid = tmp_path / "grid.png"
    assert main(["sample", str(trained_run / metrics["saved_model"]), "-n", "9", "--temperature", "0.5", "--out", str(grid)]) == 0
    assert grid.read_bytes()[:4] == b"\x89PNG"
    array = tmp_path / "s.npy"
    assert main(["sample", str(trained_run / metrics["saved_model"]), "-n", "5", "--out", str(array)]) == 0
    values = np.load(array)
    assert values.shape == (5, 8, 8, 1) and values.min() >= 0 and values.max() <= 16


def test_export_from_keras_file(trained_run, tmp_path):
    target = tmp_path / "exported" / "3"
    assert main(["export", str(trained_run / "model.keras"), str(target)]) == 0
    assert (target / "saved_model.pb").is_file()


@pytest.mark.parametrize("flow", ["realnvp", "nsf", "maf", "iaf"])
def test_train_on_a_toy_density_writes_density_png(flow, tmp_path, monkeypatch):
    # without XLA: jit_compile="auto" would build and time both train steps, and is tested above
    compile_ = tfnf.FlowModel.compile
    monkeypatch.setattr(tfnf.FlowModel, "compile", lambda self, *a, **k: compile_(self, *a, **{**k, "jit_compile": False}))
    out = tmp_path / "toy"
    args = ["train", "--dataset", "eight_gaussians", "--flow", flow, "--couplings", "2", "--hidden", "8"]
    assert main([*args, "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    assert (out / "density.png").is_file()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_bins"] is None and metrics["flow_config"]["builder"] == flow
    assert np.isfinite(metrics["test_nll"])


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--dataset", "digits", "--flow", "maf"], "maf needs vector data"),
        (["train", "--dataset", "moons", "--flow", "glow"], "glow needs image data"),
        (["sample", "/nonexistent/model"], "is not a SavedModel"),
        (["evaluate", "/nonexistent/model"], "is not a SavedModel"),
        (["export", "missing.keras", "out"], "is not a .keras file"),
        (["sample", ".", "--temperature", "-0.5"], "--temperature must be finite and >= 0, got -0.5"),
        (["sample", ".", "--temperature", "nan"], "--temperature must be finite and >= 0, got nan"),
        (["train", "--learning-rate", "nan"], "--learning-rate must be a positive number, got nan"),
        (["train", "--learning-rate", "inf"], "--learning-rate must be a positive number, got inf"),
        (["train", "--time-budget", "-1"], "--time-budget must be a positive number, got -1.0"),
        (["train", "--dropout", "1.5"], "--dropout must be in [0, 1), got 1.5"),
        (["train", "--temperatures", "0.5", "-1"], "--temperatures must be finite and >= 0, got -1.0"),
        (["export", "notes.txt", "out"], "is not a .keras file"),
    ],
)
def test_errors_are_one_line_with_nonzero_exit(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["sample", ".", "-n", "many"], "argument -n/--num-samples: must be an integer, got 'many'"),
        (["sample", ".", "-n", "0"], "argument -n/--num-samples: must be >= 1, got 0"),
        (["sample", ".", "-n", "-3"], "argument -n/--num-samples: must be >= 1, got -3"),
        (["train", "--epochs", "0"], "argument --epochs: must be >= 1, got 0"),
        (["train", "--batch-size", "-8"], "argument --batch-size: must be >= 1, got -8"),
        (["train", "--levels", "0"], "argument --levels: must be >= 1, got 0"),
        (["sample", ".", "--temperature", "warm"], "argument --temperature: invalid float value: 'warm'"),
        (["train", "--epochs", "2.5"], "argument --epochs: must be an integer, got '2.5'"),
        (["evaluate", ".", "--split", "dev"], "argument --split: invalid choice: 'dev'"),
        (["train", "--dataset", "nope"], "argument --dataset: invalid choice: 'nope'"),
        (["evaluate", ".", "--dataset", "nope"], "argument --dataset: invalid choice: 'nope'"),
        (["train", "--flow", "made"], "argument --flow: invalid choice: 'made'"),
        (["train", "--coupling", "spline"], "argument --coupling: invalid choice: 'spline'"),
        (["train", "--num-bits", "0", "--dataset", "mnist"], "argument --num-bits: must be >= 1, got 0"),
    ],
)
def test_unparseable_arguments_exit_with_status_2(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert words in capsys.readouterr().err


def test_evaluate_rejects_a_dataset_of_the_wrong_shape(trained_run, capsys):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert main(["evaluate", str(trained_run / metrics["saved_model"]), "--dataset", "moons"]) == 2
    assert "expects (8, 8, 1)" in capsys.readouterr().err


def test_python_dash_m_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tfnf", "sample", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "is not a SavedModel" in result.stderr and "Traceback" not in result.stderr


def test_image_pictures_show_samples_at_each_temperature(trained_run):
    from tests.cli.pictures import assert_not_blank

    for name in ("samples.png", "interpolation.png", "loss.png"):
        assert_not_blank(trained_run / name)
