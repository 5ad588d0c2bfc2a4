"""Per-level temperature of multi-scale flows, and spherical interpolation."""

import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import randomize
from tfnf.flows.data_flow import latent_levels, slerp


def small_glow(**kwargs):
    return tfnf.flows.glow((8, 8, 1), num_levels=3, num_steps=1, hidden_channels=4, seed=0, **kwargs)


def test_latent_levels_follow_the_multi_scale_split():
    # glow over 8x8x1, 3 levels: level 0 squeezes to 4x4x4 and factors out 2 channels (32 elements),
    # level 1 squeezes the kept 4x4x2 to 2x2x8 and factors out 4 (16), level 2 keeps the rest (16)
    glow = tfnf.FlowModel(small_glow(), num_bins=17).data_flow
    assert glow.num_levels == 3
    assert [int((glow.latent_levels == k).sum()) for k in range(3)] == [32, 16, 16]
    # realnvp over 8x8x1, 2 levels: a 2x2 squeeze (space-to-depth order) keeps channels 0, 1 = the
    # top row of every 2x2 block for the next level; the bottom rows are factored out at level 0
    realnvp = tfnf.flows.DataFlow(tfnf.flows.realnvp((8, 8, 1), num_levels=2, hidden_channels=4))
    expected = np.zeros((8, 8, 1), np.int32)
    expected[0::2] = 1
    np.testing.assert_array_equal(realnvp.latent_levels, expected)
    vector = tfnf.flows.DataFlow(tfnf.flows.maf((3,), num_layers=1, hidden_units=(4,)))
    assert vector.num_levels == 1
    np.testing.assert_array_equal(latent_levels(vector.flow.bijector, (3,)), np.zeros(3))


def test_equal_per_level_temperatures_are_the_scalar_temperature():
    model = tfnf.FlowModel(small_glow(), num_bins=17)
    randomize(model.flow, seed=0, scale=0.05)
    np.testing.assert_array_equal(
        model.sample(4, temperature=[0.6, 0.6, 0.6], seed=5).numpy(), model.sample(4, temperature=0.6, seed=5).numpy()
    )
    np.testing.assert_array_equal(
        model.sample(4, temperature=(1.0, 1.0, 1.0), seed=5).numpy(), model.sample(4, seed=5).numpy()
    )


def test_each_level_scales_its_own_part_of_the_latent():
    model = tfnf.FlowModel(small_glow(), num_bins=17)
    data_flow = model.data_flow
    levels = data_flow.latent_levels
    z = data_flow.latent_sample(6, 1.0, seed=3).numpy()
    for temperatures in ([1.0, 0.5, 1.0], [0.0, 1.0, 2.0], [0.3, 0.7, 0.0]):
        scaled = data_flow.latent_sample(6, temperatures, seed=3).numpy()
        np.testing.assert_allclose(scaled, z * np.asarray(temperatures)[levels], rtol=1e-6, atol=1e-7)
    # FlowModel.sample decodes exactly that latent
    randomize(model.flow, seed=1, scale=0.05)
    expected = model.decode(data_flow.latent_sample(6, [1.0, 0.5, 0.0], seed=tf.constant([3, 0])))
    np.testing.assert_allclose(model.sample(6, temperature=[1.0, 0.5, 0.0], seed=3).numpy(), expected.numpy(), atol=1e-5)


