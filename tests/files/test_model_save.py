"""`FlowModel.save` is atomic: a failed or killed save leaves the previous `.keras` file byte-identical."""

import os
import textwrap

import keras
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from keras.src.saving import saving_lib

import tfnf
from tests.killed_process import child_process, sigkill, wait_for_file

tfd, tfb = tfp.distributions, tfp.bijectors


@pytest.fixture(scope="module")
def model():
    return tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))


@pytest.fixture
def saved(model, tmp_path):
    path = tmp_path / "m.keras"
    model.save(path)
    return path, path.read_bytes()


def test_a_save_that_cannot_serialise_keeps_the_previous_file(saved):
    path, before = saved
    foreign = tfnf.FlowModel(tfd.TransformedDistribution(tfd.MultivariateNormalDiag(loc=tf.zeros(2)), tfb.Shift(tf.Variable([0.0, 0.0]))))
    with pytest.raises(NotImplementedError, match="save_weights"):
        foreign.save(path)
    assert path.read_bytes() == before and os.listdir(path.parent) == ["m.keras"]


def test_a_save_failing_mid_write_keeps_the_previous_file(model, saved, monkeypatch):
    path, before = saved

    def disk_full(*args, **kwargs):
        raise OSError("disk full")  # the archive's config is written, its weights are not

    monkeypatch.setattr(saving_lib, "_save_state", disk_full)
    with pytest.raises(OSError, match="disk full"):
        model.save(str(path))
    assert path.read_bytes() == before and os.listdir(path.parent) == ["m.keras"]


def test_a_new_save_replaces_the_file_and_loads(model, saved):
    path, _ = saved
    model.save(path)
    assert os.listdir(path.parent) == ["m.keras"]
    assert isinstance(keras.models.load_model(path), tfnf.FlowModel)


def test_keras_rules_kept_and_a_linked_file_refused(model, saved, monkeypatch):
    path, before = saved
    with pytest.raises(ValueError, match="extension"):
        model.save(path.with_suffix(".zip"))
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")  # Keras asks before replacing with overwrite=False
    model.save(path, overwrite=False)
    assert path.read_bytes() == before
    os.symlink("m.keras", path.parent / "latest.keras")
    with pytest.raises(FileExistsError, match="symbolic link"):
        model.save(path.parent / "latest.keras")
    assert path.read_bytes() == before and sorted(os.listdir(path.parent)) == ["latest.keras", "m.keras"]


SAVER = textwrap.dedent(
    """
    import sys, time
    import tfnf
    from keras.src.saving import saving_lib

    path, marker = sys.argv[1], sys.argv[2]
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))

    def stall(*args, **kwargs):
        open(marker, "w").close()  # the new archive is half written
        time.sleep(600)  # the test kills the process here

    saving_lib._save_state = stall
    model.save(path)
    """
)


@pytest.mark.slow
def test_a_kill_during_save_keeps_the_previous_file(model, saved, tmp_path):
    path, before = saved
    (tmp_path / "saver.py").write_text(SAVER)
    with child_process([tmp_path / "saver.py", path, tmp_path / "stalled"]) as process:
        wait_for_file(process, tmp_path / "stalled")
        sigkill(process)
    assert path.read_bytes() == before
    model.save(tmp_path / "other.keras")  # the next save into the folder removes the killed one's files
    assert sorted(os.listdir(tmp_path)) == ["m.keras", "other.keras", "saver.py", "stalled"]
