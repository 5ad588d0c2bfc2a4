"""`tfnf.files.write_file` and `save_figure`: renamed into place, the old file kept on failure, no links followed."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from tfnf.files import save_figure, write_file  # noqa: E402
from tfnf.files.write_claims import WriteClaim  # noqa: E402


def _write_text(text):
    def write(path):
        with open(path, "w") as handle:
            handle.write(text)

    return write


def test_a_file_is_replaced_and_nothing_left_beside_it(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    assert write_file(target, _write_text("new")) == str(target)
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["metrics.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"the old model")

    def half_then_fail(path):
        with open(path, "wb") as handle:
            handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_file(target, half_then_fail)
    assert target.read_bytes() == b"the old model" and os.listdir(tmp_path) == ["model.keras"]


def test_the_temporary_file_keeps_the_suffix_and_the_folder(tmp_path):
    seen = []
    write_file(tmp_path / "deep" / "samples.npy", lambda path: seen.append(path) or open(path, "w").close())
    assert os.path.dirname(seen[0]) == str(tmp_path / "deep") and seen[0].endswith(".npy")
    assert len(os.path.basename(seen[0])) < 40


def test_links_folders_and_overwrite_false_are_refused(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("keep")
    os.symlink("real.json", tmp_path / "link.json")
    with pytest.raises(FileExistsError, match="symbolic link"):
        write_file(tmp_path / "link.json", _write_text("new"))
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(IsADirectoryError, match="folder"):
        write_file(tmp_path / "folder.json", _write_text("new"))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_file(real, _write_text("new"), overwrite=False)
    with pytest.raises(FileNotFoundError, match="produced no file"):
        write_file(tmp_path / "never.json", lambda path: None)
    assert real.read_text() == "keep" and os.readlink(tmp_path / "link.json") == "real.json"
    assert sorted(os.listdir(tmp_path)) == ["folder.json", "link.json", "real.json"]


def test_an_entry_that_appears_during_the_write_is_never_replaced(tmp_path):
    # the checks run before `write`; what appears at the target meanwhile must survive the rename
    mine = tmp_path / "mine.json"

    def someone_else_writes_it(path):
        mine.write_text("theirs")
        _write_text("new")(path)

    with pytest.raises(FileExistsError, match="appeared"):
        write_file(mine, someone_else_writes_it, overwrite=False)
    assert mine.read_text() == "theirs"
    (tmp_path / "kept.json").write_text("keep")

    def someone_links_it(path):
        os.symlink("kept.json", tmp_path / "linked.json")
        _write_text("new")(path)

    with pytest.raises(FileExistsError, match="symbolic link"):
        write_file(tmp_path / "linked.json", someone_links_it)
    assert os.readlink(tmp_path / "linked.json") == "kept.json" and (tmp_path / "kept.json").read_text() == "keep"
    assert sorted(os.listdir(tmp_path)) == ["kept.json", "linked.json", "mine.json"]  # no staging file left
    write_file(tmp_path / "fresh.json", _write_text("new"), overwrite=False)  # nothing there: written
    assert (tmp_path / "fresh.json").read_text() == "new"


def test_a_temporary_file_of_a_killed_write_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    killed = WriteClaim(str(target), folder=False)
    with killed:
        with open(killed.staging, "wb") as handle:
            handle.write(b"half")
        left = {os.path.basename(killed.staging), os.path.basename(killed.lock_path)}
        assert left <= set(os.listdir(tmp_path))
        os.close(killed._lock_fd)  # as the kernel does for a killed process, keeping the files
        killed._lock_fd = None
        write_file(tmp_path / "other.png", _write_text("png"))
        assert sorted(os.listdir(tmp_path)) == ["model.keras", "other.png"]
    assert target.read_bytes() == b"old"


@pytest.mark.parametrize("name, written", [("plot.png", "plot.png"), ("plot.svg", "plot.svg"), ("plot", "plot.png")])
def test_a_figure_is_written_in_the_format_of_its_suffix(tmp_path, name, written):
    figure = plt.figure(figsize=(1, 1))
    try:
        assert save_figure(figure, tmp_path / name, dpi=20) == str(tmp_path / written)
    finally:
        plt.close(figure)
    assert os.listdir(tmp_path) == [written]
    start = (tmp_path / written).read_bytes()[:5]
    assert start == b"\x89PNG\r" if written.endswith(".png") else start in (b"<?xml", b"<svg ")


def test_a_figure_in_an_unknown_format_fails_and_leaves_nothing(tmp_path):
    figure = plt.figure(figsize=(1, 1))
    try:
        with pytest.raises(ValueError, match="not supported"):
            save_figure(figure, tmp_path / "plot.nope")
    finally:
        plt.close(figure)
    assert os.listdir(tmp_path) == []
