"""Learned bases (`tfnf.flows.bases`): densities, trainable variables, temperature, saving and export."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import fresh, randomize
from tfnf.flows import DataFlow, with_base


def perturb_base(flow, seed=0, scale=0.3):
    """Move every plain variable of the flow's base away from its initial value."""
    rng = np.random.default_rng(seed)
    for variable in flow.distribution.trainable_variables:
        variable.assign(variable.numpy() + scale * rng.standard_normal(variable.shape))


def ids(variables):
    """The `tf.Variable`s behind `variables` (Keras variables or plain ones), by id."""
    return {id(v.value if isinstance(v, keras.Variable) else v) for v in variables}


def grid_mass(log_prob, half_width=9.0, points=451):
    axis = np.linspace(-half_width, half_width, points)
    xx, yy = np.meshgrid(axis, axis)
    grid = tf.constant(np.stack([xx.ravel(), yy.ravel()], 1))
    density = np.exp(log_prob(grid).numpy())
    return density.sum() * (axis[1] - axis[0]) ** 2, density


@pytest.mark.parametrize("base", ["diagonal_gaussian", {"kind": "gaussian_mixture", "num_components": 3}])
def test_a_learned_base_is_a_normalised_density_with_trainable_variables(base):
    flow = tfnf.flows.maf((2,), num_layers=2, hidden_units=(8,), base=base, dtype=tf.float64)
    randomize(flow, seed=1, scale=0.2)
    perturb_base(flow)
    base_variables = flow.distribution.trainable_variables
    assert len(base_variables) == (2 if base == "diagonal_gaussian" else 3)
    assert ids(base_variables) <= ids(flow.trainable_variables)
    assert ids(base_variables) <= ids(tfnf.FlowModel(flow).trainable_variables)
    mass, density = grid_mass(flow.log_prob)
    assert abs(mass - 1.0) < 0.01, mass
    standard = tfnf.flows.maf((2,), num_layers=2, hidden_units=(8,), dtype=tf.float64)
    for mine, theirs in zip(flow.bijector.trainable_variables, standard.bijector.trainable_variables):
        theirs.assign(mine)
    _, standard_density = grid_mass(standard.log_prob)
    assert np.abs(density - standard_density).max() > 1e-3  # the base is in use


def test_class_conditional_base_is_normalised_per_class_and_differs_between_classes():
    flow = tfnf.flows.nsf((2,), num_couplings=2, hidden_units=(8,), num_bins=4, num_classes=3,
                          base="class_conditional_gaussian", dtype=tf.float64)
    randomize(flow, seed=2, scale=0.3)
    table = [v for v in flow.trainable_variables if "class_conditional_base" in v.name]
    assert len(table) == 2 and ids(table) <= ids(tfnf.FlowModel(flow).trainable_variables)
    densities = []
    for label in (0, 2):
        mass, density = grid_mass(lambda g: flow.log_prob(g, bijector_kwargs=tfnf.flows.condition(flow, label)))
        assert abs(mass - 1.0) < 0.01, (label, mass)
        densities.append(density)
    assert np.abs(densities[0] - densities[1]).max() > 1e-3


def test_class_conditional_base_is_a_per_class_gaussian_round_trip_and_log_det():
    flow = tfnf.flows.maf((3,), num_layers=1, hidden_units=(6,), num_classes=4,
                          base="class_conditional_gaussian", dtype=tf.float64)
    randomize(flow, seed=3)
    top = flow.bijector.bijectors[-1]  # applied first on the latent side
    assert isinstance(top, tfnf.flows.ClassConditionalGaussian)
    loc, log_scale = (w.numpy() for w in top.keras_layers[0].weights)
    labels = np.array([0, 3, 1])
    z = tf.constant(np.random.default_rng(0).standard_normal((3, 3)))
    kwargs = tfnf.flows.condition(flow, labels)
    inner_kwargs = kwargs[top.name]
    y = top.forward(z, **inner_kwargs).numpy()
    np.testing.assert_allclose(y, loc[labels] + np.exp(log_scale[labels]) * z.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(top.inverse(fresh(y), **inner_kwargs).numpy(), z.numpy(), atol=1e-12)
    np.testing.assert_allclose(
        top.forward_log_det_jacobian(fresh(z), event_ndims=1, **inner_kwargs).numpy(), log_scale[labels].sum(-1)
    )
    x = flow.bijector.forward(z, **kwargs)
    np.testing.assert_allclose(flow.bijector.inverse(fresh(x), **kwargs).numpy(), z.numpy(), atol=1e-10)


def test_temperature_diagonal_gaussian_counts_as_gaussian_and_a_mixture_refuses():
    flow = tfnf.flows.iaf((3,), num_layers=1, hidden_units=(4,), base="diagonal_gaussian")
    perturb_base(flow, scale=1.0)
    data_flow = DataFlow(flow)
    assert data_flow.gaussian_base
    mean = flow.distribution.mean().numpy()
    assert np.abs(mean).max() > 0.1
    z1 = data_flow.latent_sample(5, 1.0, seed=3).numpy()
    z_half = data_flow.latent_sample(5, 0.5, seed=3).numpy()
    np.testing.assert_allclose(z_half, mean + 0.5 * (z1 - mean), rtol=1e-5, atol=1e-6)
    mixture = tfnf.flows.iaf((3,), num_layers=1, hidden_units=(4,), base="gaussian_mixture")
    model = tfnf.FlowModel(mixture)
    assert not model.data_flow.gaussian_base
    with pytest.raises(ValueError, match="Gaussian bases only.*MixtureSameFamily"):
        model.sample(4, temperature=0.5)
    with pytest.raises(ValueError, match="Gaussian bases only"):
        model.data_flow.latent_sample(4, 0.5)
    assert model.sample(4, temperature=1.0, seed=0).shape == (4, 3)


def test_class_conditional_base_samples_its_class_mean_at_temperature_zero():
    flow = tfnf.flows.nice((2,), num_couplings=2, hidden_units=(4,), num_classes=2, base="class_conditional_gaussian")
    randomize(flow, seed=4)
    model = tfnf.FlowModel(flow)
    top = flow.bijector.bijectors[-1]
    loc = top.keras_layers[0].weights[0].numpy()
    below = flow.bijector.bijectors[0]  # the flow without its base
    for label in (0, 1):
        expected = below.forward(tf.constant(loc[label : label + 1]), **tfnf.flows.condition(flow, [label])[below.name])
        samples = model.sample(3, temperature=0.0, seed=1, condition=label).numpy()
        np.testing.assert_allclose(samples, np.repeat(expected.numpy(), 3, 0), rtol=1e-5, atol=1e-5)


def test_with_base_swaps_the_base_of_realnvp_and_glow():
    realnvp = with_base(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(4,)), "gaussian_mixture")
    assert type(realnvp.distribution).__name__ == "MixtureSameFamily"
    assert tfnf.flows.flow_config(realnvp)["config"]["base"] == {"kind": "gaussian_mixture", "num_components": 4, "seed": 0}
    glow = with_base(
        tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=1, hidden_channels=4, seed=0, num_classes=3),
        "class_conditional_gaussian",
    )
    model = tfnf.FlowModel(glow, num_bins=17)
    assert model.condition_spec == {"num_classes": 3}
    assert ids(v for v in glow.trainable_variables if "class_conditional_base" in v.name) <= ids(model.trainable_variables)
    assert model.sample(2, seed=0, condition=[0, 2]).shape == (2, 8, 8, 1)


