"""MADE: output i depends on exactly the inputs before i, and starts at zero."""

import numpy as np
import pytest
import tensorflow as tf

from tests.bijectors.cases import randomize
from tfnf.bijectors import MaskedAutoregressive
from tfnf.nets import MADE


def dependency(network, size, num_params):
    """`d[i, j]`: whether any parameter of output `i` moves with input `j` (max |Jacobian| > 0)."""
    x = tf.constant(np.random.default_rng(0).standard_normal((4, size)), tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.reshape(network(x), [4, size * num_params])
    jacobian = tape.batch_jacobian(out, x).numpy().reshape(4, size, num_params, size)
    return np.abs(jacobian).max(axis=(0, 2)) > 0


@pytest.mark.parametrize("size, hidden", [(5, (8, 8)), (4, (3,)), (2, (4,))])
def test_outputs_see_exactly_the_earlier_inputs(size, hidden):
    network = MADE(size, 3, hidden_units=hidden, activation="tanh", dtype="float64")  # tanh: no dead units to hide a link
    assert not dependency(network, size, 3).any()  # zero-initialised output layer
    assert np.all(network(tf.ones([2, size], tf.float64)).numpy() == 0)
    bijector = MaskedAutoregressive((size,), network=network, dtype=tf.float64)
    randomize(bijector)
    np.testing.assert_array_equal(dependency(network, size, 3), np.tril(np.ones((size, size)), k=-1) > 0)


def test_one_element_has_no_inputs_to_see():
    network = MADE(1, 2, hidden_units=(4,))
    assert network(tf.ones([3, 1])).shape == (3, 1, 2)


def test_weights_are_keras_weights_and_masks_are_not():
    network = MADE(4, 2, hidden_units=(8, 8))
    assert len(network.trainable_weights) == 6
    assert sum(int(np.prod(w.shape)) for w in network.weights) == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 8 + 8


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="hidden_units"):
        MADE(4, 2, hidden_units=(0,))
    with pytest.raises(ValueError, match="conditioned_on"):
        MaskedAutoregressive((4,), conditioned_on="both")
    with pytest.raises(ValueError, match="event_shape"):
        MaskedAutoregressive((4, 4, 1))
