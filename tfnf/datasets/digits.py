"""`digits`: scikit-learn's bundled 8x8 handwritten digits as 17-level images."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tfnf.datasets.in_memory import as_dataset

if TYPE_CHECKING:
    import tensorflow as tf

#: Grey levels of the digits: integer pixels in `[0, 16]`.
DIGITS_NUM_BINS: int = 17
DIGITS_SPLIT_SEED = 0
#: Images per split (`"all"` is their union, 1797).
DIGITS_SPLIT_SIZES: dict[str, int] = {"train": 1257, "validation": 270, "test": 270}
SPLITS = ("train", "validation", "test", "all")


def _all_images() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().images[..., None].astype(np.float32)


def _all_labels() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().target.astype(np.int32)


def digits_split_indices(split: str) -> np.ndarray:
    """Row indices `[N]` into scikit-learn's 1797 digits for `split`.

    The split is fixed: a permutation with `np.random.default_rng(0)`; the first
    1257 rows are `train`, the next 270 `validation`, the last 270 `test`.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(sum(DIGITS_SPLIT_SIZES.values()))
    if split == "all":
        return np.sort(order)
    start = 0
    for name, size in DIGITS_SPLIT_SIZES.items():
        if name == split:
            return order[start : start + size]
        start += size
    raise AssertionError("unreachable")


def digits(
    split: str = "train",
    as_numpy: bool = False,
    batch_size: int | None = None,
    shuffle: bool | None = None,
    seed: int = 0,
    with_labels: bool = False,
) -> tf.data.Dataset | np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The bundled digits (offline), `[N, 8, 8, 1]` float32 integer pixels in `[0, 16]`.

    17 grey levels (`DIGITS_NUM_BINS`); labels are dropped unless
    `with_labels=True`, which gives `(images, labels)` with int32 labels
    `[N]` in `0..9` (a dataset of `(image, label)` pairs), as a class-conditional
    `FlowModel` trains on. Split sizes: train 1257, validation 270, test 270
    (`all`: 1797), disjoint and deterministic.

    Args:
      split: `"train"`, `"validation"`, `"test"` or `"all"`.
      as_numpy: return the NumPy array instead of a `tf.data.Dataset`.
      batch_size: batch the dataset (None: one image per element).
      shuffle: shuffle the dataset every epoch (default: only for `train`).
      seed: shuffling seed.
      with_labels: also return the digit labels.
    """
    indices = digits_split_indices(split)
    images = _all_images()[indices]
    labels = _all_labels()[indices] if with_labels else None
    if as_numpy:
        return (images, labels) if with_labels else images
    return as_dataset(
        (images, labels) if with_labels else images,
        batch_size=batch_size, shuffle=split == "train" if shuffle is None else shuffle, seed=seed,
    )