def test_bad_bases_are_clear_errors():
    with pytest.raises(ValueError, match="base must be one of"):
        tfnf.flows.maf((2,), base="student_t")
    with pytest.raises(ValueError, match="num_classes"):
        tfnf.flows.maf((2,), base="class_conditional_gaussian")
    with pytest.raises(ValueError, match="num_classes"):
        tfnf.flows.nsf((2,), context_shape=(3,), base="class_conditional_gaussian")
    with pytest.raises(ValueError, match="num_components"):
        tfnf.flows.nice((2,), base={"kind": "gaussian_mixture", "num_components": 0})
    with pytest.raises(ValueError, match="options"):
        tfnf.flows.nice((2,), base={"kind": "diagonal_gaussian", "scale": 2})
    with pytest.raises(TypeError, match="base must be"):
        tfnf.flows.iaf((2,), base=3)
    with pytest.raises(ValueError, match="already has the base"):
        with_base(tfnf.flows.maf((2,), base="diagonal_gaussian"), "gaussian_mixture")


def test_a_saved_model_rebuilds_its_learned_base(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((256, 2)) * [1.0, 0.3] + [2.0, -1.0]).astype("float32")
    flow = with_base(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)), "diagonal_gaussian")
    model = tfnf.FlowModel(flow)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, batch_size=64, epochs=3, verbose=0)
    assert np.abs(flow.distribution.mean().numpy()).max() > 1e-2  # the base trained
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert type(loaded.flow.distribution).__name__ == "Independent"
    np.testing.assert_allclose(loaded.log_prob(x[:8]).numpy(), model.log_prob(x[:8]).numpy(), rtol=1e-5, atol=1e-5)


def test_the_export_samples_the_learned_base(tmp_path):
    flow = tfnf.flows.maf((2,), num_layers=1, hidden_units=(4,), base="diagonal_gaussian")
    (loc,) = [v for v in flow.distribution.trainable_variables if "loc" in v.name]
    loc.assign([3.0, -2.0])  # the flow itself is the identity (zero-initialised): samples follow the base
    model = tfnf.FlowModel(flow)
    path = str(model.export(tmp_path / "maf" / "1", verbose=False))
    reader = tf.train.load_checkpoint(f"{path}/variables/variables")
    stored = [reader.get_tensor(name) for name in reader.get_variable_to_shape_map()]
    assert any(np.shape(v) == (2,) and np.allclose(v, [3.0, -2.0]) for v in stored)  # the base's mean is exported
    loaded = tf.saved_model.load(path)
    sig = loaded.signatures
    seeded = sig["sample_seeded"](num_samples=tf.constant(4000), temperature=tf.constant(0.5), seed=tf.constant([7, 0]))
    samples = seeded["samples"].numpy()
    np.testing.assert_allclose(samples, model.sample(4000, temperature=0.5, seed=7).numpy(), rtol=1e-5, atol=1e-5)
    std = flow.distribution.stddev().numpy()
    np.testing.assert_allclose(samples.mean(0), [3.0, -2.0], atol=0.05)
    np.testing.assert_allclose(samples.std(0), 0.5 * std, rtol=0.05, atol=1e-3)
    points = tf.constant(samples[:8])
    np.testing.assert_allclose(
        sig["log_prob"](x=points)["log_prob"].numpy(), model.log_prob(samples[:8]).numpy(), rtol=1e-5, atol=1e-5
    )
