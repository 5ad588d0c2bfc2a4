"""`PackedConv2D` is Keras' `Conv2D` with its kernel and bias stored in one variable."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfnf.nets.packed_conv2d import PackedConv2D


def packed_and_reference(kernel_size, channels_in, filters, seed):
    """A `PackedConv2D` with random weights and a Keras `Conv2D` holding the same kernel and bias."""
    packed = PackedConv2D(filters, kernel_size, activation="tanh", dtype="float64")
    packed.build((None, 5, 5, channels_in))
    rng = np.random.default_rng(seed)
    packed.kernel_and_bias.assign(rng.normal(size=packed.kernel_and_bias.shape))
    reference = keras.layers.Conv2D(filters, kernel_size, padding="same", activation="tanh", dtype="float64")
    reference.build((None, 5, 5, channels_in))
    values = packed.kernel_and_bias.numpy()
    reference.kernel.assign(values[:-1].reshape(kernel_size, kernel_size, channels_in, filters))
    reference.bias.assign(values[-1])
    return packed, reference


@pytest.mark.parametrize("kernel_size, channels_in, filters", [(1, 3, 4), (3, 2, 5), (5, 3, 2)])
def test_same_map_and_gradients_as_conv2d(kernel_size, channels_in, filters):
    packed, reference = packed_and_reference(kernel_size, channels_in, filters, seed=kernel_size)
    x = tf.constant(np.random.default_rng(0).normal(size=(2, 5, 5, channels_in)))
    weights = tf.constant(np.random.default_rng(1).normal(size=(2, 5, 5, filters)))

    def loss_and_gradients(layer, variables):
        with tf.GradientTape() as tape:
            y = layer(x)
            loss = tf.reduce_sum(y * weights)
        return y.numpy(), [g.numpy() for g in tape.gradient(loss, variables)]

    y_packed, (g_packed,) = loss_and_gradients(packed, [packed.kernel_and_bias])
    y_reference, (g_kernel, g_bias) = loss_and_gradients(reference, [reference.kernel, reference.bias])
    np.testing.assert_allclose(y_packed, y_reference, rtol=1e-10, atol=1e-10)
    expected = np.concatenate([g_kernel.reshape(-1, filters), g_bias[None]], axis=0)
    np.testing.assert_allclose(g_packed, expected, rtol=1e-10, atol=1e-10)


def test_initialisation_glorot_kernel_zero_bias():
    keras.utils.set_random_seed(0)
    layer = PackedConv2D(64, 3, dtype="float32")
    layer.build((None, 8, 8, 32))
    assert len(layer.trainable_variables) == 1
    assert layer.kernel.shape == (3, 3, 32, 64) and layer.bias.shape == (64,)
    np.testing.assert_array_equal(layer.bias.numpy(), 0.0)
    kernel = layer.kernel.numpy()
    limit = np.sqrt(6.0 / (9 * 32 + 9 * 64))  # Glorot uniform over the 4-D kernel's fans, as Conv2D
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert abs(kernel.std() - limit / np.sqrt(3.0)) < 0.05 * limit


def test_zero_initialized_starts_at_zero():
    layer = PackedConv2D(4, 3, zero_initialized=True)
    np.testing.assert_array_equal(layer(tf.ones([1, 3, 3, 2])).numpy(), 0.0)


def test_config_round_trip_rebuilds_the_same_layer():
    layer = PackedConv2D(6, 3, activation="relu", zero_initialized=True, name="conv")
    clone = PackedConv2D.from_config(layer.get_config())
    assert (clone.filters, clone.kernel_size, clone.zero_initialized, clone.name) == (6, (3, 3), True, "conv")
    assert clone.activation(tf.constant(-1.0)).numpy() == 0.0


@pytest.mark.parametrize("kernel_size", [0, 2])
def test_even_or_empty_kernel_is_refused(kernel_size):
    with pytest.raises(ValueError, match="kernel_size"):
        PackedConv2D(4, kernel_size)


def test_unknown_input_channels_are_refused():
    with pytest.raises(ValueError, match="input channels"):
        PackedConv2D(4, 3).build((None, 8, 8, None))
