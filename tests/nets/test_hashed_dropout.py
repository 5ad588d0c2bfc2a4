"""HashedDropout: the mask keeps 1 - rate of the elements, scales them, changes per call, and is
the same integer hash with XLA, in a TensorFlow graph and eagerly."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfnf.nets.hashed_dropout import HashedDropout, hashed_keep_mask, keep_threshold, mix32


def test_mixer_is_a_bijection_on_a_block_of_integers():
    # A bijective mixer sends distinct inputs to distinct outputs; a broken
    # round (a dropped xor-shift or an even multiplier) would collide.
    values = tf.bitcast(tf.range(1 << 16, dtype=tf.int32), tf.uint32)
    mixed = mix32(values).numpy()
    assert len(np.unique(mixed)) == len(mixed)
    # and it mixes: neighbouring inputs differ in about half of their 32 bits
    flips = np.unpackbits((mixed[:-1] ^ mixed[1:]).view(np.uint8)).reshape(len(mixed) - 1, 32).sum(axis=1)
    assert 15.0 < flips.mean() < 17.0


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
def test_keeps_one_minus_rate_and_scales_kept_elements(rate):
    layer = HashedDropout(rate, seed=3)
    x = tf.ones([64, 4, 4, 128])
    y = layer(x, training=True).numpy()
    kept = y != 0
    n = kept.size
    # binomial: the kept fraction is within 5 standard deviations of 1 - rate
    assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / n)
    np.testing.assert_allclose(y[kept], 1.0 / (1.0 - rate), rtol=1e-6, atol=1e-6)
    # the mean of the layer's output is the mean of its input, as for Keras' Dropout
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(rate / (1 - rate) / n)


def test_mask_has_no_structure_along_rows_or_channels():
    layer = HashedDropout(0.5, seed=0)
    y = layer(tf.ones([256, 64]), training=True).numpy() != 0
    # each column and each row keeps about half; no stuck positions
    assert np.all(np.abs(y.mean(axis=0) - 0.5) < 5 * np.sqrt(0.25 / 256))
    assert np.all(np.abs(y.mean(axis=1) - 0.5) < 5 * np.sqrt(0.25 / 64))
    # neighbouring elements are uncorrelated
    a = y[:, :-1].ravel().astype(float)
    b = y[:, 1:].ravel().astype(float)
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(a.size)


def test_masks_differ_between_calls_and_are_independent():
    layer = HashedDropout(0.5, seed=1)
    x = tf.ones([128, 128])
    first = layer(x, training=True).numpy() != 0
    second = layer(x, training=True).numpy() != 0
    assert not np.array_equal(first, second)
    agreement = (first == second).mean()
    assert abs(agreement - 0.5) < 5 * np.sqrt(0.25 / first.size)


def test_masks_change_between_steps_inside_a_compiled_function():
    layer = HashedDropout(0.5, seed=2)

    @tf.function(jit_compile=True)
    def step(x):
        return layer(x, training=True)

    x = tf.ones([32, 32])
    masks = [step(x).numpy() != 0 for _ in range(3)]
    assert not np.array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[1], masks[2])
    assert all(abs(m.mean() - 0.5) < 0.1 for m in masks)


def test_identity_unless_training():
    layer = HashedDropout(0.9)
    x = tf.random.normal([8, 5])
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    np.testing.assert_array_equal(HashedDropout(0.0)(x, training=True).numpy(), x.numpy())


def test_reproducible_under_keras_global_seed():
    x = tf.ones([16, 16])
    keras.utils.set_random_seed(7)
    first = HashedDropout(0.3)(x, training=True).numpy()
    keras.utils.set_random_seed(7)
    second = HashedDropout(0.3)(x, training=True).numpy()
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(
        HashedDropout(0.3, seed=11)(x, training=True).numpy(), HashedDropout(0.3, seed=11)(x, training=True).numpy()
    )


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_keeps_the_input_dtype(dtype):
    x = tf.ones([8, 8], dtype=dtype)
    y = HashedDropout(0.5, seed=4, dtype=dtype)(x, training=True)
    assert y.dtype == x.dtype
    values = np.unique(tf.cast(y, tf.float32).numpy())
    assert set(values.tolist()) <= {0.0, 2.0}


def test_gradient_flows_through_kept_elements_only():
    layer = HashedDropout(0.5, seed=5)
    x = tf.ones([10, 10])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    gradient = tape.gradient(y, x).numpy()
    np.testing.assert_array_equal(gradient, (y.numpy() != 0) * 2.0)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_rate_out_of_range_is_an_error(rate):
    with pytest.raises(ValueError, match="dropout rate"):
        HashedDropout(rate)


def test_config_round_trip():
    layer = HashedDropout(0.25, seed=9, name="drop")
    restored = HashedDropout.from_config(layer.get_config())
    assert (restored.rate, restored.seed, restored.name) == (0.25, 9, "drop")
    assert isinstance(keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer)), HashedDropout)


def test_layers_with_neighbouring_seeds_draw_independent_masks():
    # the key is a hash of the seed generator's state: seeds 0 and 1 (and their first calls) must
    # not give the same or correlated masks
    x = tf.ones([128, 128])
    masks = [HashedDropout(0.5, seed=seed)(x, training=True).numpy() != 0 for seed in (0, 1, 2)]
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        agreement = (masks[a] == masks[b]).mean()
        assert abs(agreement - 0.5) < 5 * np.sqrt(0.25 / x.numpy().size)


def test_masks_of_one_draw_are_independent_and_drop_applies_the_hash():
    layer = HashedDropout(0.5, seed=6)
    keys = layer.next_keys()
    ones = tf.ones([128, 128])
    first, second = (layer.drop(ones, keys, index).numpy() != 0 for index in (0, 1))
    for mask in (first, second):
        assert abs(mask.mean() - 0.5) < 5 * np.sqrt(0.25 / mask.size)
    assert abs((first == second).mean() - 0.5) < 5 * np.sqrt(0.25 / first.size)
    x = tf.random.stateless_normal([128, 128], seed=[0, 1])
    keep = hashed_keep_mask(tf.shape(x), keys, tf.constant(1), keep_threshold(0.5)).numpy()
    np.testing.assert_array_equal(keep, second)
    np.testing.assert_allclose(layer.drop(x, keys, 1).numpy(), np.where(keep, 2.0 * x.numpy(), 0.0), rtol=1e-6, atol=1e-6)
    assert int(layer.seed_generator.state.numpy()[1]) == 1  # one draw of the keys for both masks


def test_masks_and_their_gradients_are_the_same_with_xla_in_a_graph_and_eagerly():
    x = tf.random.stateless_normal([64, 48], seed=[2, 3])
    # layers of one seed: each one's first call draws with the same keys
    layers = [HashedDropout(0.5, seed=8) for _ in range(3)]

    def output_and_gradient(layer, x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * x)  # gradient 2 * scale * x where kept (the mask is replayed)
        return y, tape.gradient(loss, x)

    results = [
        tf.function(output_and_gradient, jit_compile=True)(layers[0], x),
        tf.function(output_and_gradient, jit_compile=False)(layers[1], x),
        output_and_gradient(layers[2], x),
    ]
    y, gradient = (value.numpy() for value in results[0])
    kept = y != 0
    assert abs(kept.mean() - 0.5) < 5 * np.sqrt(0.25 / kept.size)
    np.testing.assert_allclose(gradient, np.where(kept, 4.0 * x.numpy(), 0.0), rtol=1e-6, atol=1e-6)
    for other_y, other_gradient in results[1:]:
        np.testing.assert_array_equal(other_y.numpy(), y)
        np.testing.assert_allclose(other_gradient.numpy(), gradient, rtol=1e-6, atol=1e-6)
