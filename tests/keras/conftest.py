"""Shared data and tiny models for the Keras tests."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import tfnf


@pytest.fixture(scope="session")
def digit_images():
    """The 1797 scikit-learn digits as `[N, 8, 8, 1]` float32 pixels in 0..16."""
    return load_digits().images[..., None].astype("float32")


@pytest.fixture(scope="session")
def moons():
    """2-D two-moons-like points, `[512, 2]` float32."""
    rng = np.random.default_rng(0)
    t = rng.uniform(0, np.pi, 512)
    upper = rng.uniform(size=512) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    return (np.stack([x, y], 1) + 0.05 * rng.standard_normal((512, 2))).astype("float32")


@pytest.fixture(scope="session")
def make_glow():
    """Factory of small glows over 8x8x1 images."""

    def build(**kwargs):
        config = dict(num_levels=2, num_steps=1, hidden_channels=8, seed=0)
        config.update(kwargs)
        return tfnf.flows.glow((8, 8, 1), **config)

    return build


@pytest.fixture(scope="session")
def make_realnvp():
    """Factory of small 2-D realnvps."""
    return lambda: tfnf.flows.realnvp((2,), num_couplings=4, hidden_units=(16, 16))
