"""Defaults of the vector flows that follow the data: widths growing with `D`, a data-side ActNorm."""

import keras
import numpy as np
import pytest

import tfnf
from tfnf.bijectors import ActNorm
from tfnf.flows.vector_defaults import default_width

VECTOR_BUILDERS = ("maf", "nsf", "realnvp")


@pytest.mark.parametrize("size, width", [(2, 64), (16, 64), (17, 96), (63, 256), (128, 512), (1000, 512)])
def test_default_width_grows_with_the_dimension_between_bounds(size, width):
    assert default_width(size) == width


@pytest.mark.parametrize("builder", VECTOR_BUILDERS)
def test_defaults_record_the_resolved_widths_and_the_actnorm(builder):
    flow = getattr(tfnf.flows, builder)((63,))
    config = flow.tfnf_config["config"]
    assert config["hidden_units"] == (256, 256) and config["actnorm"] is True
    first = flow.bijector.bijectors[0]  # the data side of the chain (its last step latent -> data)
    assert isinstance(first, ActNorm) and not first.is_initialized
    small = getattr(tfnf.flows, builder)((16,))  # up to 16 dimensions: the flows they had
    assert small.tfnf_config["config"]["hidden_units"] == (64, 64) and "actnorm" not in small.tfnf_config["config"]
    assert not any(isinstance(b, ActNorm) for b in small.bijector.bijectors)
    plain = getattr(tfnf.flows, builder)((3,), actnorm=False, hidden_units=(8,))
    assert not any(isinstance(b, ActNorm) for b in plain.bijector.bijectors)
    assert plain.tfnf_config["config"]["actnorm"] is False


@pytest.mark.parametrize("builder", VECTOR_BUILDERS)
def test_fit_standardises_the_data_whatever_their_scale(builder):
    """Initialised from the data, the ActNorm makes the new flow's density follow the data's scale:
    log q(c x) = log q(x) - D log c for flows initialised on `x` and on `c x`."""
    x = np.random.default_rng(0).normal(0.3, 0.08, size=(512, 4)).astype(np.float32)
    scale = 25.0
    log_probs = []
    for data in (x, scale * x):
        keras.utils.set_random_seed(3)
        model = tfnf.FlowModel(getattr(tfnf.flows, builder)((4,), hidden_units=(8, 8), actnorm=True))
        assert model.initialize(data) == 1
        z = model.encode(data).numpy().astype(np.float64)  # a new flow: the ActNorm alone acts
        np.testing.assert_allclose(z.mean(axis=0), 0.0, rtol=0, atol=1e-4)
        np.testing.assert_allclose(z.std(axis=0), 1.0, rtol=0, atol=1e-3)
        log_probs.append(model.log_prob(data[:16]).numpy().astype(np.float64))
    np.testing.assert_allclose(log_probs[1], log_probs[0] - 4 * np.log(scale), rtol=0, atol=1e-3)


def test_realnvp_images_take_no_actnorm():
    with pytest.raises(ValueError, match="actnorm applies to vector flows only"):
        tfnf.flows.realnvp((4, 4, 1), num_levels=1, hidden_channels=4, actnorm=True)
    config = tfnf.flows.realnvp((4, 4, 1), num_levels=1, hidden_channels=4, actnorm=False).tfnf_config["config"]
    assert "actnorm" not in config and config["hidden_units"] == (64, 64)  # as recorded before


@pytest.mark.parametrize("builder", VECTOR_BUILDERS)
def test_actnorm_must_be_a_bool(builder):
    with pytest.raises(TypeError, match="actnorm must be True or False, got"):
        getattr(tfnf.flows, builder)((3,), actnorm=1)


@pytest.mark.parametrize("builder", VECTOR_BUILDERS)
def test_a_configuration_saved_before_the_actnorm_rebuilds_without_it(builder):
    model = tfnf.FlowModel(getattr(tfnf.flows, builder)((3,), hidden_units=(8,), actnorm=False))
    config = model.get_config()
    del config["flow"]["config"]["actnorm"]  # what such a configuration held
    rebuilt = tfnf.FlowModel.from_config(config)
    assert not any(isinstance(b, ActNorm) for b in rebuilt.flow.bijector.bijectors)
    assert len(rebuilt.trainable_variables) == len(model.trainable_variables)


def test_nsf_spline_bound_follows_the_dimension_and_is_recorded():
    high, low = tfnf.flows.nsf((63,)), tfnf.flows.nsf((8,))
    assert high.tfnf_config["config"]["bound"] == 8.0 and low.tfnf_config["config"]["bound"] == 3.0
    assert tfnf.flows.nsf((63,), bound=2.5).tfnf_config["config"]["bound"] == 2.5
    couplings = [m for m in high.bijector.submodules if isinstance(m, tfnf.bijectors.SplineCoupling)]
    assert couplings and all(c.transformer.bound == 8.0 for c in couplings)


def test_an_nsf_configuration_with_the_former_bound_rebuilds_with_it():
    model = tfnf.FlowModel(tfnf.flows.nsf((63,), bound=3.0, hidden_units=(8,)))
    rebuilt = tfnf.FlowModel.from_config(model.get_config())
    assert rebuilt.get_config()["flow"]["config"]["bound"] == 3.0
