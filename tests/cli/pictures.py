"""Checks that a written picture shows something: pixel spread and number of colours."""

import matplotlib.image
import numpy as np


def assert_not_blank(path, min_std=0.05, min_colours=20):
    """`path` is a PNG whose pixels vary (std over all channels > `min_std`, on a 0..1 scale)
    and take more than `min_colours` distinct RGB values."""
    pixels = matplotlib.image.imread(str(path))
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50, pixels.shape
    rgb = pixels[..., :3].reshape(-1, 3)
    assert rgb.std() > min_std, f"{path}: pixel std {rgb.std():.4f}"
    colours = len(np.unique(np.round(rgb * 255).astype(np.uint8), axis=0))
    assert colours > min_colours, f"{path}: {colours} distinct colours"


def coloured_pixels(path, min_saturation=0.25):
    """How many pixels of the PNG at `path` are coloured (max - min of RGB above
    `min_saturation`): plotted data, not the black, white and grey of axes and text."""
    rgb = matplotlib.image.imread(str(path))[..., :3]
    return int(((rgb.max(axis=-1) - rgb.min(axis=-1)) > min_saturation).sum())
