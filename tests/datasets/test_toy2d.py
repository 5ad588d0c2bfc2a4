"""2-D densities: samplers, exact log-densities that integrate to one and match the samples."""

import numpy as np
import pytest

from tfnf.datasets import TOY2D_NAMES, eight_gaussian_means, has_exact_log_prob, toy2d, toy2d_log_prob

EXACT = [name for name in TOY2D_NAMES if has_exact_log_prob(name)]


@pytest.mark.parametrize("name", TOY2D_NAMES)
def test_sampler_shape_dtype_and_seeding(name):
    a, b, c = toy2d(name, 500, seed=1), toy2d(name, 500, seed=1), toy2d(name, 500, seed=2)
    assert a.shape == (500, 2) and a.dtype == np.float32 and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert np.abs(a).max() < 8.0


def test_exact_densities_are_the_documented_ones():
    assert EXACT == ["eight_gaussians", "checkerboard"]
    with pytest.raises(ValueError, match="closed-form"):
        toy2d_log_prob("moons", np.zeros((1, 2)))


@pytest.mark.parametrize("name", EXACT)
def test_exact_density_integrates_to_one(name):
    # Cell midpoints of a grid aligned with the checkerboard's cells.
    edges = np.linspace(-6.0, 6.0, 1201)
    mid = (edges[:-1] + edges[1:]) / 2
    xx, yy = np.meshgrid(mid, mid)
    density = np.exp(toy2d_log_prob(name, np.stack([xx.ravel(), yy.ravel()], 1)))
    assert abs(density.sum() * (edges[1] - edges[0]) ** 2 - 1.0) < 0.01


@pytest.mark.parametrize("name", EXACT)
def test_samples_match_the_density(name):
    x = toy2d(name, 40000, seed=3).astype(np.float64)
    assert np.all(np.isfinite(toy2d_log_prob(name, x)))
    edges = np.linspace(-4.0, 4.0, 9)
    counts, _, _ = np.histogram2d(x[:, 0], x[:, 1], bins=[edges, edges])
    mid = np.linspace(-4.0, 4.0, 161)
    centres = (mid[:-1] + mid[1:]) / 2
    expected = np.zeros((8, 8))
    for i in range(8):
        for j in range(8):
            gx, gy = np.meshgrid(centres[20 * i : 20 * i + 20], centres[20 * j : 20 * j + 20], indexing="ij")
            points = np.stack([gx.ravel(), gy.ravel()], 1)
            expected[i, j] = np.exp(toy2d_log_prob(name, points)).sum() * 0.05**2
    frequencies = counts / len(x)
    assert np.abs(frequencies - expected).max() < 0.01


def test_eight_gaussians_components_are_equally_likely():
    x = toy2d("eight_gaussians", 16000, seed=4)
    nearest = np.argmin(((x[:, None] - eight_gaussian_means()[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_allclose(np.bincount(nearest, minlength=8) / len(x), 1 / 8, atol=0.015)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown 2-D dataset"):
        toy2d("spiral", 10)
    with pytest.raises(ValueError, match="shape"):
        toy2d_log_prob("checkerboard", np.zeros((3, 3)))


def test_moons_lie_on_two_half_circles():
    """scikit-learn's moons, scaled by 2 about (0.5, 0.25): unit half circles centred at (0, 0) and (1, 0.5)."""
    points = toy2d("moons", 4000, seed=1).astype(np.float64) / 2.0 + [0.5, 0.25]
    upper = np.abs(np.linalg.norm(points, axis=1) - 1.0)
    lower = np.abs(np.linalg.norm(points - [1.0, 0.5], axis=1) - 1.0)
    assert np.mean(np.minimum(upper, lower)) < 0.06  # noise 0.05 per coordinate before scaling
    assert 0.45 < np.mean(upper < lower) < 0.55  # half the points on each moon


def test_circles_have_radii_three_and_one_and_a_half():
    radius = np.linalg.norm(toy2d("circles", 4000, seed=1), axis=1)
    inner = radius < 2.25
    assert inner.mean() == 0.5
    assert abs(radius[inner].mean() - 1.5) < 0.02 and abs(radius[~inner].mean() - 3.0) < 0.02
