"""realnvp, glow, nsf and nice with each conditioner network and each vector mixing: identity
at initialisation, exact, trainable through FlowModel, and serialisable when named."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tests.bijectors.test_bijector_properties import brute_force_log_det
from tfnf.bijectors import Coupling, LULinear, collect_keras_layers
from tfnf.nets import conditioners

VECTOR_CHOICES = [None, "mlp", "residual_mlp", conditioners.residual_mlp(hidden_size=6, num_blocks=3)]
IMAGE_CHOICES = [None, "conv", "gated_resnet", conditioners.gated_resnet(hidden_channels=3, num_blocks=1)]


def label(choice):
    return "default" if choice is None else choice if isinstance(choice, str) else f"{choice.name}_custom"


def vector_flow(conditioner=None, mixing=None, dtype=tf.float32, size=3, **kwargs):
    return tfnf.flows.realnvp((size,), num_couplings=3, hidden_units=(8,), conditioner=conditioner, mixing=mixing, dtype=dtype, **kwargs)


def image_flow(conditioner=None, dtype=tf.float32, shape=(4, 4, 2)):
    return tfnf.flows.realnvp(shape, num_levels=2, hidden_channels=4, conditioner=conditioner, dtype=dtype)


def glow_flow(conditioner=None, dtype=tf.float32, shape=(4, 4, 1)):
    return tfnf.flows.glow(shape, num_levels=2, num_steps=2, hidden_channels=4, seed=0, conditioner=conditioner, dtype=dtype)


def nsf_flow(conditioner=None, mixing=None, dtype=tf.float32, size=3, **kwargs):
    return tfnf.flows.nsf((size,), num_couplings=3, hidden_units=(8,), conditioner=conditioner, mixing=mixing, dtype=dtype, **kwargs)


def nice_flow(conditioner=None, mixing=None, dtype=tf.float32, size=3, **kwargs):
    return tfnf.flows.nice((size,), num_couplings=3, hidden_units=(8,), conditioner=conditioner, mixing=mixing, dtype=dtype, **kwargs)


def points(shape, batch=4, seed=0, dtype=tf.float32):
    return tf.constant(np.random.default_rng(seed).standard_normal((batch, *shape)), dtype)


def couplings(flow):
    return [m for m in flow.bijector.submodules if isinstance(m, Coupling)]


# today's defaults are in the property suite (tests/bijectors/cases.py); here every other choice
FLOWS = (
    [(f"realnvp_vector-{label(c)}", lambda c=c, **k: vector_flow(c, **k), (3,)) for c in VECTOR_CHOICES[1:]]
    + [(f"realnvp_vector_lu-{label(c)}", lambda c=c, **k: vector_flow(c, "lu", seed=1, **k), (3,)) for c in (None, "residual_mlp")]
    + [("realnvp_vector_reverse-default", lambda **k: vector_flow(None, "reverse", **k), (3,))]
    + [(f"realnvp_image-{label(c)}", lambda c=c, **k: image_flow(c, **k), (4, 4, 2)) for c in IMAGE_CHOICES[2:]]
    + [(f"glow-{label(c)}", lambda c=c, **k: glow_flow(c, **k), (4, 4, 1)) for c in IMAGE_CHOICES[1:3]]
    + [(f"nsf-{label(c)}", lambda c=c, **k: nsf_flow(c, **k), (3,)) for c in VECTOR_CHOICES[2:]]
    + [("nsf_lu-default", lambda **k: nsf_flow(None, "lu", seed=1, **k), (3,))]
    + [("nsf_reverse-mlp", lambda **k: nsf_flow("mlp", "reverse", **k), (3,))]
    + [(f"nice-{label(c)}", lambda c=c, **k: nice_flow(c, **k), (3,)) for c in VECTOR_CHOICES[2:3]]
    + [("nice_lu-default", lambda **k: nice_flow(None, "lu", seed=1, **k), (3,))]
    + [("nice_reverse-default", lambda **k: nice_flow(None, "reverse", **k), (3,))]
)
IDS = [f[0] for f in FLOWS]


@pytest.mark.parametrize("case_id, build, shape", FLOWS, ids=IDS)
def test_a_new_flow_starts_at_the_identity_in_every_coupling(case_id, build, shape):
    flow = build()
    x = points(shape)
    for bijector in couplings(flow):
        z = points(bijector.event_shape_in)
        if case_id.startswith("nsf"):  # a spline with equal bins and unit slopes: the identity up to rounding
            np.testing.assert_allclose(bijector.forward(z).numpy(), z.numpy(), atol=1e-6)
        else:
            np.testing.assert_array_equal(bijector.forward(z).numpy(), z.numpy())
    if not case_id.startswith("glow") and "_lu" not in case_id:
        # no ActNorm, no rotation: the whole flow is its base
        np.testing.assert_allclose(flow.log_prob(x).numpy(), flow.distribution.log_prob(x).numpy(), atol=1e-5)


@pytest.mark.parametrize("case_id, build, shape", FLOWS, ids=IDS)
def test_every_weight_is_a_variable_of_the_flow(case_id, build, shape):
    flow = build()
    held = {id(v) for v in flow.trainable_variables}
    weights = [getattr(w, "value", w) for layer in collect_keras_layers(flow) for w in layer.trainable_weights]
    assert weights and all(id(w) in held for w in weights)
    networks = {type(b.conditioner).__name__ for b in couplings(flow) if b.conditioner.hidden_layers}
    expected = {"residual_mlp": {"ResidualDenseConditioner"}, "gated_resnet": {"GatedConvConditioner"}}
    for name, classes in expected.items():
        if name in case_id:
            assert networks == classes


@pytest.mark.parametrize("case_id, build, shape", FLOWS, ids=IDS)
def test_round_trip_and_brute_force_log_det_in_float64(case_id, build, shape):
    flow = build(dtype=tf.float64)
    randomize(flow, seed=1, scale=0.2)
    z = points(shape, batch=3, dtype=tf.float64)
    x = flow.bijector.forward(z)
    assert float(tf.reduce_max(tf.abs(x - z))) > 1e-3
    np.testing.assert_allclose(flow.bijector.inverse(fresh(x)).numpy(), z.numpy(), atol=1e-9)
    expected = brute_force_log_det(flow.bijector, fresh(z), shape).numpy()
    actual = flow.bijector.forward_log_det_jacobian(fresh(z), event_ndims=len(shape)).numpy()
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("build, data, config_key", [
    (lambda: vector_flow("residual_mlp", "lu", seed=0, size=2), lambda: tfnf.datasets.toy2d("moons", 64, seed=0), "conditioner"),
    (lambda: vector_flow(conditioners.residual_mlp(hidden_size=4, num_blocks=1), "reverse", size=2), lambda: tfnf.datasets.toy2d("moons", 64, seed=0), "conditioner"),
    (lambda: image_flow("gated_resnet", shape=(4, 4, 1)), lambda: np.random.default_rng(0).integers(0, 17, (32, 4, 4, 1)), "conditioner"),
    (lambda: glow_flow(conditioners.gated_resnet(hidden_channels=3, num_blocks=1)), lambda: np.random.default_rng(0).integers(0, 17, (32, 4, 4, 1)), "conditioner"),
    (lambda: nsf_flow("residual_mlp", "lu", seed=0, size=2), lambda: tfnf.datasets.toy2d("moons", 64, seed=0), "mixing"),
    (lambda: nice_flow(conditioners.residual_mlp(hidden_size=4, num_blocks=1), "reverse", size=2), lambda: tfnf.datasets.toy2d("moons", 64, seed=0), "conditioner"),
], ids=["realnvp_residual_lu", "realnvp_residual_reverse", "realnvp_image_gated", "glow_gated", "nsf_residual_lu", "nice_residual_reverse"])
def test_fit_is_finite_and_a_named_choice_round_trips_through_the_config(build, data, config_key):
    keras.utils.set_random_seed(0)
    flow = build()
    x = data()
    num_bins = None if len(flow.event_shape) == 1 else 17
    model = tfnf.FlowModel(flow, num_bins=num_bins)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    history = model.fit(x, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert all(np.isfinite(history.history["loss"]))
    assert history.history["skipped_steps"][-1] == 0
    assert all(np.all(np.isfinite(v.numpy())) for v in flow.trainable_variables)
    config = json.loads(json.dumps(model.get_config()))  # plain JSON
    assert config["flow"]["config"][config_key] is not None
    clone = tfnf.FlowModel.from_config(config)
    assert tfnf.flows.flow_config(clone.flow)["config"] == tfnf.flows.flow_config(model.flow)["config"]  # same builder call
    clone.set_weights(model.get_weights())
    probe = x[:5]
    np.testing.assert_allclose(clone.log_prob(probe).numpy(), model.log_prob(probe).numpy(), rtol=1e-5, atol=1e-4)


def test_default_choices_record_nothing_and_build_todays_networks():
    flow = vector_flow()
    assert "conditioner" not in tfnf.flows.flow_config(flow)["config"]
    assert "mixing" not in tfnf.flows.flow_config(flow)["config"]
    assert {type(b.conditioner).__name__ for b in couplings(flow)} == {"DenseConditioner"}
    assert {type(b.conditioner).__name__ for b in couplings(glow_flow())} == {"ConvConditioner"}


def test_a_custom_callable_builds_and_trains_but_its_config_cannot_be_serialised(tmp_path):
    def network(transformed_shape, num_params, context_size=None, dtype="float32", name=None):
        return tfnf.nets.ResidualDenseConditioner(transformed_shape, num_params, hidden_size=4, num_blocks=1, dtype=dtype, name=name)

    flow = vector_flow(network, size=2)
    assert {type(b.conditioner).__name__ for b in couplings(flow)} == {"ResidualDenseConditioner"}
    description = tfnf.flows.flow_config(flow)
    with pytest.raises(TypeError, match="custom callable and cannot be serialised"):
        tfnf.flows.check_serializable(description)
    model = tfnf.FlowModel(flow)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(tfnf.datasets.toy2d("moons", 32, seed=0), batch_size=16, verbose=0)
    with pytest.raises(TypeError, match="custom callable and cannot be serialised"):
        keras.saving.serialize_keras_object(model)
    with pytest.raises(TypeError, match="custom callable and cannot be serialised"):
        model.save(tmp_path / "model.keras")
    assert tfnf.flows.check_serializable(tfnf.flows.flow_config(vector_flow("residual_mlp"))) is not None


def test_lu_mixing_sits_between_couplings_and_reverse_keeps_one_parity():
    flow = vector_flow(mixing="lu", seed=2, size=4)
    kinds = [type(b).__name__ for b in flow.bijector.bijectors]
    assert kinds == ["AffineCoupling", "LULinear", "AffineCoupling", "LULinear", "AffineCoupling"]
    assert sum(isinstance(v, tf.Variable) for v in flow.trainable_variables) == len(flow.trainable_variables)
    lus = [b for b in flow.bijector.bijectors if isinstance(b, LULinear)]
    assert all(id(b._params.lower_upper.value) in {id(v) for v in flow.trainable_variables} for b in lus)
    reverse = vector_flow(mixing="reverse", size=4)
    assert [b._mask.parity for b in couplings(reverse)] == [0, 0, 0]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(event_shape=(4, 4, 1), mixing="lu"), ValueError, "mixing applies to vector flows only"),
    (dict(event_shape=(2,), mixing="glow"), ValueError, "mixing must be None or one of"),
    (dict(event_shape=(2,), seed=1), ValueError, "seed seeds"),
    (dict(event_shape=(2,), conditioner="gated_resnet"), ValueError, "is for image couplings"),
    (dict(event_shape=(4, 4, 1), conditioner="residual_mlp"), ValueError, "is for vector couplings"),
    (dict(event_shape=(2,), conditioner=5), TypeError, "conditioner must be None"),
])
def test_realnvp_names_bad_choices(kwargs, error, match):
    with pytest.raises(error, match=match):
        tfnf.flows.realnvp(**kwargs)


def test_glow_names_bad_choices():
    with pytest.raises(ValueError, match="is for vector couplings"):
        tfnf.flows.glow((4, 4, 1), num_levels=1, conditioner="mlp")


@pytest.mark.parametrize("build", [nsf_flow, nice_flow], ids=["nsf", "nice"])
def test_nsf_and_nice_mix_between_couplings_and_refuse_unknown_choices(build):
    kinds = [type(b).__name__ for b in build(mixing="lu", seed=2, size=4).bijector.bijectors]
    assert kinds[:5] == [kinds[0], "LULinear", kinds[0], "LULinear", kinds[0]]
    assert kinds[0] in ("SplineCoupling", "AdditiveCoupling")
    reverse = [b for b in build(mixing="reverse", size=4).bijector.bijectors if isinstance(b, Coupling)]
    assert {b.parameters["parity"] for b in reverse} == {0}
    with pytest.raises(ValueError, match="mixing must be None or one of"):
        build(mixing="shuffle")
    with pytest.raises(ValueError, match="seed seeds the initialisation"):
        build(mixing="reverse", seed=1)
    with pytest.raises(ValueError, match="conditioner"):
        build(conditioner="gated_resnet")  # an image network for a vector flow
