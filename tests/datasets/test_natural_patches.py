"""Patches of scikit-learn's photographs: disjoint splits, the BSDS300 recipe, both forms train."""

import keras
import numpy as np
import pytest

import tfnf
from tfnf.datasets.natural_patches import (
    NATURAL_PATCH_SIZES,
    PATCH_SIDES,
    REGION_SIZE,
    bsds300_vectors,
    grey_levels,
    natural_patch_positions,
    natural_patch_regions,
    natural_patches,
    sample_photographs,
)

SPLITS = ("train", "validation", "test")


def coverage(split, form):
    """Which pixels of the two photographs the patches of `split` touch, bool `[2, 427, 640]`."""
    mask = np.zeros((2, 427, 640), bool)
    side = PATCH_SIDES[form]
    for photo, top, left in natural_patch_positions(split, form):
        mask[photo, top : top + side, left : left + side] = True
    return mask


@pytest.mark.parametrize("form", ["vectors", "images"])
def test_no_pixel_of_one_split_is_in_another(form):
    masks = {split: coverage(split, form) for split in SPLITS}
    for a, b in (("train", "validation"), ("train", "test"), ("validation", "test")):
        assert not np.any(masks[a] & masks[b]), (form, a, b)
    assert all(mask.sum() > 0 for mask in masks.values())


def test_regions_tile_the_photographs_without_overlap():
    count = np.zeros((2, 427, 640), int)
    for split in SPLITS:
        for photo, top, left in natural_patch_regions(split):
            count[photo, top : top + REGION_SIZE[0], left : left + REGION_SIZE[1]] += 1
    assert count.max() == 1 and count.min() == 1  # every pixel in exactly one region


@pytest.mark.parametrize("form", ["vectors", "images"])
def test_every_patch_lies_inside_one_region_of_its_split(form):
    side = PATCH_SIDES[form]
    for split in SPLITS:
        regions = natural_patch_regions(split)
        positions = natural_patch_positions(split, form)
        inside = (
            (positions[:, None, 0] == regions[None, :, 0])
            & (positions[:, None, 1] >= regions[None, :, 1])
            & (positions[:, None, 1] + side <= regions[None, :, 1] + REGION_SIZE[0])
            & (positions[:, None, 2] >= regions[None, :, 2])
            & (positions[:, None, 2] + side <= regions[None, :, 2] + REGION_SIZE[1])
        )
        assert np.all(inside.sum(axis=1) == 1)


def test_vector_shapes_dtypes_ranges_and_determinism():
    for split in SPLITS:
        x = natural_patches(split, "vectors", as_numpy=True)
        assert x.shape == (NATURAL_PATCH_SIZES["vectors"][split], 63) and x.dtype == np.float32
        assert np.all(np.abs(x) < 1) and np.all(np.isfinite(x))
    np.testing.assert_array_equal(natural_patches("test", "vectors", as_numpy=True), x)


def test_image_shapes_dtypes_and_integer_pixels():
    for split in SPLITS:
        x = natural_patches(split, "images", as_numpy=True)
        assert x.shape == (NATURAL_PATCH_SIZES["images"][split], 32, 32, 3) and x.dtype == np.float32
        assert x.min() >= 0 and x.max() <= 255 and np.all(x == np.round(x))
        assert len(np.unique(x)) > 200  # real photographs use most of the 256 levels


def test_image_patches_are_the_photograph_pixels_at_their_positions():
    photographs = sample_photographs()
    x = natural_patches("validation", "images", as_numpy=True)
    for i, (photo, top, left) in enumerate(natural_patch_positions("validation", "images")[:20]):
        np.testing.assert_array_equal(x[i], photographs[photo, top : top + 32, left : left + 32])


