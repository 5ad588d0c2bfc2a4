"""`tfnf train` keeps backups: a user's `<out>/backup` is never deleted, an interrupted run's backup is
never silently discarded, and Ctrl-C says where the backup is and how to resume."""

import signal

import pytest

import tfnf
from tests.killed_process import child_process, wait_for_file
from tfnf.cli.main import main

TINY = ["train", "--dataset", "moons", "--flow", "realnvp", "--couplings", "2", "--hidden", "8", "--epochs", "1", "--quiet"]


@pytest.fixture
def interrupted_fit(monkeypatch):
    """Training that stops as at Ctrl-C, after the backup folder is ready."""

    def press_ctrl_c(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tfnf.FlowModel, "fit", press_ctrl_c)


def test_ctrl_c_says_where_the_backup_is_and_how_to_resume(tmp_path, capsys, interrupted_fit):
    out = tmp_path / "run"
    assert main([*TINY, "--out", str(out)]) == 130
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("tfnf train: interrupted") and str(out / "backup") in lines[0]
    assert lines[1] == f"continue with: tfnf {' '.join(TINY)} --out {out} --resume"
    assert (out / "backup" / "tfnf-backup.json").is_file()


def test_a_rerun_without_resume_keeps_the_backup_and_names_both_choices(tmp_path, capsys, interrupted_fit):
    out = tmp_path / "run"
    assert main([*TINY, "--out", str(out)]) == 130
    (out / "backup" / "training_metadata.json").write_text('{"epoch": 3, "batch": -1}')
    capsys.readouterr()
    assert main([*TINY, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert str(out / "backup") in error and "3 epochs done" in error and "--resume" in error and "--restart" in error
    assert (out / "backup" / "training_metadata.json").is_file()
    assert main([*TINY, "--out", str(out), "--resume", "--restart"]) == 2
    assert main([*TINY, "--out", str(out), "--restart"]) == 130  # the old backup deleted, a new one made
    assert sorted(p.name for p in (out / "backup").iterdir()) == ["tfnf-backup.json"]


def test_a_backup_folder_the_user_made_is_never_deleted(tmp_path, capsys):
    out = tmp_path / "run"
    (out / "backup").mkdir(parents=True)
    (out / "backup" / "my-notes.txt").write_text("mine")
    for extra in ([], ["--resume"], ["--restart"]):
        assert main([*TINY, "--out", str(out), *extra]) == 2
        assert "tfnf did not make it" in capsys.readouterr().err
    assert (out / "backup" / "my-notes.txt").read_text() == "mine"
    assert not (out / "metrics.json").exists()


@pytest.mark.slow
def test_sigint_during_training_exits_130_with_the_resume_command(tmp_path):
    out = tmp_path / "run"
    command = [*TINY[:-3], "--epochs", "500", "--quiet", "--out", str(out)]
    with child_process(["-m", "tfnf", *command]) as process:
        wait_for_file(process, out / "backup" / "training_metadata.json")
        process.send_signal(signal.SIGINT)
        error = process.communicate(timeout=60)[1]
    assert process.returncode == 130, error
    assert error.strip().splitlines() == [
        f"tfnf train: interrupted; the finished epochs are backed up in {out / 'backup'}",
        f"continue with: tfnf {' '.join(command)} --resume",
    ]
