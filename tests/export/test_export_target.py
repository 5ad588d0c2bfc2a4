"""Export never deletes what it did not write, leaves no staging behind, and writes readable files."""

import os
import stat
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tfnf.export import is_previous_export
from tests.files.killed_writes import leave_a_killed_claim

X = np.random.default_rng(0).standard_normal((6, 2)).astype("float32")


@pytest.fixture(scope="module")
def model():
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    for variable in model.trainable_variables:
        variable.assign(variable + 0.1 * tf.random.stateless_normal(variable.shape, [0, 1]))
    return model


def _served_log_prob(path):
    return tf.saved_model.load(str(path)).signatures["log_prob"](x=tf.constant(X))["log_prob"].numpy()


@pytest.mark.parametrize("target", [".", "", "..", "TMP"])
def test_the_working_directory_and_its_parents_are_never_targets(model, tmp_path, monkeypatch, target):
    here = tmp_path / "project" / "work"
    here.mkdir(parents=True)
    (here / "important.txt").write_text("keep me")
    monkeypatch.chdir(here)
    target = str(tmp_path) if target == "TMP" else target
    with pytest.raises(ValueError, match="working directory|must name a folder"):
        model.export(target, overwrite=True)
    assert (here / "important.txt").read_text() == "keep me"
    assert sorted(os.listdir(here)) == ["important.txt"] and sorted(os.listdir(tmp_path)) == ["project"]


def test_a_folder_that_is_not_an_export_is_refused_unless_overwrite(model, tmp_path):
    target = tmp_path / "models" / "1"
    target.mkdir(parents=True)
    (target / "important.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a previous tfnf export.*overwrite=True"):
        model.export(str(target))
    assert os.listdir(target) == ["important.txt"] and os.listdir(target.parent) == ["1"]
    model.export(str(target), overwrite=True, verbose=False)
    assert is_previous_export(str(target)) and not (target / "important.txt").exists()
    np.testing.assert_allclose(_served_log_prob(target), model.log_prob(X).numpy(), rtol=1e-6, atol=1e-6)


def test_a_regular_file_is_refused_and_kept(model, tmp_path):
    target = tmp_path / "model"
    target.write_text("not a model")
    with pytest.raises(FileExistsError, match="existing file"):
        model.export(str(target))
    assert target.read_text() == "not a model" and os.listdir(tmp_path) == ["model"]


def test_a_previous_export_and_an_empty_folder_are_replaced(model, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    model.export(str(empty), verbose=False)
    assert is_previous_export(str(empty))
    other = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    other.export(str(empty), verbose=False)  # a previous export: replaced without overwrite=True
    np.testing.assert_allclose(_served_log_prob(empty), other.log_prob(X).numpy(), rtol=1e-6, atol=1e-6)
    assert os.listdir(tmp_path) == ["empty"]  # no staging or retired folder left


def test_exported_files_follow_the_umask(model, tmp_path):
    previous = os.umask(0o022)
    try:
        path = model.export(str(tmp_path / "served" / "1"), verbose=False)
    finally:
        os.umask(previous)
    for folder, _, files in os.walk(path):
        assert stat.S_IMODE(os.stat(folder).st_mode) & 0o055 == 0o055, folder  # others may enter and list
        for name in files:
            assert stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) & 0o044 == 0o044, name  # and read


def test_staging_left_by_a_killed_export_is_cleaned_and_a_stranded_export_moved_back(model, tmp_path):
    parent = tmp_path / "models"
    model.export(str(parent / "1"), verbose=False)
    leave_a_killed_claim(parent / "1", retire_target=True)  # killed between the two renames
    unrelated = parent / ".export-by-someone-else"
    unrelated.mkdir()
    model.export(str(parent / "2"), verbose=False)
    assert sorted(os.listdir(parent)) == [".export-by-someone-else", "1", "2"]
    np.testing.assert_allclose(_served_log_prob(parent / "1"), model.log_prob(X).numpy(), rtol=1e-6, atol=1e-6)


def test_a_failed_write_leaves_the_old_export_and_no_staging(model, tmp_path, monkeypatch):
    target = tmp_path / "models" / "1"
    model.export(str(target), verbose=False)
    before = _served_log_prob(target)

    def failing_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tf.saved_model, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        model.export(str(target), verbose=False)
    assert os.listdir(target.parent) == ["1"]
    np.testing.assert_allclose(_served_log_prob(target), before)


def test_any_tensorflow_filesystem_and_keras_export_options(model, capsys):
    path = model.export("ram://tfnf-test/models/1", verbose=True, options=tf.saved_model.SaveOptions())
    assert path == "ram://tfnf-test/models/1" and "ram://tfnf-test/models/1" in capsys.readouterr().out
    model.export(path, verbose=False)  # replaces the previous export there
    np.testing.assert_allclose(_served_log_prob(path), model.log_prob(X).numpy(), rtol=1e-6, atol=1e-6)
    assert tfnf.export.load_metadata(path)["event_shape"] == [2]
    assert not tf.io.gfile.exists("ram://tfnf-test/gs:")
    with pytest.raises(TypeError, match="unexpected keyword argument 'input_signature'"):
        model.export("ram://tfnf-test/models/2", input_signature=[])
