"""Backup folders: made with a marker, deleted only with it, links never followed."""

import os

import pytest

from tfnf.files import BACKUP_MARKER, backed_up_epochs, is_backup_folder, make_backup_folder, remove_backup_folder


def test_a_made_backup_folder_is_marked_and_removable(tmp_path):
    backup = tmp_path / "run" / "backup"
    make_backup_folder(backup)
    assert is_backup_folder(backup) and os.listdir(backup) == [BACKUP_MARKER]
    assert backed_up_epochs(backup) is None
    (backup / "training_metadata.json").write_text('{"epoch": 2, "batch": -1}')
    assert backed_up_epochs(backup) == 2
    with pytest.raises(FileExistsError, match="exists"):
        make_backup_folder(backup)
    remove_backup_folder(backup)
    remove_backup_folder(backup)  # nothing there: nothing to do
    assert os.listdir(tmp_path / "run") == []


def test_folders_and_links_tfnf_did_not_make_are_never_removed(tmp_path):
    mine = tmp_path / "backup"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a backup folder tfnf made"):
        remove_backup_folder(mine)
    made = tmp_path / "made"
    make_backup_folder(made)
    os.symlink("made", tmp_path / "link")
    assert not is_backup_folder(tmp_path / "link")
    with pytest.raises(FileExistsError, match="not a backup folder tfnf made"):
        remove_backup_folder(tmp_path / "link")
    with pytest.raises(FileExistsError, match="symbolic link"):
        make_backup_folder(tmp_path / "link")
    assert (mine / "notes.txt").read_text() == "mine" and is_backup_folder(made)
