"""A randomised 2-D realnvp is a normalised density."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import randomize


@pytest.mark.parametrize("fourier_frequencies, scale", [((), 0.3), ("auto", 0.2)])
def test_realnvp_2d_integrates_to_one(fourier_frequencies, scale):
    keras.utils.set_random_seed(0)  # an initialisation whose mass lies within the grid (checked below)
    flow = tfnf.flows.realnvp(
        (2,), num_couplings=6, hidden_units=(16, 16), fourier_frequencies=fourier_frequencies, dtype=tf.float64,
        actnorm=False,  # the couplings alone: the seed and scale below were chosen for them
    )
    randomize(flow, seed=3, scale=scale)
    axis = np.linspace(-10.0, 10.0, 1001)
    xx, yy = np.meshgrid(axis, axis)
    grid = tf.constant(np.stack([xx.ravel(), yy.ravel()], 1))
    density = np.exp(flow.log_prob(grid).numpy())
    # The flow is not a standard normal: the check is not trivially met by the base.
    base = np.exp(flow.distribution.log_prob(grid).numpy())
    assert np.abs(density - base).max() > 1e-3
    # The grid must hold (nearly) all of the flow's mass for the sum to mean anything.
    samples = flow.sample(100_000, seed=7).numpy()
    assert np.mean(np.all(np.abs(samples) < axis[-1], axis=1)) > 0.999
    mass = density.sum() * (axis[1] - axis[0]) ** 2
    assert abs(mass - 1.0) < 0.01