def test_vectors_follow_the_bsds300_recipe():
    """Restore the dropped pixel (the patch sums to 0), undo the scaling: what is left of each
    pixel is its dequantisation noise minus the patch's mean noise, so it spans less than 1."""
    x = natural_patches("validation", "vectors", as_numpy=True).astype(np.float64)
    photographs = sample_photographs()
    grey = grey_levels(photographs)[..., 0]
    full = np.concatenate([x, -x.sum(axis=1, keepdims=True)], axis=1)
    positions = natural_patch_positions("validation", "vectors")[:500]
    levels = np.stack([grey[p, t : t + 8, l : l + 8].reshape(-1) for p, t, l in positions])
    noise = 256 * full[:500] - levels + levels.mean(axis=1, keepdims=True)  # u - mean(u) per patch
    assert np.all(noise.max(axis=1) - noise.min(axis=1) < 1 + 1e-3)
    np.testing.assert_allclose(noise.mean(axis=1), 0, atol=1e-3)
    assert 0.2 < noise.std() < 0.35  # uniform noise: std 1/sqrt(12) ~ 0.29, minus its patch mean


def test_bsds300_vectors_against_the_recipe_written_out():
    rng = np.random.default_rng(3)
    grey = rng.integers(0, 256, (4, 8, 8, 1)).astype(np.float64)
    noise = rng.uniform(size=grey.shape)
    scaled = ((grey + noise) / 256).reshape(4, 64)
    expected = np.stack([row - row.mean() for row in scaled])[:, :63]
    np.testing.assert_allclose(bsds300_vectors(grey, noise), expected, rtol=1e-6, atol=1e-7)


def test_grey_levels_are_rounded_luminance():
    pixel = np.array([[[[200, 100, 50]]]], np.uint8)
    assert grey_levels(pixel)[0, 0, 0, 0] == np.rint(0.299 * 200 + 0.587 * 100 + 0.114 * 50)


def test_dataset_form_matches_the_arrays():
    arrays = natural_patches("validation", "vectors", as_numpy=True)
    batches = list(natural_patches("validation", "vectors", batch_size=4096).as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate(batches), arrays)
    shuffled = next(iter(natural_patches("train", "images", batch_size=8)))
    assert tuple(shuffled.shape) == (8, 32, 32, 3)


def test_bad_split_or_form_is_a_clear_error():
    with pytest.raises(ValueError, match="form must be one of"):
        natural_patches("train", "grey")
    with pytest.raises(ValueError, match="split must be one of"):
        natural_patches("all", "vectors")


def test_a_tiny_vector_flow_learns_the_63_d_patches():
    x = natural_patches("validation", "vectors", as_numpy=True)[:2048]
    model = tfnf.FlowModel(tfnf.flows.maf((63,), num_layers=2, hidden_units=(32,)))
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    before = model.evaluate(x, batch_size=512, verbose=0, return_dict=True)["loss"]
    model.fit(x, batch_size=128, epochs=3, verbose=0)
    after = model.evaluate(x, batch_size=512, verbose=0, return_dict=True)["loss"]
    assert np.isfinite(after) and after < before - 20  # nats per 63-D patch


def test_a_tiny_image_flow_trains_on_the_colour_patches():
    x = natural_patches("validation", "images", as_numpy=True)[:64]
    flow = tfnf.flows.glow((32, 32, 3), num_levels=1, num_steps=1, hidden_channels=8, dropout=0.0)
    model = tfnf.FlowModel(flow, num_bins=256)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False, steps_per_execution=1)
    history = model.fit(x, batch_size=16, epochs=6, verbose=0).history["bits_per_dim"]
    assert np.all(np.isfinite(history)) and history[-1] < history[0] - 0.5
    assert 0 < history[-1] < 8  # below the 8 bits/dim of uniform pixels


def test_patches_of_vectors_restore_the_centred_patch():
    rng = np.random.default_rng(5)
    grey = rng.integers(0, 256, size=(7, 8, 8, 1)).astype(np.float64)
    noise = rng.uniform(size=grey.shape)
    flat = ((grey + noise) / 256.0).reshape(7, 64)
    centred = (flat - flat.mean(axis=1, keepdims=True)).reshape(7, 8, 8, 1)
    restored = tfnf.datasets.patches_of_vectors(bsds300_vectors(grey, noise))
    assert restored.shape == (7, 8, 8, 1)
    np.testing.assert_allclose(restored, centred, rtol=0, atol=1e-6)  # float32 vectors
    with pytest.raises(ValueError, match=r"vectors must have shape \[N, 63\]"):
        tfnf.datasets.patches_of_vectors(np.zeros((3, 64)))
