"""`write_atomically`: put a freshly written folder in place without losing anything else.

Exports are written to a staging folder beside the target and renamed into
place with `tf.io.gfile` (so any TensorFlow filesystem works: local paths,
`gs://`, `ram://`). What may be replaced:

* nothing, or an empty folder;
* a previous tfnf export (a folder holding `saved_model.pb` and
  `assets.extra/tfnf.json`);
* anything else only with `overwrite=True`, and even then never the working
  directory or a folder that contains it.

Staging and retired folders are named `.tfnf-export-<pid>-<id>` and
`.tfnf-retired-<pid>-<id>-<target name>`. Those of a process that no longer
runs (a killed export) are cleaned up by the next export into the same parent
folder; a retired previous export whose replacement never arrived is moved
back to its name.
"""

import os
import re
import uuid

import tensorflow as tf

STAGING_PREFIX = ".tfnf-export-"
RETIRED_PREFIX = ".tfnf-retired-"
_OURS = re.compile(r"^\.tfnf-(export|retired)-(\d+)-[0-9a-f]+(?:-(.+))?$")


def _is_local(path):
    return "://" not in path


def _join(parent, name):
    return os.path.join(parent, name) if _is_local(parent) else f"{parent.rstrip('/')}/{name}"


def is_previous_export(path):
    """True for a folder that a tfnf export wrote (it holds `saved_model.pb` and `assets.extra/tfnf.json`)."""
    return tf.io.gfile.exists(_join(path, "saved_model.pb")) and tf.io.gfile.exists(
        _join(_join(path, "assets.extra"), "tfnf.json")
    )


def _process_is_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _check_target(path, overwrite):
    """Raise unless writing to `path` can lose nothing the library did not write (see the module docstring)."""
    if _is_local(path):
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


def _clean_up_after_killed_exports(parent):
    """Remove staging folders of exports that no longer run; move back a stranded previous export."""
    if not _is_local(parent) or not tf.io.gfile.isdir(parent):
        return
    for name in sorted(tf.io.gfile.listdir(parent)):
        match = _OURS.match(name.rstrip("/"))
        if match is None or _process_is_running(int(match.group(2))):
            continue
        folder = _join(parent, name.rstrip("/"))
        original = match.group(3) and _join(parent, match.group(3))
        if match.group(1) == "retired" and original and not tf.io.gfile.exists(original):
            tf.io.gfile.rename(folder, original)  # killed between moving the old export aside and the new one in
        else:
            _remove_tree(folder)


def write_atomically(filepath, write, overwrite=False):
    """Call `write(staging)` to fill a new staging folder, then rename it to `filepath`.

    Returns `filepath` (absolute for local paths). Raises `ValueError` /
    `FileExistsError` (before writing anything) for a target it may not
    replace; on any error the staging folder is removed and the target is
    left as it was.
    """
    path = os.fspath(filepath)
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"filepath must name a folder, got {filepath!r}")
    if _is_local(path):
        path = os.path.abspath(path)
    path = path.rstrip("/") or path
    parent = os.path.dirname(path) if _is_local(path) else path.rsplit("/", 1)[0]
    _check_target(path, overwrite)
    tf.io.gfile.makedirs(parent)
    _clean_up_after_killed_exports(parent)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    staging = _join(parent, STAGING_PREFIX + tag)
    try:
        write(staging)
        move_into_place(staging, path, _join(parent, f"{RETIRED_PREFIX}{tag}-{os.path.basename(path)}"))
    except BaseException:
        _remove_tree(staging)
        raise
    return path


def _move_tree(source, destination):
    """Move a folder file by file: for filesystems whose rename does not move a folder's
    contents (`ram://`); not atomic there."""
    for folder, _, files in tf.io.gfile.walk(source):
        relative = folder[len(source):].strip("/")
        target = _join(destination, relative) if relative else destination
        tf.io.gfile.makedirs(target)
        for name in files:
            if tf.io.gfile.exists(_join(folder, name)):  # `ram://` lists `assets.extra/x` in `assets` as `.extra`
                tf.io.gfile.rename(_join(folder, name), _join(target, name))
    _remove_tree(source)


def _remove_tree(path):
    """Delete the folder or file `path` (written by this module) if it is there."""
    try:
        if tf.io.gfile.isdir(path):
            tf.io.gfile.rmtree(path)
        elif tf.io.gfile.exists(path):
            tf.io.gfile.remove(path)
    except tf.errors.NotFoundError:  # entries a prefix-listing filesystem (`ram://`) reports but does not hold
        pass


def move_into_place(staging, path, retired):
    """Rename the complete folder `staging` to `path`, moving what is there aside to `retired` first
    and deleting it once the new folder is in place. (On a local disk each move is one rename; a kill
    between the two leaves the old folder in `retired`, from where the next export moves it back.)"""
    move = tf.io.gfile.rename if _is_local(path) else _move_tree
    if tf.io.gfile.exists(path):
        if tf.io.gfile.isdir(path) and not tf.io.gfile.listdir(path):
            _remove_tree(path)  # an empty folder
        elif tf.io.gfile.isdir(path):
            move(path, retired)
        else:
            tf.io.gfile.rename(path, retired)  # a file (overwrite=True)
    move(staging, path)
    _remove_tree(retired)
