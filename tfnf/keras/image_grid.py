"""Arranging image batches into grids and writing them as PNG files."""

from __future__ import annotations

import math
import os
from typing import Sequence

import numpy as np

from tfnf.annotations import ArrayLike
from tfnf.files import save_figure


def image_grid(images: ArrayLike, num_bins: int | None = None, columns: int | None = None, padding: int = 1) -> np.ndarray:
    """Tile `images: [N, H, W, C]` (C = 1 or 3) into one `[rows*H', cols*W', C]` array in [0, 1].

    With `num_bins` pixel values are scaled by `1 / (num_bins - 1)`; otherwise
    each grid is min-max scaled. Missing cells stay white.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must have shape [N, H, W, 1 or 3], got {list(images.shape)}")
    if num_bins:
        images = np.clip(images / (num_bins - 1), 0.0, 1.0)
    else:
        low, high = images.min(), images.max()
        images = (images - low) / max(high - low, 1e-12)
    n, h, w, c = images.shape
    columns = columns or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / columns))
    grid = np.ones((rows * (h + padding) + padding, columns * (w + padding) + padding, c))
    for index, image in enumerate(images):
        r, col = divmod(index, columns)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top : top + h, left : left + w] = image
    return grid


def save_image_grids(path: str | os.PathLike, grids: Sequence[np.ndarray], titles: Sequence[str | None] | None = None) -> None:
    """Write one or more grids (from `image_grid`) side by side into a PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grids = list(grids)
    titles = list(titles) if titles else [None] * len(grids)
    aspect = max(grid.shape[0] / grid.shape[1] for grid in grids)  # height / width of the tallest grid
    title_room = 0.3 if any(titles) else 0.0
    fig, axes = plt.subplots(1, len(grids), figsize=(4 * len(grids), 4 * aspect + title_room), squeeze=False)
    for ax, grid, title in zip(axes[0], grids, titles):
        if grid.shape[-1] == 1:
            ax.imshow(grid[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            ax.imshow(grid, interpolation="nearest")
        ax.set_axis_off()
        if title:
            ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path
