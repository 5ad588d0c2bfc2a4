"""`save_model_file`: `FlowModel.save`, refusing a diverged model and replacing a file atomically."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import tensorflow as tf

from tfnf.rules.finite_weights import refuse_nonfinite_weights

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


def ask_to_overwrite(path: str) -> bool:
    """Ask on the terminal whether to replace the file at `path` (as Keras does for `overwrite=False`)."""
    answer = input(f"[WARNING] {path} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    return answer == "y"


def save_model_file(
    keras_save: Callable[..., Any], broken: list[str], filepath: Any, overwrite: bool = True,
    zipped: bool | None = None, **kwargs: Any,
) -> Any:
    """Save through `keras_save` (`keras.Model.save` of the model) unless `broken` (the model's
    non-finite parts, `DataFlow.nonfinite_parts()`) is not empty (`ValueError`).

    A `.keras` / `.h5` file is written beside `filepath` and renamed onto it
    (`tfnf.files.write_file`), so a save that fails (a config that cannot be
    serialised, a full disk) or is killed leaves the previous file as it was; a
    symbolic link at `filepath` is refused (`FileExistsError`: save to the file
    it points to, or to a new one). Other targets (`hf://`, `zipped=False`, other
    suffixes) keep Keras' own handling and errors. `overwrite=False` asks before
    replacing a file."""
    refuse_nonfinite_weights(broken, f"refusing to save {filepath!s}:")
    name = os.fspath(filepath) if isinstance(filepath, (str, os.PathLike)) else None
    if not isinstance(name, str) or zipped is False or name.startswith("hf://") or not name.endswith(KERAS_SUFFIXES):
        return keras_save(filepath, overwrite=overwrite, zipped=zipped, **kwargs)
    from tfnf.files import write_file  # files sit beside the model, imported on first save

    if not overwrite and tf.io.gfile.exists(name) and not ask_to_overwrite(name):
        return None
    write_file(name, lambda temporary: keras_save(temporary, overwrite=True, zipped=zipped, **kwargs))
    return None
