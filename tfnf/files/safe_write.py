"""The one way tfnf writes files and folders: beside the target, then renamed into place.

* `write_file(path, write)`: `write(temporary)` writes a sibling file with the
  same suffix, which then replaces `path` in one rename (atomic on a local
  disk): a failed or killed write leaves the previous file byte-identical.
* `save_figure(figure, path)`: a Matplotlib figure written that way.
* `write_atomically(path, write)`: the same for a folder (a SavedModel);
  files others added to a previous export (TF Serving's warm-up requests)
  are carried into the new one.

What they never do: write through a symbolic link (a linked target is
refused: replacing the link or the folder it points to could lose what the
link's owner keeps there), replace a folder with a file, or delete what tfnf
did not write. A folder target may be replaced only if it is missing, empty
or a previous tfnf export (anything else needs `overwrite=True`), and never
if it is the working directory or contains it. All of it works on any
`tf.io.gfile` path (`gs://`, `ram://`); see `write_claims` for the sibling
names and the clean-up after a killed write.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import tensorflow as tf

from tfnf.files.previous_exports import carry_added_files, is_previous_export
from tfnf.files.write_claims import WriteClaim, is_local, remove, rename_file_into_place

if TYPE_CHECKING:
    import matplotlib.figure


def target_path(filepath: str | os.PathLike[str], what: str = "file") -> str:
    """`filepath` as a string, absolute if local, without a trailing '/'; a `ValueError` if it names nothing."""
    path = os.fspath(filepath)
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"filepath must name a {what}, got {filepath!r}")
    if is_local(path):
        path = os.path.abspath(path)
    return path.rstrip("/") or path


def refuse_link(path: str, action: str) -> None:
    """Raise if `path` is a symbolic link (a dangling one included): tfnf never writes through one."""
    if is_local(path) and os.path.islink(path):
        raise FileExistsError(
            f"refusing to {action} {path!r}: it is a symbolic link (to {os.readlink(path)!r}), and tfnf never "
            "writes through a link; write to a new path (or to where the link points) and update the link yourself"
        )


def write_file(filepath: str | os.PathLike[str], write: Callable[[str], object], overwrite: bool = True) -> str:
    """Call `write(temporary)` to write a sibling of `filepath`, then rename it onto `filepath`.

    The temporary path keeps the target's suffix (`.keras`, `.png`, `.npy`),
    so writers that read the format from it behave as for the target. Returns
    the target path (absolute if local). On any error (or a kill) the
    previous file is left as it was and the temporary file is removed (after
    a kill: by the next write into the same folder).

    Raises:
      FileExistsError: `filepath` is a symbolic link, or exists and
        `overwrite` is False (checked again at the rename:
        `write_claims.rename_file_into_place`).
      IsADirectoryError: `filepath` is a folder.
      FileNotFoundError: `write` returned without writing the file.
    """
    path = target_path(filepath)
    refuse_link(path, "write")
    if tf.io.gfile.isdir(path):
        raise IsADirectoryError(f"refusing to write the file {path!r}: a folder has that name")
    if not overwrite and tf.io.gfile.exists(path):
        raise FileExistsError(f"refusing to write {path!r}: the file exists; pass overwrite=True to replace it")
    claim = WriteClaim(path, folder=False)
    tf.io.gfile.makedirs(claim.parent)
    with claim:
        write(claim.staging)
        if not tf.io.gfile.exists(claim.staging):
            raise FileNotFoundError(f"writing {path!r} produced no file (expected it at {claim.staging!r})")
        if is_local(path):
            _flush_to_disk(claim.staging)
        rename_file_into_place(claim.staging, path, overwrite)
    return path


def _flush_to_disk(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # the content reaches the disk before the rename does (no empty file after a power cut)
    finally:
        os.close(fd)


def write_json(filepath: str | os.PathLike[str], value: Any) -> str:
    """`value` as indented JSON through `write_file` (values JSON cannot hold are written as `str(value)`)."""

    def write(temporary: str) -> None:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2, default=str)

    return write_file(filepath, write)


def save_figure(figure: matplotlib.figure.Figure, filepath: str | os.PathLike[str], **savefig_kwargs: Any) -> str:
    """`figure.savefig(filepath, **savefig_kwargs)` through `write_file`; returns `filepath`.

    The format comes from the suffix (Matplotlib's default format, added to the
    name, if there is none), as `savefig` would choose it.
    """
    path = os.fspath(filepath)
    suffix = os.path.splitext(path)[1][1:]
    if not suffix:
        suffix = figure.canvas.get_default_filetype()
        path = f"{path}.{suffix}"
    file_format = savefig_kwargs.pop("format", None) or suffix
    write_file(path, lambda temporary: figure.savefig(temporary, format=file_format, **savefig_kwargs))
    return path


def check_folder_target(path: str, overwrite: bool) -> None:
    """Raise unless writing the folder `path` can lose nothing tfnf did not write (see the module docstring)."""
    refuse_link(path, "export to")
    if is_local(path):
        here = os.path.realpath(os.getcwd())
        target = os.path.realpath(path)
        if here == target or here.startswith(target.rstrip(os.sep) + os.sep):
            raise ValueError(
                f"refusing to export to {path!r}: it is the working directory or contains it; "
                "export into a new folder such as 'saved_models/<name>/1'"
            )
    if not tf.io.gfile.exists(path):
        return
    if not tf.io.gfile.isdir(path):
        if not overwrite:
            raise FileExistsError(
                f"refusing to export to {path!r}: it is an existing file; choose a new folder or pass overwrite=True"
            )
        return
    if tf.io.gfile.listdir(path) and not is_previous_export(path) and not overwrite:
        raise FileExistsError(
            f"refusing to export to {path!r}: it is a non-empty folder that is not a previous tfnf export "
            "(no saved_model.pb with assets.extra/tfnf.json); choose a new folder or pass overwrite=True"
        )


def write_atomically(filepath: str | os.PathLike[str], write: Callable[[str], object], overwrite: bool = False) -> str:
    """Call `write(staging)` to fill a new staging folder beside `filepath`, then rename it to `filepath`.

    Returns `filepath` (absolute for local paths). Raises `ValueError` /
    `FileExistsError` (before writing anything) for a target it may not
    replace (see the module docstring); on any error the staging folder is
    removed and the target is left as it was. Files others added to a
    previous export at `filepath` are copied into the new one.
    """
    path = target_path(filepath, what="folder")
    check_folder_target(path, overwrite)
    claim = WriteClaim(path, folder=True)
    tf.io.gfile.makedirs(claim.parent)
    with claim:
        write(claim.staging)
        if is_previous_export(path):
            carry_added_files(path, claim.staging)
        move_into_place(claim.staging, path, claim.retired, overwrite)
    return path


def _move_tree(source: str, destination: str) -> None:
    """Move a folder file by file: for filesystems whose rename does not move a folder's
    contents (`ram://`); not atomic there."""
    for folder, _, files in tf.io.gfile.walk(source):
        relative = folder[len(source):].strip("/")
        target = f"{destination}/{relative}" if relative else destination
        tf.io.gfile.makedirs(target)
        for name in files:
            if tf.io.gfile.exists(f"{folder}/{name}"):  # `ram://` lists `assets.extra/x` in `assets` as `.extra`
                tf.io.gfile.rename(f"{folder}/{name}", f"{target}/{name}")
    remove(source)


def move_into_place(staging: str, path: str, retired: str, overwrite: bool) -> None:
    """Rename the complete folder `staging` to `path`, moving what is there aside to `retired` first
    and deleting it once the new folder is in place. (On a local disk each move is one rename; a kill
    between the two leaves the old folder in `retired`, from where the next write moves it back.)

    The target is checked again first (`check_folder_target`), so an entry that appeared at `path`
    while the folder was written (a link, a file, a folder that is not a previous export) is
    refused and left as it is, as before the write; if the new folder cannot be moved into place,
    the previous one is moved back."""
    check_folder_target(path, overwrite)
    move = tf.io.gfile.rename if is_local(path) else _move_tree
    put_back = None
    if tf.io.gfile.exists(path):
        if tf.io.gfile.isdir(path) and not tf.io.gfile.listdir(path):
            remove(path)  # an empty folder
        elif tf.io.gfile.isdir(path):
            move(path, retired)
            put_back = move
        else:
            tf.io.gfile.rename(path, retired)  # a file (overwrite=True)
            put_back = tf.io.gfile.rename
    try:
        move(staging, path)
    except BaseException:
        if put_back is not None and not tf.io.gfile.exists(path):
            put_back(retired, path)
        raise
    remove(retired)
