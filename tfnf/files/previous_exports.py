"""Previous exports: recognising a folder tfnf exported, and keeping what a user added to it.

A SavedModel export holds the files `tf.saved_model.save` writes
(`saved_model.pb`, `fingerprint.pb`, `variables/*`, `assets/*`) and tfnf's
`assets.extra/tfnf.json`. Anything else in it was put there by someone else
(TF Serving's warm-up requests `assets.extra/tf_serving_warmup_requests`, a
README): a new export replacing the folder carries those files over.
"""

from __future__ import annotations

import os
import shutil

import tensorflow as tf

from tfnf.files.write_claims import is_local, join

METADATA = "assets.extra/tfnf.json"
_LIBRARY_FILES = {"saved_model.pb", "saved_model.pbtxt", "fingerprint.pb", METADATA}
_LIBRARY_FOLDERS = ("variables/", "assets/")


def is_previous_export(path: str) -> bool:
    """True for a folder that a tfnf export wrote (it holds `saved_model.pb` and `assets.extra/tfnf.json`)."""
    return tf.io.gfile.exists(join(path, "saved_model.pb")) and tf.io.gfile.exists(
        join(join(path, "assets.extra"), "tfnf.json")
    )


def written_by_export(relative_path: str) -> bool:
    """True if an export writes the file at `relative_path` ('/'-separated) inside its folder."""
    return relative_path in _LIBRARY_FILES or relative_path.startswith(_LIBRARY_FOLDERS)


def files_added_by_others(path: str) -> list[str]:
    """The files (paths relative to `path`, '/'-separated) in the export `path` that no export wrote.

    On a local disk a link (to a file or a folder) counts as one file: it is
    never followed.
    """
    if is_local(path):
        listing = ((folder, files + [name for name in subfolders if os.path.islink(os.path.join(folder, name))])
                   for folder, subfolders, files in os.walk(path))
    else:
        listing = ((folder, files) for folder, _, files in tf.io.gfile.walk(path))
    added = []
    for folder, files in listing:
        relative_folder = folder[len(path):].replace(os.sep, "/").strip("/")
        for name in files:
            relative = f"{relative_folder}/{name}" if relative_folder else name
            if not written_by_export(relative) and (is_local(path) or tf.io.gfile.exists(join(folder, name))):
                added.append(relative)  # (`ram://` lists `assets.extra/x` in `assets` as `.extra/x`)
    return sorted(added)


def carry_added_files(previous: str, staging: str) -> None:
    """Copy the files others added to the export `previous` into the new export `staging`
    (links as links, never what they point to); the new export's own files win."""
    for relative in files_added_by_others(previous):
        source, destination = join(previous, relative), join(staging, relative)
        if tf.io.gfile.exists(destination) or (is_local(destination) and os.path.lexists(destination)):
            continue
        tf.io.gfile.makedirs(os.path.dirname(destination) if is_local(destination) else destination.rsplit("/", 1)[0])
        if is_local(source):
            if os.path.islink(source):
                os.symlink(os.readlink(source), destination)
            else:
                shutil.copy2(source, destination)
        else:
            tf.io.gfile.copy(source, destination)
