"""The conv conditioner's matmul forms of its convolutions agree with the layers they stand for."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfnf.nets.conv_conditioner import ConvConditioner, apply_conv, conv3x3_by_patches, conv3x3_by_taps
from tfnf.nets.packed_conv2d import PackedConv2D


def random_conv(filters, kernel_size, channels_in, seed, packed=False):
    rng = np.random.default_rng(seed)
    if packed:
        layer = PackedConv2D(filters, kernel_size, activation="relu", dtype="float64")
        layer.build((None, 4, 4, channels_in))
        layer.kernel_and_bias.assign(rng.normal(size=layer.kernel_and_bias.shape))
        return layer
    layer = keras.layers.Conv2D(filters, kernel_size, padding="same", activation="relu", dtype="float64")
    layer.build((None, 4, 4, channels_in))
    layer.kernel.assign(rng.normal(size=layer.kernel.shape))
    layer.bias.assign(rng.normal(size=layer.bias.shape))
    return layer


@pytest.mark.parametrize("packed", [False, True], ids=["Conv2D", "PackedConv2D"])
@pytest.mark.parametrize("height, width", [(1, 1), (1, 2), (2, 2), (2, 4), (4, 4), (8, 8)])
@pytest.mark.parametrize("kernel_size, channels_in, filters", [(3, 2, 7), (3, 7, 2), (1, 5, 6)])
def test_apply_conv_matches_the_layer(height, width, kernel_size, channels_in, filters, packed):
    layer = random_conv(filters, kernel_size, channels_in, seed=height * 10 + width, packed=packed)
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
        layer.kernel_and_bias.assign(tf.random.stateless_normal(layer.kernel_and_bias.shape, seed=[3, 4]))
    eager = conditioner(x).numpy()
    compiled = tf.function(conditioner, jit_compile=True)(x).numpy()
    assert eager.shape == (5, 2, 2, 4, 2)
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-5)


def test_conditioner_trains_one_variable_per_convolution():
    conditioner = ConvConditioner(4, 2, hidden_channels=8, dtype="float32")
    conditioner(tf.zeros([1, 2, 2, 3]))
    shapes = sorted(tuple(v.shape) for v in conditioner.trainable_variables)
    assert shapes == sorted([(3 * 3 * 3 + 1, 8), (1 * 1 * 8 + 1, 8), (3 * 3 * 8 + 1, 8)])
    np.testing.assert_array_equal(conditioner.output_layer.kernel_and_bias.numpy(), 0.0)  # starts at the identity


def test_dropout_masks_both_hidden_activations_while_training_only():
    conditioner = ConvConditioner(2, 2, hidden_channels=64, dropout=0.5, dtype="float32")
    x = tf.random.stateless_normal([16, 4, 4, 2], seed=[5, 6])
    conditioner(x)
    output_weights = conditioner.output_layer.kernel_and_bias
    output_weights.assign(tf.random.stateless_normal(output_weights.shape, seed=[7, 8]))
    seen = []
    drop = conditioner.dropout_layer.drop

    def recording_drop(h, keys, index=0):
        seen.append(drop(tf.ones_like(h), keys, index).numpy() != 0)  # the mask this call applies
        return drop(h, keys, index)

    conditioner.dropout_layer.drop = recording_drop
    evaluation = conditioner(x, training=False).numpy()
    assert seen == [] and np.array_equal(evaluation, conditioner(x).numpy())
    first = conditioner(x, training=True).numpy()
    second = conditioner(x, training=True).numpy()
    assert len(seen) == 4 and all(mask.shape == (16, 4, 4, 64) for mask in seen)
    for mask in seen:
        assert abs(mask.mean() - 0.5) < 5 * np.sqrt(0.25 / mask.size)
    assert abs((seen[0] == seen[1]).mean() - 0.5) < 5 * np.sqrt(0.25 / seen[0].size)  # the two layers differ
    assert not np.array_equal(seen[0], seen[2])  # and every call draws new masks
    assert not np.allclose(first, evaluation) and not np.allclose(first, second)
