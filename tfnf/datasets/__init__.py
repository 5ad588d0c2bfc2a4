"""Data for training and testing flows: bundled digits, patches of bundled photographs, 2-D densities, TFDS images."""

from tfnf.datasets.digits import DIGITS_NUM_BINS, DIGITS_SPLIT_SIZES, digits, digits_split_indices
from tfnf.datasets.natural_patches import (
    NATURAL_PATCH_NUM_BINS,
    NATURAL_PATCH_SIZES,
    PATCH_FORMS,
    natural_patch_positions,
    natural_patch_regions,
    natural_patches,
    patches_of_vectors,
)
from tfnf.datasets.tfds_images import TFDS_IMAGE_NAMES, DatasetUnavailableError, num_bins_for, tfds_images
from tfnf.datasets.toy2d import (
    EIGHT_GAUSSIANS_RADIUS,
    EIGHT_GAUSSIANS_STD,
    TOY2D_NAMES,
    eight_gaussian_means,
    has_exact_log_prob,
    toy2d,
    toy2d_log_prob,
)

__all__ = [
    "DIGITS_NUM_BINS",
    "DIGITS_SPLIT_SIZES",
    "DatasetUnavailableError",
    "EIGHT_GAUSSIANS_RADIUS",
    "NATURAL_PATCH_NUM_BINS",
    "NATURAL_PATCH_SIZES",
    "PATCH_FORMS",
    "EIGHT_GAUSSIANS_STD",
    "TFDS_IMAGE_NAMES",
    "TOY2D_NAMES",
    "digits",
    "digits_split_indices",
    "eight_gaussian_means",
    "has_exact_log_prob",
    "natural_patch_positions",
    "natural_patch_regions",
    "natural_patches",
    "num_bins_for",
    "patches_of_vectors",
    "tfds_images",
    "toy2d",
    "toy2d_log_prob",
]
