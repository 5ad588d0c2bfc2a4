"""`tfnf train` on the natural patches: `patches` (32x32x3 images at 256 levels) and
`patch-vectors` (63-D vectors), end to end on small slices of the real data."""

import json

import numpy as np
import pytest

import tfnf
from tfnf.cli import data_sources
from tfnf.cli.main import main
from tfnf.cli.parser import build_parser
from tfnf.cli.plots import patch_pixels
from tfnf.cli.train_command import build_flow, fill_model_defaults, training_defaults

SLICE = {"train": 256, "validation": 64, "test": 64}


@pytest.fixture
def small_patches(monkeypatch):
    """`natural_patches` cut to the first few patches of each split (the real data, fewer of them)."""
    full = tfnf.datasets.natural_patches

    def first_few(split, form="vectors", as_numpy=False, **kwargs):
        return full(split, form=form, as_numpy=True)[: SLICE[split]]

    monkeypatch.setattr(data_sources.datasets, "natural_patches", first_few)


@pytest.fixture
def no_xla(monkeypatch):
    """Without XLA: jit_compile="auto" would build and time both train steps (tested in test_cli.py)."""
    compile_ = tfnf.FlowModel.compile
    monkeypatch.setattr(tfnf.FlowModel, "compile", lambda self, *a, **k: compile_(self, *a, **{**k, "jit_compile": False}))


def test_both_sources_hold_the_whole_splits():
    images = data_sources.load_source("patches")
    assert (images.kind, images.event_shape, images.num_bins) == ("image", (32, 32, 3), 256)
    assert [len(images.train), len(images.validation), len(images.test)] == [10_000, 1_000, 2_000]
    vectors = data_sources.load_source("patch-vectors")
    assert (vectors.kind, vectors.event_shape, vectors.num_bins) == ("vectors", (63,), None)
    assert [len(vectors.train), len(vectors.validation), len(vectors.test)] == [100_000, 10_000, 20_000]


def test_patches_train_writes_pictures_metrics_and_a_saved_model(small_patches, no_xla, tmp_path, capsys):
    out = tmp_path / "patches"
    argv = ["train", "--dataset", "patches", "--flow", "glow", "--levels", "1", "--steps", "1", "--hidden", "8",
            "--epochs", "1", "--batch-size", "64", "--temperatures", "0.7", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"] == "patches" and metrics["num_bins"] == 256 and metrics["test_examples"] == 64
    assert metrics["pictures"] == ["samples.png", "interpolation.png", "loss.png"]
    for name in metrics["pictures"]:
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
    assert (out / metrics["saved_model"] / "saved_model.pb").is_file()
    capsys.readouterr()
    assert main(["evaluate", str(out / metrics["saved_model"]), "--dataset", "patches"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["examples"] == 64
    assert abs(result["bits_per_dim"] - metrics["test_bits_per_dim"]) < 0.02  # dequantisation noise differs


@pytest.mark.parametrize("flow", ["maf", "nsf", "realnvp"])
def test_patch_vectors_train_writes_pictures_metrics_and_a_saved_model(flow, small_patches, no_xla, tmp_path, capsys):
    out = tmp_path / flow
    argv = ["train", "--dataset", "patch-vectors", "--flow", flow, "--couplings", "1", "--hidden", "64",
            "--epochs", "2", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"] == "patch-vectors" and metrics["num_bins"] is None
    assert list(metrics["flow_config"]["config"]["hidden_units"]) == [64, 64]
    assert metrics["batch_size"] == 256 and metrics["epochs_run"] == 2
    assert metrics["pictures"] == ["samples.png", "loss.png"]
    for name in metrics["pictures"]:
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
    assert np.isfinite(metrics["test_nll"])
    assert (out / metrics["saved_model"] / "saved_model.pb").is_file()
    capsys.readouterr()
    assert main(["evaluate", str(out / metrics["saved_model"]), "--dataset", "patch-vectors"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    np.testing.assert_allclose(result["nll"], metrics["test_nll"], rtol=1e-4, atol=1e-3)


def test_glow_on_patch_vectors_is_refused(capsys):
    assert main(["train", "--dataset", "patch-vectors", "--flow", "glow", "--quiet"]) == 2
    assert "glow needs image data" in capsys.readouterr().err


def parsed(*argv):
    return build_parser().parse_args(["train", *argv])


def test_patch_vectors_defaults_leave_the_sizes_to_the_builders():
    source = data_sources.DataSource("patch-vectors", "vectors", (63,), None, None, None, None)
    assert training_defaults(source)["batch_size"] == 256
    for flow, expected in (("maf", tfnf.flows.maf((63,))), ("nsf", tfnf.flows.nsf((63,))),
                           ("realnvp", tfnf.flows.realnvp((63,)))):
        args = parsed("--dataset", "patch-vectors", "--flow", flow)
        fill_model_defaults(args, "patch-vectors")
        config = build_flow(args, source).tfnf_config["config"]
        assert config == expected.tfnf_config["config"], flow
        assert config["hidden_units"] == (256, 256) and config["actnorm"] is True


def test_patches_and_digits_model_defaults():
    args = parsed("--dataset", "patches")
    fill_model_defaults(args, "patches")
    assert (args.levels, args.steps, args.hidden) == (3, 4, 64)
    source = data_sources.DataSource("patches", "image", (32, 32, 3), 256, None, None, None)
    assert training_defaults(source)["batch_size"] == 32
    args = parsed("--dataset", "digits", "--hidden", "16")
    fill_model_defaults(args, "digits")
    assert (args.levels, args.steps, args.hidden, args.couplings) == (2, 8, 16, 8)


def test_patch_pixels_show_the_restored_patch_on_a_fixed_grey_scale():
    vectors = tfnf.datasets.natural_patches("test", as_numpy=True)[:10]
    contrast = 2.0  # wider than any centred value: nothing is clipped
    pixels = patch_pixels(vectors, contrast)
    assert pixels.shape == (10, 8, 8, 1) and pixels.min() > 0 and pixels.max() < 255
    expected = np.rint(128 + 127 * tfnf.datasets.patches_of_vectors(vectors) / contrast)
    np.testing.assert_array_equal(pixels, expected)
    saturated = patch_pixels(vectors, 1e-9).reshape(10, 64)[:, :63]  # the 63 given pixels, clipped
    np.testing.assert_array_equal(saturated, np.where(vectors > 0, 255.0, np.where(vectors < 0, 0.0, 128.0)))
