"""A randomised 2-D realnvp is a normalised density."""

import numpy as np
import tensorflow as tf

import tfnf
from tests.bijectors.cases import randomize


def test_realnvp_2d_integrates_to_one():
    flow = tfnf.flows.realnvp((2,), num_couplings=6, hidden_units=(16, 16), dtype=tf.float64)
    randomize(flow, seed=3, scale=0.3)
    axis = np.linspace(-10.0, 10.0, 1001)
    xx, yy = np.meshgrid(axis, axis)
    grid = tf.constant(np.stack([xx.ravel(), yy.ravel()], 1))
    density = np.exp(flow.log_prob(grid).numpy())
    # The flow is not a standard normal: the check is not trivially met by the base.
    base = np.exp(flow.distribution.log_prob(grid).numpy())
    assert np.abs(density - base).max() > 1e-3
    mass = density.sum() * (axis[1] - axis[0]) ** 2
    assert abs(mass - 1.0) < 0.01
