"""Image realnvp with rational-quadratic spline couplings (`coupling="spline"`)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tests.jacobians import batch_jacobian
from tfnf.bijectors import ImageSplineCoupling, collect_keras_layers


def spline_realnvp(event_shape=(8, 8, 1), dtype=tf.float32, **kwargs):
    kwargs = {"num_levels": 2, "hidden_channels": 8, **kwargs}
    return tfnf.flows.realnvp(event_shape, coupling="spline", dtype=dtype, **kwargs)


def spline_couplings(flow):
    found = []

    def walk(b):
        if isinstance(b, ImageSplineCoupling):
            found.append(b)
        elif isinstance(b, tfnf.bijectors.FactorOut):
            walk(b.inner)
        else:
            for part in getattr(b, "bijectors", None) or []:
                walk(part)

    walk(flow.bijector)
    return found


def test_every_coupling_is_a_spline_coupling_with_both_masks():
    flow = spline_realnvp()
    couplings = spline_couplings(flow)
    assert len(couplings) == 10  # 3 checkerboard + 3 channel at level 0, 4 checkerboard at level 1
    assert {type(c._mask).__name__ for c in couplings} == {"CheckerboardMask", "SplitMask"}
    assert tfnf.flows.flow_config(flow)["config"]["coupling"] == "spline"


def test_round_trip():
    flow = spline_realnvp()
    randomize(flow, scale=0.1)  # larger weights squash values against the spline bound
    z = tf.constant(np.random.default_rng(0).standard_normal((3, 8, 8, 1)).astype(np.float32))
    x = flow.bijector.forward(z)
    np.testing.assert_allclose(flow.bijector.inverse(fresh(x)).numpy(), z.numpy(), atol=1e-4)
    fldj = flow.bijector.forward_log_det_jacobian(z, event_ndims=3)
    ildj = flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=3)
    np.testing.assert_allclose(fldj.numpy(), -ildj.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("levels", [1, 2], ids=["checkerboard", "checkerboard_and_channel"])
@pytest.mark.parametrize("context", [False, True], ids=["unconditional", "image_context"])
def test_log_det_matches_a_brute_force_jacobian_in_float64(levels, context):
    kwargs = {"context_shape": (2, 2, 1)} if context else {}
    flow = spline_realnvp((4, 4, 1), tf.float64, num_levels=levels, **kwargs)
    randomize(flow, scale=0.1)
    contexts = np.random.default_rng(5).uniform(-1, 1, (2, 2, 2, 1))
    bijector_kwargs, copies_kwargs = {}, {}
    if context:
        bijector_kwargs = tfnf.flows.condition(flow, contexts)
        copies_kwargs = tfnf.flows.condition(flow, np.repeat(contexts, 16, axis=0))  # as batch_jacobian repeats x
    x = tf.constant(np.random.default_rng(1).uniform(-2.5, 2.5, (2, 4, 4, 1)))
    jacobian = batch_jacobian(lambda copies: flow.bijector.inverse(copies, **copies_kwargs), x)
    _, brute = np.linalg.slogdet(jacobian.numpy())
    ildj = flow.bijector.inverse_log_det_jacobian(fresh(x), event_ndims=3, **bijector_kwargs).numpy()
    np.testing.assert_allclose(ildj, brute, rtol=1e-8, atol=1e-8)
    assert np.abs(brute).max() > 1e-2  # the splines are not the identity


def test_fit_lowers_the_loss_and_the_configuration_rebuilds_it():
    keras.utils.set_random_seed(0)
    model = tfnf.FlowModel(spline_realnvp(), num_bins=17)
    # Tracing the train step dominates: one mode (XLA is not what this checks), one step per call.
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False, steps_per_execution=1)
    x = tfnf.datasets.digits("train", as_numpy=True)[:128]
    before = model.evaluate(x, batch_size=128, verbose=0, return_dict=True)["loss"]
    model.fit(x, batch_size=32, epochs=1, verbose=0)
    after = model.evaluate(x, batch_size=128, verbose=0, return_dict=True)["loss"]
    assert after < before - 0.05
    rebuilt = tfnf.FlowModel.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.log_prob(x[:4]), model.log_prob(x[:4]), rtol=1e-6, atol=1e-6)
    spline_variables = {id(v.value) for c in spline_couplings(model.flow) for layer in collect_keras_layers(c)
                        for v in layer.trainable_weights}
    assert spline_variables <= {id(v.value) for v in model.trainable_variables}


def test_spline_options_are_checked():
    with pytest.raises(ValueError, match="image flows only; for spline couplings on vectors use nsf"):
        tfnf.flows.realnvp((4,), coupling="spline")
    with pytest.raises(ValueError, match=r"coupling must be one of \['affine', 'spline'\]"):
        tfnf.flows.realnvp((8, 8, 1), coupling="additive")
    with pytest.raises(ValueError, match=r"event_shape must be \(H, W, C\)"):
        ImageSplineCoupling((4,))
