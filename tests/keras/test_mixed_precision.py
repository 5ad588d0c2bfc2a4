"""Mixed precision: networks in 16 bits, log-determinants and densities in float32, exact inverses."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.jacobians import batch_jacobian


@pytest.fixture
def policy(request):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(request.param)
    yield request.param
    keras.config.set_dtype_policy(previous)


def compute_dtypes(flow):
    return {layer.dtype_policy.compute_dtype for layer in tfnf.bijectors.collect_keras_layers(flow) if layer.weights}


def randomized(flow, seed=0):
    """Perturb every variable so the networks are not the identity they start as."""
    rng = np.random.default_rng(seed)
    for v in flow.trainable_variables:
        v.assign(v.numpy() + 0.1 * rng.standard_normal(v.shape).astype(np.float32))
    return flow


FLOWS = {
    # the couplings' 16-bit networks are the subject (maf and nsf below keep their data-side ActNorm)
    "realnvp_vector": lambda: tfnf.flows.realnvp((4,), num_couplings=2, hidden_units=(8, 8), actnorm=False),
    "glow": lambda: tfnf.flows.glow((4, 4, 1), num_levels=1, num_steps=2, hidden_channels=8, seed=0),
    "maf": lambda: tfnf.flows.maf((3,), num_layers=2, hidden_units=(8, 8)),
    "nsf": lambda: tfnf.flows.nsf((4,), num_couplings=2, hidden_units=(8,)),
}


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"], indirect=True)
@pytest.mark.parametrize("name", sorted(FLOWS))
def test_networks_in_16_bits_and_the_flow_stays_exact(policy, name):
    flow = randomized(FLOWS[name]())
    sixteen = "bfloat16" if policy == "mixed_bfloat16" else "float16"
    assert sixteen in compute_dtypes(flow)
    assert all(v.dtype == tf.float32 for v in flow.trainable_variables)
    z = tf.random.stateless_normal([3, *flow.event_shape], seed=[1, 2])
    x, log_det = flow.bijector.forward(z), flow.bijector.forward_log_det_jacobian(z, event_ndims=len(flow.event_shape))
    assert x.dtype == log_det.dtype == flow.log_prob(x).dtype == tf.float32
    # the networks read only the untouched half, so the inverse is exact in float32 whatever they compute in
    np.testing.assert_allclose(flow.bijector.inverse(x).numpy(), z.numpy(), atol=1e-5)
    # log-det against a brute-force float32 Jacobian (whose entries carry the 16-bit networks'
    # rounding through the mixing layers; a 16-bit log-det would be off by ~1e-2)
    jacobians = batch_jacobian(flow.bijector.forward, z).numpy().astype(np.float64)  # [3, n, n]
    _, logabsdet = np.linalg.slogdet(jacobians)
    np.testing.assert_allclose(log_det.numpy(), logabsdet, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"], indirect=True)
def test_flow_model_trains_with_float32_metrics(policy, digit_images):
    flow = tfnf.flows.glow((8, 8, 1), num_levels=1, num_steps=2, hidden_channels=8, seed=0)
    model = tfnf.FlowModel(flow, num_bins=17, seed=0)
    assert model.dtype_policy.name == "float32"  # data map, dequantisation and densities stay float32
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    history = model.fit(digit_images[:512], batch_size=64, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert model.log_prob(digit_images[:4]).dtype == tf.float32
    assert np.isfinite(model.sample(4, seed=0)).all()
    # applied steps: every non-skipped one (float16 may skip a few while its loss scale settles)
    applied = model.optimizer.iterations.numpy()
    assert applied + sum(history.history["skipped_steps"]) == 3 * 8 and applied >= 3 * 8 - 6


@pytest.mark.parametrize("policy", ["bfloat16", "float16"], indirect=True)
def test_a_pure_16_bit_policy_is_refused(policy):
    with pytest.raises(ValueError, match=f"dtype policy is '{policy}'"):
        FLOWS["realnvp_vector"]()


@pytest.mark.parametrize("policy", ["mixed_bfloat16"], indirect=True)
def test_a_float64_flow_under_a_mixed_policy_is_refused(policy):
    with pytest.raises(ValueError, match="needs a float32 flow"):
        tfnf.flows.realnvp((4,), num_couplings=2, hidden_units=(8,), dtype=tf.float64)
