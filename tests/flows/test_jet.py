"""`tfnf.flows.jet`: Jet's couplings over patches with vision-transformer conditioners."""

import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.flows import image_transformer_checks as checks
from tfnf.bijectors import JetCoupling
from tfnf.bijectors.jet_coupling import jet_halves


def tiny_jet(event_shape, num_couplings=4, **kwargs):
    return tfnf.flows.jet(event_shape, num_couplings=num_couplings, patch_size=2, **checks.TINY, **kwargs)


def test_the_couplings_alternate_channel_and_spatial_splits_of_both_patterns():
    flow = tfnf.flows.jet((8, 8, 1), num_couplings=8, **checks.TINY)
    couplings = flow.bijector.bijectors[::-1]
    assert all(isinstance(c, JetCoupling) for c in couplings)
    kinds = [(c.parameters["split"], c.parameters["pattern"], c.parameters["parity"]) for c in couplings]
    assert kinds[:4] == [("channel", "split", 0), ("spatial", "split", 0), ("channel", "split", 1), ("spatial", "split", 1)]
    assert {k[1] for k in kinds[4:]} == {"alternate"}
    assert tfnf.flows.flow_config(flow)["config"]["patch_size"] == 2  # resolved and recorded


def test_halves_partition_the_axis():
    for split, grid, size in (("channel", (4, 4), 4), ("spatial", (4, 4), 4), ("spatial", (2, 3), 12)):
        for pattern in ("split", "alternate"):
            kept, changed = jet_halves(split, pattern, 0, grid, size)
            assert len(kept) == len(changed) and sorted([*kept, *changed]) == list(range(len(kept) * 2))
    kept, _ = jet_halves("spatial", "alternate", 0, (2, 2), 4)
    assert list(kept) == [0, 3]  # a checkerboard of patches
    with pytest.raises(ValueError, match="even number of patches"):
        jet_halves("spatial", "split", 0, (1, 1), 4)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="patch_size=3 must divide"):
        tfnf.flows.jet((8, 8, 1), patch_size=3)
    with pytest.raises(ValueError, match="multiple of num_heads"):
        tfnf.flows.jet((8, 8, 1), width=10, num_heads=4)
    with pytest.raises(TypeError, match="width"):
        tfnf.flows.jet((8, 8, 1), width=8.5)
    with pytest.raises(ValueError, match="images"):
        tfnf.flows.jet((4,))


def test_a_new_flow_is_the_identity():
    flow = tiny_jet((8, 8, 1))
    x = tf.constant(np.random.default_rng(0).uniform(-0.5, 0.5, (2, 8, 8, 1)), tf.float32)
    np.testing.assert_allclose(flow.bijector.inverse(x).numpy(), x.numpy(), rtol=0, atol=0)


def test_round_trip():
    checks.check_round_trip(tiny_jet)


@pytest.mark.parametrize("context", [None, "classes", "vector"], ids=["unconditional", "classes", "vector"])
def test_log_prob_matches_a_brute_force_jacobian_in_float64(context):
    checks.check_brute_force_log_det(tiny_jet, context)


def test_every_weight_reaches_flow_model():
    checks.check_every_weight_is_trainable_in_flow_model(tiny_jet, num_layers=4)


def test_fit_lowers_the_loss_on_digits():
    checks.check_fit_lowers_the_loss(tiny_jet)


def test_saving_and_export(tmp_path):
    checks.check_saving_and_export(tiny_jet, tmp_path)


def test_rgb_images_build_with_the_default_patches():
    flow = tfnf.flows.jet((32, 32, 3), num_couplings=2, **checks.TINY)
    assert tfnf.flows.flow_config(flow)["config"]["patch_size"] == 4
    x = tf.zeros([1, 32, 32, 3])
    assert flow.log_prob(x).shape == (1,)
