"""MAF / IAF: which direction is one network pass and which is D passes."""

import numpy as np
import pytest
import tensorflow as tf

from tests.bijectors.cases import fresh, randomize
from tfnf.bijectors import MaskedAutoregressive


class CountingNetwork:
    """Wraps a bijector's network and counts its calls."""

    def __init__(self, bijector):
        self.calls = 0
        self.inner = bijector._network.call

        def call(*args, **kwargs):
            self.calls += 1
            return self.inner(*args, **kwargs)

        bijector._network.call = call


@pytest.mark.parametrize("conditioned_on, parallel", [("data", "inverse"), ("latent", "forward")])
def test_one_direction_is_one_pass_the_other_is_d_passes(conditioned_on, parallel):
    size = 5
    bijector = MaskedAutoregressive((size,), conditioned_on=conditioned_on, hidden_units=(8,))
    randomize(bijector)
    counter = CountingNetwork(bijector)
    z = tf.constant(np.random.default_rng(0).standard_normal((3, size)), tf.float32)
    x = bijector.forward(z)
    forward_calls, counter.calls = counter.calls, 0
    z_back = bijector.inverse(fresh(x))
    inverse_calls = counter.calls
    np.testing.assert_allclose(z_back.numpy(), z.numpy(), atol=1e-5)
    assert (forward_calls, inverse_calls) == ((1, size) if parallel == "forward" else (size, 1))


@pytest.mark.parametrize("conditioned_on", ["data", "latent"])
def test_sequential_direction_compiles_with_a_dynamic_batch(conditioned_on):
    bijector = MaskedAutoregressive((6,), conditioned_on=conditioned_on, hidden_units=(8,))
    randomize(bijector)
    spec = [tf.TensorSpec([None, 6], tf.float32)]
    forward = tf.function(bijector.forward, input_signature=spec, jit_compile=True)
    inverse = tf.function(bijector.inverse, input_signature=spec, jit_compile=True)
    for batch in (1, 7):
        z = tf.constant(np.random.default_rng(batch).standard_normal((batch, 6)), tf.float32)
        np.testing.assert_allclose(inverse(forward(z)).numpy(), z.numpy(), atol=1e-4)