def test_per_level_temperature_of_the_wrong_length_or_value_is_an_error():
    model = tfnf.FlowModel(small_glow(), num_bins=17)
    with pytest.raises(ValueError, match="3 level"):
        model.sample(2, temperature=[1.0, 1.0])
    with pytest.raises(ValueError, match="3 level"):
        model.data_flow.latent_sample(2, [1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="temperature must be finite and >= 0"):
        model.sample(2, temperature=[1.0, -1.0, 1.0])
    vector = tfnf.FlowModel(tfnf.flows.maf((2,), num_layers=1, hidden_units=(4,)))
    np.testing.assert_array_equal(
        vector.sample(3, temperature=[0.7], seed=1).numpy(), vector.sample(3, temperature=0.7, seed=1).numpy()
    )


def test_slerp_is_exact_on_the_circle_and_falls_back_to_the_segment():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 5))
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    t = np.linspace(0.0, 1.0, 7)[:, None]
    path = slerp(tf.constant(a[None]), tf.constant(b[None]), tf.constant(t), 1).numpy()
    np.testing.assert_allclose(np.linalg.norm(path, axis=-1), np.linalg.norm(a), rtol=1e-10, atol=1e-10)
    angle = np.arccos(a @ b / np.linalg.norm(a) ** 2)
    steps = np.arccos(np.clip(path @ a / np.linalg.norm(a) ** 2, -1, 1))
    np.testing.assert_allclose(steps, t[:, 0] * angle, atol=1e-7)  # constant angular speed
    parallel = slerp(tf.constant(a[None]), tf.constant(2 * a[None]), tf.constant(t), 1).numpy()
    np.testing.assert_allclose(parallel, a * (1 - t) + 2 * a * t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(slerp(tf.zeros([1, 5], tf.float64), tf.constant(b[None]), tf.constant(t), 1).numpy(), b * t)


@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_interpolation_reproduces_its_endpoints(method):
    model = tfnf.FlowModel(tfnf.flows.realnvp((3,), num_couplings=4, hidden_units=(8,), dtype=tf.float64))
    randomize(model.flow, seed=2, scale=0.3)
    rng = np.random.default_rng(1)
    x_a, x_b = rng.standard_normal((2, 2, 3))
    path = model.interpolate(x_a, x_b, steps=6, method=method).numpy()
    assert path.shape == (2, 6, 3)
    np.testing.assert_allclose(path[:, 0], x_a, atol=1e-8)
    np.testing.assert_allclose(path[:, -1], x_b, atol=1e-8)


def test_slerp_interpolation_keeps_the_latent_norm_between_equal_norm_ends():
    model = tfnf.FlowModel(tfnf.flows.realnvp((16,), num_couplings=4, hidden_units=(8,), dtype=tf.float64))
    randomize(model.flow, seed=3, scale=0.2)
    rng = np.random.default_rng(2)
    z = rng.standard_normal((2, 16))
    z[1] *= np.linalg.norm(z[0]) / np.linalg.norm(z[1])
    x_a, x_b = model.decode(z).numpy()
    latents = model.encode(model.interpolate(x_a, x_b, steps=5, method="slerp")).numpy()
    norms = np.linalg.norm(latents, axis=-1)
    np.testing.assert_allclose(norms, np.linalg.norm(z[0]), rtol=1e-8, atol=1e-8)
    linear = model.encode(model.interpolate(x_a, x_b, steps=5)).numpy()
    assert np.linalg.norm(linear[2]) < 0.9 * np.linalg.norm(z[0])  # the segment cuts inside the sphere
    with pytest.raises(ValueError, match="method"):
        model.interpolate(x_a, x_b, method="cubic")
    with pytest.raises(ValueError, match="method"):
        model.data_flow.interpolate(x_a[None], x_b[None], 3, method="cubic")


def test_seeds_do_not_wrap_modulo_two_to_the_32():
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    randomize(model.flow, seed=4, scale=0.1)
    five = model.sample(3, seed=5).numpy()
    np.testing.assert_array_equal(model.sample(3, seed=[5, 0]).numpy(), five)  # seeds below 2**31 keep their pair
    assert not np.allclose(model.sample(3, seed=2**31 + 5).numpy(), five)
    np.testing.assert_array_equal(model.sample(3, seed=2**32 - 1).numpy(), model.sample(3, seed=[2**31 - 1, 1]).numpy())
    with pytest.raises(ValueError, match="seed must be <= 4294967295, got 4294967296"):
        model.sample(3, seed=2**32)


def test_interpolation_traces_once_whatever_the_number_of_steps():
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    traces = []
    interpolate = model.data_flow.interpolate

    def counted(*args, **kwargs):
        traces.append(args)
        return interpolate(*args, **kwargs)

    counted.__name__ = "interpolate"
    model.data_flow.interpolate = counted
    x_a, x_b = np.array([[0.0, 1.0]], np.float32), np.array([[1.0, -1.0]], np.float32)
    for steps in (3, 4, 5, np.int64(6)):
        path = model.interpolate(x_a, x_b, steps=steps).numpy()
        assert path.shape == (1, steps, 2)
        np.testing.assert_allclose(path[:, 0], x_a, atol=1e-5)
    assert len(traces) == 1
