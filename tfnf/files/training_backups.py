"""Training backup folders (for `keras.callbacks.BackupAndRestore`) that tfnf may delete because it made them.

`make_backup_folder` creates the folder with a marker file, `tfnf-backup.json`,
inside; `remove_backup_folder` deletes a folder only if it carries that
marker, so a folder a user made (or put files in under the same name) is never
deleted. Links are never followed.
"""

from __future__ import annotations

import datetime
import json
import os

from tfnf.files.safe_write import refuse_link, write_json
from tfnf.files.write_claims import remove

#: Name of the marker file inside every backup folder tfnf made (and so may delete).
BACKUP_MARKER: str = "tfnf-backup.json"


def is_backup_folder(path: str | os.PathLike[str]) -> bool:
    """True for a folder (not a link) that `make_backup_folder` made: it holds the marker file."""
    path = os.fspath(path)
    return os.path.isdir(path) and not os.path.islink(path) and os.path.isfile(os.path.join(path, BACKUP_MARKER))


def backed_up_epochs(path: str | os.PathLike[str]) -> int | None:
    """The epochs a Keras backup in `path` has finished (from its `training_metadata.json`), or None."""
    try:
        with open(os.path.join(os.fspath(path), "training_metadata.json"), encoding="utf-8") as handle:
            return int(json.load(handle)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def make_backup_folder(path: str | os.PathLike[str]) -> str:
    """Create the backup folder `path` with its marker; a `FileExistsError` if anything is there already."""
    path = os.fspath(path)
    refuse_link(path, "use the backup folder")
    if os.path.lexists(path):
        raise FileExistsError(f"refusing to make the backup folder {path!r}: something with that name exists")
    os.makedirs(path)
    record = {"written_by": "tfnf", "purpose": "keras.callbacks.BackupAndRestore",
              "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    write_json(os.path.join(path, BACKUP_MARKER), record)
    return path


def remove_backup_folder(path: str | os.PathLike[str]) -> None:
    """Delete the backup folder `path` if it is there; a `FileExistsError` (deleting nothing) unless tfnf made it."""
    path = os.fspath(path)
    if not os.path.lexists(path):
        return
    if not is_backup_folder(path):
        raise FileExistsError(
            f"refusing to delete {path!r}: it is not a backup folder tfnf made (no {BACKUP_MARKER} inside)"
        )
    remove(path)
