"""The conv conditioner's matmul forms of its convolutions agree with Keras' `Conv2D`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfnf.bijectors.conv_conditioner import ConvConditioner, apply_conv, conv3x3_by_patches, conv3x3_by_taps


def random_conv(filters, kernel_size, channels_in, seed):
    layer = keras.layers.Conv2D(filters, kernel_size, padding="same", activation="relu", dtype="float64")
    layer.build((None, 4, 4, channels_in))
    rng = np.random.default_rng(seed)
    layer.kernel.assign(rng.normal(size=layer.kernel.shape))
    layer.bias.assign(rng.normal(size=layer.bias.shape))
    return layer


@pytest.mark.parametrize("height, width", [(1, 1), (1, 2), (2, 2), (2, 4), (4, 4), (8, 8)])
@pytest.mark.parametrize("kernel_size, channels_in, filters", [(3, 2, 7), (3, 7, 2), (1, 5, 6)])
def test_apply_conv_matches_keras_conv2d(height, width, kernel_size, channels_in, filters):
    layer = random_conv(filters, kernel_size, channels_in, seed=height * 10 + width)
    x = tf.constant(np.random.default_rng(1).normal(size=(3, height, width, channels_in)))
    np.testing.assert_allclose(apply_conv(layer, x).numpy(), layer(x).numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("height, width", [(1, 1), (2, 2), (2, 3), (4, 4)])
def test_every_matmul_form_is_the_same_convolution(height, width):
    rng = np.random.default_rng(height + width)
    x = tf.constant(rng.normal(size=(2, height, width, 3)))
    kernel = tf.constant(rng.normal(size=(3, 3, 3, 5)))
    expected = tf.nn.conv2d(x, kernel, strides=1, padding="SAME").numpy()
    for form in (conv3x3_by_patches, conv3x3_by_taps):
        np.testing.assert_allclose(form(x, kernel).numpy(), expected, rtol=1e-10, atol=1e-10, err_msg=form.__name__)


def test_gradients_of_the_matmul_forms_match_conv2d():
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(2, 4, 4, 3)))
    kernel = tf.constant(rng.normal(size=(3, 3, 3, 4)))
    weights = tf.constant(rng.normal(size=(2, 4, 4, 4)))

    def gradients(conv):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            loss = tf.reduce_sum(conv(x, kernel) * weights)
        return [g.numpy() for g in tape.gradient(loss, [x, kernel])]

    expected = gradients(lambda a, k: tf.nn.conv2d(a, k, strides=1, padding="SAME"))
    for form in (conv3x3_by_patches, conv3x3_by_taps):
        for got, want in zip(gradients(form), expected):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=form.__name__)


def test_conditioner_is_jit_compilable_on_small_maps():
    conditioner = ConvConditioner(4, 2, hidden_channels=8, dtype="float32")
    x = tf.random.stateless_normal([5, 2, 2, 4], seed=[1, 2])
    conditioner(x)
    for layer in conditioner.hidden_layers + [conditioner.output_layer]:
        layer.kernel.assign(tf.random.stateless_normal(layer.kernel.shape, seed=[3, 4]))
    eager = conditioner(x).numpy()
    compiled = tf.function(conditioner, jit_compile=True)(x).numpy()
    assert eager.shape == (5, 2, 2, 4, 2)
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-5)
