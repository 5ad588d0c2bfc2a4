"""Exports through `tfnf.files.write_atomically`: links, files others added, long names, killed writes."""

import fcntl
import os

import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.files.killed_writes import leave_a_killed_claim

X = np.random.default_rng(0).standard_normal((4, 2)).astype("float32")


@pytest.fixture(scope="module")
def model():
    return tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))


def _served_log_prob(path):
    return tf.saved_model.load(str(path)).signatures["log_prob"](x=tf.constant(X))["log_prob"].numpy()


def test_a_linked_target_is_refused_and_the_folder_it_points_to_kept(model, tmp_path):
    versions = tmp_path / "v"
    model.export(str(versions / "3"), verbose=False)
    before = sorted(p.relative_to(versions / "3") for p in (versions / "3").rglob("*"))
    os.symlink("3", versions / "latest")
    with pytest.raises(FileExistsError, match="symbolic link"):
        model.export(str(versions / "latest"), verbose=False)
    assert sorted(os.listdir(versions)) == ["3", "latest"] and os.readlink(versions / "latest") == "3"
    assert sorted(p.relative_to(versions / "3") for p in (versions / "3").rglob("*")) == before
    np.testing.assert_allclose(_served_log_prob(versions / "3"), model.log_prob(X).numpy(), rtol=1e-6, atol=1e-6)


def test_a_dangling_link_is_refused_too(model, tmp_path):
    os.symlink("nowhere", tmp_path / "latest")
    with pytest.raises(FileExistsError, match="symbolic link"):
        model.export(str(tmp_path / "latest"), overwrite=True, verbose=False)
    assert os.listdir(tmp_path) == ["latest"]


def test_files_others_added_to_a_previous_export_are_carried_over(model, tmp_path):
    target = tmp_path / "served" / "1"
    model.export(str(target), verbose=False)
    (target / "assets.extra" / "tf_serving_warmup_requests").write_bytes(b"\x00warm-up")
    (target / "notes" / "deep").mkdir(parents=True)
    (target / "notes" / "deep" / "README").write_text("how we serve it")
    os.symlink("/nowhere/in/particular", target / "notes" / "link")
    other = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    other.export(str(target), verbose=False)
    assert (target / "assets.extra" / "tf_serving_warmup_requests").read_bytes() == b"\x00warm-up"
    assert (target / "notes" / "deep" / "README").read_text() == "how we serve it"
    assert os.readlink(target / "notes" / "link") == "/nowhere/in/particular"
    np.testing.assert_allclose(_served_log_prob(target), other.log_prob(X).numpy(), rtol=1e-6, atol=1e-6)
    assert os.listdir(target.parent) == ["1"]


def test_a_target_with_a_long_name_is_exported_again(model, tmp_path):
    target = tmp_path / ("m" * 230)
    model.export(str(target), verbose=False)
    model.export(str(target), verbose=False)  # the sibling names must stay under 255 bytes
    assert os.listdir(tmp_path) == [target.name]


def test_a_killed_export_is_cleaned_up_whatever_its_process_id(model, tmp_path):
    parent = tmp_path / "models"
    model.export(str(parent / "1"), verbose=False)
    expected = _served_log_prob(parent / "1")
    leave_a_killed_claim(parent / "1", retire_target=True, pid=1)  # pid 1 always runs: no pid check can tell
    leave_a_killed_claim(parent / "2", pid=os.getpid())  # a live pid, but nobody holds the lock
    model.export(str(parent / "3"), verbose=False)
    assert sorted(os.listdir(parent)) == ["1", "3"]
    np.testing.assert_allclose(_served_log_prob(parent / "1"), expected)


def test_a_write_whose_lock_is_held_is_left_alone(model, tmp_path):
    parent = tmp_path / "models"
    parent.mkdir()
    claim = leave_a_killed_claim(parent / "1")
    with open(claim.lock_path) as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running export holds it
        model.export(str(parent / "2"), verbose=False)
    leftovers = sorted(os.listdir(parent))
    assert leftovers == sorted(["2", os.path.basename(claim.lock_path), os.path.basename(claim.staging)])


def test_a_linked_folder_in_a_replaced_export_is_carried_and_what_it_points_to_kept(model, tmp_path):
    data = tmp_path / "shared"
    data.mkdir()
    (data / "precious.txt").write_text("keep")
    target = tmp_path / "served" / "1"
    model.export(str(target), verbose=False)
    os.symlink(data, target / "shared")
    model.export(str(target), verbose=False)  # the old export, link included, is deleted after the swap
    assert os.readlink(target / "shared") == str(data) and (data / "precious.txt").read_text() == "keep"
    model.export(str(target), overwrite=True, verbose=False)
    assert (data / "precious.txt").read_text() == "keep"


def _fill(text):
    """A `write` for `write_atomically`: a folder holding `data.txt` with `text`."""

    def write(folder):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "data.txt"), "w") as file:
            file.write(text)

    return write


def test_an_entry_that_appears_during_the_write_is_left_as_it_is(tmp_path):
    # the target is checked before `write` and again at the move: what appeared meanwhile survives
    target = tmp_path / "export"

    def someone_fills_it(folder):
        target.mkdir()
        (target / "theirs.txt").write_text("theirs")
        _fill("new")(folder)

    with pytest.raises(FileExistsError, match="not a previous tfnf export"):
        tfnf.files.write_atomically(str(target), someone_fills_it)
    assert os.listdir(target) == ["theirs.txt"] and (target / "theirs.txt").read_text() == "theirs"
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "keep.txt").write_text("keep")
    linked = tmp_path / "linked"

    def someone_links_it(folder):
        os.symlink("kept", linked)
        _fill("new")(folder)

    with pytest.raises(FileExistsError, match="symbolic link"):
        tfnf.files.write_atomically(str(linked), someone_links_it, overwrite=True)
    assert os.readlink(linked) == "kept" and os.listdir(tmp_path / "kept") == ["keep.txt"]
    assert sorted(os.listdir(tmp_path)) == ["export", "kept", "linked"]  # no staging, retired or lock entry left


def test_a_failed_final_move_puts_the_previous_folder_back(tmp_path, monkeypatch):
    target = tmp_path / "export"
    tfnf.files.write_atomically(str(target), _fill("old"))
    rename = tf.io.gfile.rename

    def failing_for_the_new_folder(source, destination, overwrite=False):
        if os.path.basename(source).startswith(".tfnf-export-"):
            raise OSError("no space left on device")
        return rename(source, destination, overwrite)

    monkeypatch.setattr(tf.io.gfile, "rename", failing_for_the_new_folder)
    with pytest.raises(OSError, match="no space left"):
        tfnf.files.write_atomically(str(target), _fill("new"), overwrite=True)
    assert os.listdir(target) == ["data.txt"] and (target / "data.txt").read_text() == "old"
    assert os.listdir(tmp_path) == ["export"]
