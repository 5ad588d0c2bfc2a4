"""`tfnf train` on a 2-D density: density heat map, samples over the data, the warping of a
latent grid bijector by bijector, and a loss curve that reads after one epoch."""

import json

import numpy as np
import pytest

import tfnf
from tests.cli.pictures import assert_not_blank, coloured_pixels
from tfnf.cli.main import main
from tfnf.cli.plots import bijector_steps, latent_grid_lines, save_loss_curves, warp_stages


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pictures") / "moons"
    args = ["train", "--dataset", "moons", "--flow", "realnvp", "--couplings", "3", "--hidden", "8"]
    compile_ = tfnf.FlowModel.compile
    with pytest.MonkeyPatch.context() as patch:  # without XLA: jit_compile="auto" would build and time both train steps
        patch.setattr(tfnf.FlowModel, "compile", lambda self, *a, **k: compile_(self, *a, **{**k, "jit_compile": False}))
        assert main([*args, "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    return out


def test_toy_run_writes_every_picture_and_lists_them_relative(toy_run):
    metrics = json.loads((toy_run / "metrics.json").read_text())
    assert metrics["pictures"] == ["density.png", "samples.png", "warping.png", "loss.png"]
    for name in metrics["pictures"]:
        assert_not_blank(toy_run / name)
        assert coloured_pixels(toy_run / name) > 300, name
    assert metrics["keras_model"] == "model.keras" and (toy_run / metrics["keras_model"]).is_file()


def test_sample_on_a_2d_export_writes_the_array_and_a_scatter_plot(toy_run, tmp_path, capsys):
    metrics = json.loads((toy_run / "metrics.json").read_text())
    saved_model = str(toy_run / metrics["saved_model"])
    assert main(["sample", saved_model, "-n", "500", "--out", str(tmp_path / "points.png")]) == 0
    array, picture = tmp_path / "points.npy", tmp_path / "points.png"
    samples = np.load(array)
    assert samples.shape == (500, 2) and np.all(np.isfinite(samples)) and samples.std() > 0.1
    assert_not_blank(picture)
    assert coloured_pixels(picture) > 300
    assert capsys.readouterr().out.strip().endswith(f"to {array} and a scatter plot of them to {picture}")
    assert not (tmp_path / "points.png.npy").exists()
    folder = tmp_path / "in_folder"
    folder.mkdir()
    assert main(["sample", saved_model, "-n", "50", "--out", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["samples.npy", "samples.png"]


def test_warping_ends_where_the_whole_bijector_does():
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=3, hidden_units=(8, 8)))
    for variable in model.trainable_variables:  # away from the identity a new flow starts at
        variable.assign(np.random.default_rng(0).normal(0, 0.3, variable.shape).astype("float32"))
    lines = latent_grid_lines(extent=2.0, num_lines=5, points_per_line=7)
    stages = warp_stages(model.bijector, lines)
    assert len(stages) == 1 + len(bijector_steps(model.bijector)) == 4  # base + 3 couplings (identity left out)
    np.testing.assert_array_equal(stages[0][1], lines)
    whole = model.bijector.forward(lines.reshape(-1, 2)).numpy().reshape(lines.shape)
    np.testing.assert_allclose(stages[-1][1], whole, rtol=1e-5, atol=1e-5)
    assert not np.allclose(stages[1][1], lines, atol=1e-3)  # a coupling moved the grid


def test_lines_cover_the_square_both_ways():
    lines = latent_grid_lines(extent=3.0, num_lines=4, points_per_line=5)
    assert lines.shape == (8, 5, 2)
    assert np.all(lines[:4, :, 0] == lines[:4, :1, 0]) and np.all(lines[4:, :, 1] == lines[4:, :1, 1])
    assert lines.min() == -3.0 and lines.max() == 3.0


@pytest.mark.parametrize("steps", [None, [(1, 3.0), (2, 2.8), (3, 2.7)]])
def test_a_single_epoch_draws_a_visible_loss_curve(steps, tmp_path):
    history = {"bits_per_dim": [2.7], "val_bits_per_dim": [2.6]}
    path = save_loss_curves(tmp_path / "loss.png", history, steps, None if steps is None else [3])
    assert_not_blank(path)
    assert coloured_pixels(path) > 150
    assert coloured_pixels(save_loss_curves(tmp_path / "empty.png", {})) == 0  # the count sees drawn data only


def test_loss_curve_steps_are_real_optimizer_steps_with_several_steps_per_execution(tmp_path, monkeypatch):
    """With `steps_per_execution=4`, 10 batches per epoch and 2 epochs the curve runs to step 20
    (Keras passes the last step of each execution), not to 6 (the number of callbacks)."""
    import keras
    import matplotlib.pyplot as plt

    from tfnf.cli.step_history import StepHistory

    keras.utils.set_random_seed(0)
    points = np.random.default_rng(0).standard_normal((40, 2)).astype("float32")
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    model.compile(jit_compile=False, steps_per_execution=4)
    history = StepHistory()
    fit = model.fit(points, batch_size=4, epochs=2, validation_data=(points[:8],), callbacks=[history], verbose=0)
    assert [step for step, _ in history.steps] == [4, 8, 10, 14, 18, 20]
    assert history.epoch_ends == [10, 20]

    drawn, close = [], plt.close
    monkeypatch.setattr(plt, "close", lambda figure=None: (drawn.append(figure), close(figure)))
    assert_not_blank(save_loss_curves(tmp_path / "loss.png", fit.history, history.steps, history.epoch_ends))
    (axes,) = drawn[0].axes
    assert axes.get_xlabel() == "training step"
    last = max(max(line.get_xdata()) for line in axes.get_lines())
    assert last == 20
    assert axes.get_xlim()[1] >= 20 and axes.get_xlim()[0] <= 4
