"""`natural_patches`: patches of real photographs shipped with scikit-learn, offline.

scikit-learn bundles two colour photographs (`load_sample_images()`: `china.jpg`
and `flower.jpg`, 427 x 640 x 3, uint8). They are cut into a grid of 7 x 10
disjoint regions of 61 x 64 pixels each (140 regions in all); a fixed
permutation (`np.random.default_rng(0)`) gives 98 regions to `train`, 21 to
`validation` and 21 to `test`. Every patch lies inside one region, so no pixel
of a test patch is in a training or validation patch. Patch positions inside
the regions of a split are drawn with a fixed seed, so every call returns the
same patches.

Two forms:

* `"vectors"`: the BSDS300 recipe of the density-estimation literature, on
  these photographs. Grey 8 x 8 patches (luminance `0.299 R + 0.587 G +
  0.114 B`, rounded to the 256 integer levels), dequantised with uniform noise
  `u` in `[0, 1)` drawn once with a fixed seed and scaled to `[0, 1]` as
  `(grey + u) / 256`; each patch's mean over its 64 pixels is subtracted and
  the last (bottom-right) pixel dropped, since it is minus the sum of the
  others: float32 vectors `[N, 63]`, values in `(-1, 1)`. Continuous data
  (`num_bins=None`).
* `"images"`: colour 32 x 32 x 3 patches at 256 levels, float32 integer pixels
  in `[0, 255]` (`num_bins=256`), as image flows train on.

Sizes (`NATURAL_PATCH_SIZES`): vectors 100,000 / 10,000 / 20,000 and images
10,000 / 1,000 / 2,000 (train / validation / test). Patches overlap within a
split, as any set of patches cut from a few photographs does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tfnf.datasets.in_memory import as_dataset

if TYPE_CHECKING:
    import tensorflow as tf

#: The forms `natural_patches` takes: 63-D vectors or 32x32x3 images.
PATCH_FORMS: tuple[str, ...] = ("vectors", "images")
#: Patches per form and split.
NATURAL_PATCH_SIZES: dict[str, dict[str, int]] = {
    "vectors": {"train": 100_000, "validation": 10_000, "test": 20_000},
    "images": {"train": 10_000, "validation": 1_000, "test": 2_000},
}
#: Pixel levels per form (None: continuous data).
NATURAL_PATCH_NUM_BINS: dict[str, int | None] = {"vectors": None, "images": 256}
PATCH_SIDES = {"vectors": 8, "images": 32}
REGION_GRID = (7, 10)  # rows x columns of regions in each 427 x 640 photograph
REGION_SIZE = (61, 64)
REGION_SPLIT_SIZES = {"train": 98, "validation": 21, "test": 21}
_SPLITS = tuple(REGION_SPLIT_SIZES)
_SPLIT_SEEDS = {"train": 1, "validation": 2, "test": 3}
_FORM_SEEDS = {"vectors": 10, "images": 20}
LUMINANCE = (0.299, 0.587, 0.114)


def sample_photographs() -> np.ndarray:
    """scikit-learn's two sample photographs, `[2, 427, 640, 3]` uint8."""
    from sklearn.datasets import load_sample_images

    return np.stack(load_sample_images().images)


def _check(split: str, form: str) -> None:
    if form not in PATCH_FORMS:
        raise ValueError(f"form must be one of {PATCH_FORMS}, got {form!r}")
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")


def natural_patch_regions(split: str) -> np.ndarray:
    """The regions of `split` as rows `(photo, top, left)`, int `[num_regions, 3]`;
    each region is `REGION_SIZE` (61 x 64) pixels."""
    _check(split, "vectors")
    rows, columns = REGION_GRID
    every = np.array([(p, r * REGION_SIZE[0], c * REGION_SIZE[1]) for p in range(2) for r in range(rows) for c in range(columns)])
    order = np.random.default_rng(0).permutation(len(every))
    start = 0
    for name, size in REGION_SPLIT_SIZES.items():
        if name == split:
            return every[np.sort(order[start : start + size])]
        start += size
    raise AssertionError("unreachable")


