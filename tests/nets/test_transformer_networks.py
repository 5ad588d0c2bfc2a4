"""The transformer networks of the image transformer flows: `ViTConditioner`, `CausalTransformer`, `TransformerBlock`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.bijectors.cases import randomize
from tfnf.bijectors import PatchAutoregressive
from tfnf.nets import CausalTransformer, TransformerBlock, ViTConditioner


def randomized(layer, tokens, **kwargs):
    layer(tokens, **kwargs)
    rng = np.random.default_rng(0)
    for weight in layer.trainable_weights:
        weight.assign(weight.numpy() + 0.3 * rng.standard_normal(weight.shape))
    return layer


def tokens(batch=2, length=6, features=4, seed=0):
    return tf.constant(np.random.default_rng(seed).standard_normal((batch, length, features)))


@pytest.mark.parametrize("cls", [ViTConditioner, CausalTransformer])
def test_a_new_network_emits_zeros_and_its_config_rebuilds_it(cls):
    net = cls(3, 2, width=8, depth=2, num_heads=2, dropout=0.1, context_size=5, dtype="float64")
    out = net(tokens(), context=tf.ones([2, 5], tf.float64))
    assert out.shape == (2, 6, 3, 2) and not np.any(out.numpy())
    clone = keras.layers.deserialize(keras.layers.serialize(net))
    assert type(clone) is cls and clone.get_config() == net.get_config()


def test_causal_outputs_read_only_earlier_tokens():
    x = tokens()
    net = randomized(CausalTransformer(4, 2, width=8, depth=2, num_heads=2, dtype="float64"), x)
    base = net(x).numpy()
    for t in range(6):
        changed = x.numpy().copy()
        changed[:, t:] += 1.0
        out = net(tf.constant(changed)).numpy()
        np.testing.assert_allclose(out[:, : t + 1], base[:, : t + 1], rtol=0, atol=1e-12)
        if t < 5:
            assert np.abs(out[:, t + 1 :] - base[:, t + 1 :]).max() > 1e-3


def test_cached_decoding_equals_the_whole_sequence():
    x, context = tokens(), tf.constant(np.random.default_rng(1).standard_normal((2, 3)))
    net = randomized(CausalTransformer(4, 2, width=8, depth=2, num_heads=2, context_size=3, dtype="float64"), x, context=context)
    whole = net(x, context=context).numpy()
    caches = net.empty_caches(tf.constant(2))
    for t in range(6):
        previous = x[:, max(t - 1, 0)][:, None]
        params, caches = net.decode_step(previous, tf.constant(t), caches, context)
        np.testing.assert_allclose(params.numpy(), whole[:, t], rtol=1e-10, atol=1e-10)


def test_the_vit_reads_every_token_and_the_context():
    x, context = tokens(), tf.constant(np.eye(2))
    net = randomized(ViTConditioner(4, 2, width=8, depth=1, num_heads=2, context_size=2, dtype="float64"), x, context=context)
    base = net(x, context=context).numpy()
    changed = x.numpy().copy()
    changed[:, -1] += 1.0
    assert np.abs(net(tf.constant(changed), context=context).numpy()[:, 0] - base[:, 0]).max() > 1e-3
    assert np.abs(net(x, context=context[::-1]).numpy() - base).max() > 1e-3
    with pytest.raises(ValueError, match="received no context"):
        net(x)


def test_dropout_acts_only_while_training():
    block = TransformerBlock(8, 2, 16, dropout=0.5, dtype="float64")
    h = tokens(features=8)
    np.testing.assert_array_equal(block(h).numpy(), block(h, training=False).numpy())
    assert np.abs(block(h, training=True).numpy() - block(h).numpy()).max() > 1e-3
    with pytest.raises(ValueError, match="multiple of num_heads"):
        TransformerBlock(10, 4, 16)


def test_sampling_without_a_cache_gives_the_same_images():
    """A network without `decode_step` is re-run on the whole estimate each step: same result."""
    block = PatchAutoregressive((4, 4, 2), patch_size=2, width=8, depth=2, num_heads=2, dtype=tf.float64)
    randomize(block)
    u = block._tokens(tf.constant(np.random.default_rng(4).standard_normal((3, 4, 4, 2))))
    cached, cached_log_det = block._sequential(u, None)
    full, full_log_det = block._sequential_full(u, None)
    np.testing.assert_allclose(cached.numpy(), full.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(cached_log_det.numpy(), full_log_det.numpy(), rtol=1e-10, atol=1e-10)
