"""Claims: the short-named sibling entries of one write in progress, and the clean-up after a killed one.

A write into a folder (a file or a whole folder replacing `target`) works on
siblings of the target whose names are short whatever the target's name:

* `.tfnf-export-<tag>` (a folder) or `.tfnf-write-<tag><suffix>` (a file):
  the new content being written;
* `.tfnf-retired-<tag>`: the previous folder, moved aside while the new one is
  renamed into place;
* `.tfnf-lock-<tag>`: a small JSON record naming the target and those two
  siblings, locked with `flock` for as long as the write runs.

A kill releases the lock (the kernel drops it with the process), so the next
write into the same folder knows, without trusting process ids (which are
reused), that nobody works on a claim whose lock it can take: it removes the
claim's new content and moves a stranded previous folder back to its name.
Entries without a lock record are never touched. Locks are used on local
paths only; other filesystems (`gs://`, `ram://`) get the same names and
clean-up on failure, but no clean-up after a kill.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import uuid
from typing import Literal

try:
    import fcntl
except ImportError:  # no flock: claims are never judged stale
    fcntl = None

import tensorflow as tf

STAGING_PREFIX = ".tfnf-export-"
FILE_PREFIX = ".tfnf-write-"
RETIRED_PREFIX = ".tfnf-retired-"
LOCK_PREFIX = ".tfnf-lock-"
_LOCK_NAME = re.compile(r"^\.tfnf-lock-[0-9a-f]{12}$")
_LONGEST_SUFFIX = 24  # `.keras`, `.png`, `.npy`, `.json`; anything longer is left off a staging name


def is_local(path: str) -> bool:
    """True for a path on the local disk (not `gs://...`, `ram://...`)."""
    return "://" not in path


def join(parent: str, name: str) -> str:
    """`parent/name` for local and `tf.io.gfile` paths alike."""
    return os.path.join(parent, name) if is_local(parent) else f"{parent.rstrip('/')}/{name}"


def remove(path: str) -> None:
    """Delete the folder or file `path` (an entry this package wrote) if it is there; a link itself, never its target."""
    if is_local(path):
        if os.path.islink(path) or os.path.isfile(path):
            os.remove(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)  # deletes links inside, never what they point to
        return
    try:
        if tf.io.gfile.isdir(path):
            tf.io.gfile.rmtree(path)
        elif tf.io.gfile.exists(path):
            tf.io.gfile.remove(path)
    except tf.errors.NotFoundError:  # entries a prefix-listing filesystem (`ram://`) reports but does not hold
        pass


# errors of `os.link` on a filesystem without hard links (or across devices)
_NO_HARD_LINKS = {errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


def rename_file_into_place(staging: str, target: str, overwrite: bool) -> None:
    """Rename the file `staging` (this package's) onto `target`.

    Without `overwrite` nothing at `target` is ever replaced, not even an entry that
    appeared there after the caller checked: on a local disk `staging` is hard-linked to
    `target` first, which fails if anything (a file, a link, a folder) is there. With
    `overwrite` a file at `target` is replaced, never a symbolic link (checked at the
    rename itself, as well as by the caller before the write). Raises `FileExistsError`
    and leaves `target` as it is."""
    if not is_local(target):
        tf.io.gfile.rename(staging, target, overwrite=overwrite)
        return
    if not overwrite:
        try:
            os.link(staging, target)
        except FileExistsError:
            raise FileExistsError(
                f"refusing to write {target!r}: an entry appeared there while the file was written; it is left as it was"
            ) from None
        except OSError as error:
            if error.errno not in _NO_HARD_LINKS:
                raise
        else:
            os.remove(staging)
            return
        if os.path.lexists(target):  # no hard links here: the narrowest check left
            raise FileExistsError(f"refusing to write {target!r}: an entry appeared there while the file was written")
    elif os.path.islink(target):
        raise FileExistsError(
            f"refusing to write {target!r}: it became a symbolic link while the file was written, and tfnf never "
            "replaces a link"
        )
    os.replace(staging, target)


class WriteClaim:
    """The sibling names of one write to `target`, locked while the write runs (see the module docstring).

    Use as a context manager: entering cleans up claims left by killed writes
    in the same folder and takes the lock; leaving removes `staging` and
    `retired` if they are still there (a failed write) and the lock.
    """

    def __init__(self, target: str, folder: bool = True) -> None:
        self.target = target
        self.parent = os.path.dirname(target) if is_local(target) else target.rstrip("/").rsplit("/", 1)[0]
        tag = uuid.uuid4().hex[:12]
        suffix = os.path.splitext(target)[1]
        if folder:
            self.staging = join(self.parent, STAGING_PREFIX + tag)
        else:  # a file keeps its suffix: Keras, NumPy and Matplotlib read the format from it
            self.staging = join(self.parent, FILE_PREFIX + tag + (suffix if len(suffix) <= _LONGEST_SUFFIX else ""))
        self.retired = join(self.parent, RETIRED_PREFIX + tag)
        self.lock_path = join(self.parent, LOCK_PREFIX + tag)
        self._lock_fd: int | None = None

    def __enter__(self) -> WriteClaim:
        if is_local(self.target) and fcntl is not None:
            clean_up_after_killed_writes(self.parent)
            self._lock_fd = _create_locked_record(self.lock_path, {
                "target": os.path.basename(self.target),
                "staging": os.path.basename(self.staging),
                "retired": os.path.basename(self.retired),
                "pid": os.getpid(),
            })
        return self

    def __exit__(self, *exc_info: object) -> Literal[False]:
        try:
            remove(self.staging)
            remove(self.retired)
        finally:
            if self._lock_fd is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.lock_path)
                os.close(self._lock_fd)  # releases the lock
                self._lock_fd = None
        return False


def _create_locked_record(path: str, record: dict[str, object]) -> int:
    """Write `record` to `path` as a file that is locked from the moment it has that name; return its descriptor."""
    fresh = path + ".new"  # never looked at by the clean-up: a record gets its name only once locked
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, json.dumps(record).encode())
        os.rename(fresh, path)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.remove(fresh)
        raise
    return fd


def clean_up_after_killed_writes(parent: str) -> None:
    """Finish the claims in `parent` whose lock nobody holds: remove their new content, move a previous
    folder that was caught between the two renames back to its name, then remove the record."""
    if not os.path.isdir(parent):
        return
    for name in sorted(os.listdir(parent)):
        if not _LOCK_NAME.match(name):
            continue
        path = os.path.join(parent, name)
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        except OSError:  # gone meanwhile (another clean-up), or a link: not a record of ours
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.ENOLCK, errno.EOPNOTSUPP):
                    raise
                continue  # a write in progress, or a filesystem without locks: leave it
            if not os.path.exists(path):  # finished by another clean-up between our open and our lock
                continue
            _finish_stale_claim(parent, path)
        finally:
            os.close(fd)


def _finish_stale_claim(parent: str, record_path: str) -> None:
    with open(record_path, encoding="utf-8") as handle:
        try:
            record = json.load(handle)
        except ValueError:
            record = {}
    names = {key: record.get(key) for key in ("target", "staging", "retired")}
    if all(isinstance(value, str) and value and os.sep not in value and value not in (".", "..") for value in names.values()):
        target, staging, retired = (os.path.join(parent, names[key]) for key in ("target", "staging", "retired"))
        if os.path.isdir(retired) and not os.path.islink(retired) and not os.path.lexists(target):
            os.rename(retired, target)  # killed between moving the old folder aside and the new one in
        for entry in (staging, retired):
            if os.path.basename(entry).startswith((STAGING_PREFIX, FILE_PREFIX, RETIRED_PREFIX)):
                remove(entry)
    os.remove(record_path)