def natural_patch_positions(split: str, form: str = "vectors") -> np.ndarray:
    """Where the patches of `split` lie: rows `(photo, top, left)`, int `[N, 3]`; each patch is
    `PATCH_SIDES[form]` pixels square and inside one region of the split."""
    _check(split, form)
    side, size = PATCH_SIDES[form], NATURAL_PATCH_SIZES[form][split]
    rng = np.random.default_rng([_FORM_SEEDS[form], _SPLIT_SEEDS[split]])
    regions = natural_patch_regions(split)[rng.integers(0, REGION_SPLIT_SIZES[split], size)]
    offsets = np.stack([rng.integers(0, REGION_SIZE[0] - side + 1, size), rng.integers(0, REGION_SIZE[1] - side + 1, size)], -1)
    return np.concatenate([regions[:, :1], regions[:, 1:] + offsets], axis=-1)


def _cut(images: np.ndarray, positions: np.ndarray, side: int) -> np.ndarray:
    """Patches `[N, side, side, channels]` of `images: [photos, H, W, channels]` at `positions`."""
    rows = positions[:, 1, None] + np.arange(side)
    columns = positions[:, 2, None] + np.arange(side)
    return images[positions[:, 0, None, None], rows[:, :, None], columns[:, None, :]]


def grey_levels(photographs: np.ndarray) -> np.ndarray:
    """Integer luminance `[..., H, W, 1]` in `[0, 255]` (float64) of RGB `[..., H, W, 3]` uint8."""
    grey = np.rint(photographs.astype(np.float64) @ np.asarray(LUMINANCE))
    return np.clip(grey, 0, 255)[..., None]


def bsds300_vectors(grey_patches: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """The BSDS300 recipe: `(grey + noise) / 256`, minus each patch's mean, last pixel dropped.

    `grey_patches: [N, 8, 8, 1]` integer levels, `noise: [N, 8, 8, 1]` in `[0, 1)` -> `[N, 63]` float32."""
    flat = ((grey_patches + noise) / 256.0).reshape(len(grey_patches), -1)
    centred = flat - flat.mean(axis=1, keepdims=True)
    return centred[:, :-1].astype(np.float32)


def patches_of_vectors(vectors: np.ndarray) -> np.ndarray:
    """Undo the last step of the vectors' recipe: `[N, 63]` -> grey patches `[N, 8, 8, 1]`.

    Each patch's mean was subtracted before its last (bottom-right) pixel was
    dropped, so its 64 centred pixels sum to zero and the dropped one is minus
    the sum of the other 63. The result is the mean-free patch (values about
    `(-1, 1)`, float64): its mean level is not recoverable. Works for model
    samples as for data.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    side = PATCH_SIDES["vectors"]
    if vectors.ndim != 2 or vectors.shape[1] != side * side - 1:
        raise ValueError(f"vectors must have shape [N, {side * side - 1}], got {list(vectors.shape)}")
    last = -vectors.sum(axis=1, keepdims=True)
    return np.concatenate([vectors, last], axis=1).reshape(-1, side, side, 1)


def natural_patches(
    split: str = "train",
    form: str = "vectors",
    as_numpy: bool = False,
    batch_size: int | None = None,
    shuffle: bool | None = None,
    seed: int = 0,
) -> np.ndarray | tf.data.Dataset:
    """Patches of scikit-learn's sample photographs (offline; see the module docstring).

    Returns `[N, 63]` float32 vectors (`form="vectors"`) or `[N, 32, 32, 3]`
    float32 integer pixels in `[0, 255]` (`form="images"`), as a NumPy array
    (`as_numpy=True`) or a `tf.data.Dataset` of single patches or of batches.

    Args:
      split: `"train"`, `"validation"` or `"test"` (disjoint regions of the photographs).
      form: `"vectors"` (63-D, BSDS300 recipe) or `"images"` (32x32x3 colour).
      as_numpy: return the NumPy array instead of a `tf.data.Dataset`.
      batch_size: batch the dataset (None: one patch per element).
      shuffle: shuffle the dataset every epoch (default: only for `train`).
      seed: shuffling seed (the patches themselves are fixed).
    """
    _check(split, form)
    positions = natural_patch_positions(split, form)
    photographs = sample_photographs()
    if form == "vectors":
        grey = _cut(grey_levels(photographs), positions, PATCH_SIDES[form])
        noise = np.random.default_rng([_FORM_SEEDS[form], _SPLIT_SEEDS[split], 1]).uniform(size=grey.shape)
        patches = bsds300_vectors(grey, noise)
    else:
        patches = _cut(photographs, positions, PATCH_SIDES[form]).astype(np.float32)
    if as_numpy:
        return patches
    return as_dataset(patches, batch_size=batch_size, shuffle=split == "train" if shuffle is None else shuffle, seed=seed)
