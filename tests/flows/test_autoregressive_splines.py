"""`maf` / `iaf` with `transformer="spline"`: rational-quadratic autoregressive flows."""

import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.jacobians import batch_jacobian


def randomized(flow, seed=0, scale=0.5):
    """Perturb every variable so the splines are far from the identity they start as."""
    rng = np.random.default_rng(seed)
    for v in flow.trainable_variables:
        v.assign(v.numpy() + scale * rng.standard_normal(v.shape).astype(v.dtype.as_numpy_dtype))
    return flow


BUILDERS = {"maf": tfnf.flows.maf, "iaf": tfnf.flows.iaf}


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_round_trip_and_brute_force_log_det(builder):
    flow = randomized(BUILDERS[builder]((3,), num_layers=2, hidden_units=(8,), transformer="spline", num_bins=4, bound=2.0, dtype=tf.float64))
    z = tf.constant(np.random.default_rng(1).normal(size=(5, 3)) * 1.5)  # some outside [-2, 2]: identity tails
    x = flow.bijector.forward(z)
    np.testing.assert_allclose(flow.bijector.inverse(x).numpy(), z.numpy(), atol=1e-8)
    assert not np.allclose(x.numpy(), z.numpy(), atol=1e-3)  # the splines act
    log_det = flow.bijector.forward_log_det_jacobian(z, event_ndims=1).numpy()
    jacobian = batch_jacobian(flow.bijector.forward, tf.constant(z.numpy())).numpy()  # a new tensor: no cached result
    np.testing.assert_allclose(log_det, np.linalg.slogdet(jacobian)[1], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_density_integrates_to_one_on_a_grid(builder):
    flow = randomized(BUILDERS[builder]((2,), num_layers=2, hidden_units=(8, 8), transformer="spline", num_bins=5, bound=2.0, dtype=tf.float64), scale=0.3)
    side = np.linspace(-7.0, 7.0, 281)
    grid = np.stack(np.meshgrid(side, side, indexing="ij"), -1).reshape(-1, 2)
    density = np.exp(flow.log_prob(grid).numpy())
    total = density.sum() * (side[1] - side[0]) ** 2
    assert total == pytest.approx(1.0, abs=0.01)


def test_spline_configuration_round_trips_through_flow_model():
    flow = tfnf.flows.maf((2,), num_layers=2, hidden_units=(8,), transformer="spline", num_bins=6, bound=2.5)
    model = tfnf.FlowModel(flow)
    rebuilt = tfnf.FlowModel.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    described = rebuilt.flow_description["config"]
    assert (described["transformer"], described["num_bins"], described["bound"]) == ("spline", 6, 2.5)
    x = np.random.default_rng(0).normal(size=(4, 2)).astype(np.float32)
    np.testing.assert_allclose(rebuilt.log_prob(x), model.log_prob(x), rtol=1e-6, atol=1e-6)
    assert "transformer" not in tfnf.FlowModel(tfnf.flows.maf((2,), num_layers=1, hidden_units=(4,))).flow_description["config"]


@pytest.mark.parametrize("bad, match", [(dict(transformer="cubic"), "transformer"), (dict(transformer="spline", num_bins=0), "num_bins"), (dict(transformer="spline", bound=-1.0), "bound")])
def test_bad_spline_arguments_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        tfnf.flows.iaf((3,), **bad)
