"""ResidualMADE: output i depends on exactly the inputs before i (and on all of a context),
through any number of residual blocks, and starts at zero."""

import numpy as np
import pytest
import tensorflow as tf

from tests.bijectors.cases import randomize
from tests.nets.test_made import dependency
from tfnf.bijectors import MaskedAutoregressive
from tfnf.nets import ResidualMADE


@pytest.mark.parametrize("size, hidden, blocks", [(5, 8, 2), (4, 3, 1), (3, 6, 0), (2, 4, 3)])
def test_outputs_see_exactly_the_earlier_inputs(size, hidden, blocks):
    network = ResidualMADE(size, 3, hidden_size=hidden, num_blocks=blocks, activation="tanh", dtype="float64")
    assert not dependency(network, size, 3).any()  # zero-initialised output layer
    assert np.all(network(tf.ones([2, size], tf.float64)).numpy() == 0)
    bijector = MaskedAutoregressive((size,), network=network, dtype=tf.float64)
    randomize(bijector)
    np.testing.assert_array_equal(dependency(network, size, 3), np.tril(np.ones((size, size)), k=-1) > 0)


def test_every_output_reads_the_whole_context_and_the_blocks_start_as_the_identity():
    network = ResidualMADE(3, 2, hidden_size=6, num_blocks=2, activation="tanh", context_size=2, dtype="float64")
    second_kernels = [k for k in network.kernels if "second" in k.name]
    assert len(second_kernels) == 2 and all(np.all(k.numpy() == 0) for k in second_kernels)
    randomize(MaskedAutoregressive((3,), network=network, context_size=2, dtype=tf.float64))
    x = tf.constant(np.random.default_rng(1).standard_normal((4, 3)))
    context = tf.constant(np.random.default_rng(2).standard_normal((4, 2)))
    with tf.GradientTape() as tape:
        tape.watch(context)
        out = tf.reshape(network(x, context=context), [4, 6])
    jacobian = tape.batch_jacobian(out, context).numpy()  # [4, 3 * 2, 2]
    assert np.all(np.abs(jacobian).max(axis=0) > 0)  # output 0 included
    with pytest.raises(ValueError, match="called without a context"):
        network(x)


def test_weights_are_keras_weights_and_bad_arguments_are_named():
    network = ResidualMADE(4, 2, hidden_size=8, num_blocks=1)
    assert len(network.trainable_weights) == 8  # input, two block layers, output: kernel and bias each
    assert sum(int(np.prod(w.shape)) for w in network.weights) == 4 * 8 + 8 + 2 * (8 * 8 + 8) + 8 * 8 + 8
    with pytest.raises(ValueError, match="hidden_size"):
        ResidualMADE(4, 2, hidden_size=0)
    with pytest.raises(ValueError, match="num_blocks"):
        ResidualMADE(4, 2, num_blocks=-1)
    with pytest.raises(ValueError, match="context_size"):
        ResidualMADE(4, 2, context_size=0)
