"""Suite-wide fixtures: every test starts from the same random state."""

import keras
import pytest


@pytest.fixture(autouse=True)
def _seeded_randomness():
    """Seed Python, NumPy, TensorFlow and Keras so initial weights repeat from run to run."""
    keras.utils.set_random_seed(1234)
    yield
