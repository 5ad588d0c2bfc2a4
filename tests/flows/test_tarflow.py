"""`tfnf.flows.tarflow`: autoregressive affine blocks over patches with causal transformers."""

import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tests.flows import image_transformer_checks as checks
from tfnf.bijectors import PatchAutoregressive


def tiny_tarflow(event_shape, num_blocks=2, **kwargs):
    return tfnf.flows.tarflow(event_shape, num_blocks=num_blocks, patch_size=2, **checks.TINY, **kwargs)


def test_blocks_alternate_the_order_of_the_patches():
    flow = tfnf.flows.tarflow((8, 8, 1), num_blocks=4, **checks.TINY)
    blocks = flow.bijector.bijectors[::-1]
    assert all(isinstance(b, PatchAutoregressive) for b in blocks)
    assert [b.parameters["reverse"] for b in blocks] == [False, True, False, True]
    assert blocks[0].num_tokens == 16


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="patch_size=3 must divide"):
        tfnf.flows.tarflow((8, 8, 1), patch_size=3)
    with pytest.raises(ValueError, match="num_blocks"):
        tfnf.flows.tarflow((8, 8, 1), num_blocks=0)
    with pytest.raises(ValueError, match="context_shape"):
        tfnf.flows.tarflow((8, 8, 1), context_shape=(2, 2, 1))


def test_each_patch_depends_only_on_earlier_patches():
    """The data -> latent Jacobian is block lower-triangular in the block's patch order."""
    block = PatchAutoregressive((4, 4, 1), patch_size=2, reverse=True, width=8, depth=1, num_heads=2, dtype=tf.float64)
    randomize(block)
    x = tf.constant(np.random.default_rng(2).standard_normal((1, 4, 4, 1)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        z = block.inverse(x)
    jacobian = tape.jacobian(z, x).numpy().reshape(4, 4, 4, 4)  # [h, w, h', w']
    patch = lambda i, j: 3 - (2 * (i // 2) + j // 2)  # reversed: the last patch is visited first
    for i, j, k, l in np.ndindex(4, 4, 4, 4):
        if patch(k, l) > patch(i, j):
            assert jacobian[i, j, k, l] == 0.0
    assert np.abs(jacobian[0, 0, 3, 3]) > 0  # the first patch reads the last, visited before it


def test_round_trip():
    checks.check_round_trip(tiny_tarflow)


@pytest.mark.parametrize("context", [None, "classes", "vector"], ids=["unconditional", "classes", "vector"])
def test_log_prob_matches_a_brute_force_jacobian_in_float64(context):
    checks.check_brute_force_log_det(tiny_tarflow, context)


def test_every_weight_reaches_flow_model():
    checks.check_every_weight_is_trainable_in_flow_model(tiny_tarflow, num_layers=2)


def test_fit_lowers_the_loss_on_digits():
    checks.check_fit_lowers_the_loss(tiny_tarflow)


def test_saving_and_export(tmp_path):
    checks.check_saving_and_export(tiny_tarflow, tmp_path)


def test_sampling_compiles_with_xla_and_matches_eager():
    flow = tiny_tarflow((8, 8, 1), num_classes=3)
    randomize(flow, scale=0.3)
    z = tf.constant(np.random.default_rng(3).standard_normal((5, 8, 8, 1)), tf.float32)
    labels = tf.constant([0, 1, 2, 0, 1])
    decode = tf.function(lambda z, c: flow.bijector.forward(z, **tfnf.flows.condition(flow, c)), jit_compile=True)
    compiled = decode(z, labels).numpy()
    eager = flow.bijector.forward(fresh(z), **tfnf.flows.condition(flow, labels)).numpy()
    np.testing.assert_allclose(compiled, eager, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(flow.bijector.inverse(compiled, **tfnf.flows.condition(flow, labels)).numpy(), z.numpy(), rtol=1e-3, atol=1e-3)
    sample = tf.function(lambda c: flow.sample(3, bijector_kwargs=tfnf.flows.condition(flow, c)), jit_compile=True)
    assert sample(tf.constant([0, 1, 2])).shape == (3, 8, 8, 1)


def test_rgb_images_use_64_patches_by_default():
    flow = tfnf.flows.tarflow((32, 32, 3), num_blocks=1, **checks.TINY)
    assert tfnf.flows.flow_config(flow)["config"]["patch_size"] == 4
    (block,) = flow.bijector.bijectors
    assert block.num_tokens == 64
    randomize(flow, scale=0.1)
    z = tf.constant(np.random.default_rng(5).standard_normal((2, 32, 32, 3)), tf.float32)
    x = flow.bijector.forward(z)
    np.testing.assert_allclose(flow.bijector.inverse(fresh(x)).numpy(), z.numpy(), rtol=1e-4, atol=1e-4)
