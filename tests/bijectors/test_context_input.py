"""`flat_context`: one check and flattening of a conditional bijector's context for couplings and MAF/IAF layers."""

import numpy as np
import pytest
import tensorflow as tf

from tfnf.bijectors import AffineCoupling, MaskedAutoregressive
from tfnf.bijectors.context_input import flat_context

OWNER = ("coupling0", "coupling")


def test_a_shared_context_is_broadcast_to_one_row_per_example():
    context = flat_context([1.0, 2.0], 2, tf.constant([2, 3]), tf.float64, OWNER)
    assert context.dtype == tf.float64 and context.shape == [6, 2]
    np.testing.assert_array_equal(context.numpy(), np.tile([1.0, 2.0], (6, 1)))
    assert flat_context(None, None, tf.constant([4]), tf.float32, OWNER) is None


@pytest.mark.parametrize("given, size, error, match", [
    ([1.0], None, ValueError, "coupling0 is an unconditional coupling"),
    (None, 2, ValueError, "no conditional_input"),
    ([1.0, 2.0, 3.0], 2, ValueError, r"shape \[batch, 2\]"),
    (["a", "b"], 2, TypeError, "real numbers"),
])
def test_mistakes_are_named(given, size, error, match):
    with pytest.raises(error, match=match):
        flat_context(given, size, tf.constant([1]), tf.float32, OWNER)


@pytest.mark.parametrize("bijector", [
    AffineCoupling((4,), hidden_units=(8,), context_size=3, name="c"),
    MaskedAutoregressive((4,), hidden_units=(8,), context_size=3, name="m"),
], ids=["coupling", "autoregressive"])
def test_couplings_and_autoregressive_layers_share_it(bijector):
    with pytest.raises(ValueError, match="no conditional_input"):
        bijector.forward(tf.zeros([2, 4]))
    assert bijector.forward(tf.zeros([2, 4]), conditional_input=tf.zeros([3])).shape == [2, 4]
