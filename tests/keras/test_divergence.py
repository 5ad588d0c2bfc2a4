"""After training diverges, a broken model never ships: save and export refuse it, naming why."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf


@pytest.fixture(scope="module")
def diverged(digit_images):
    model = tfnf.FlowModel(tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=2, hidden_channels=16, seed=0), num_bins=17)
    model.compile(optimizer=keras.optimizers.Adam(1e3))
    with pytest.raises(FloatingPointError, match="consecutive steps had a non-finite loss"):
        model.fit(digit_images[:1024], batch_size=64, epochs=3, verbose=0)
    return model


def test_a_diverged_model_is_refused_by_save_and_export(diverged, tmp_path):
    assert diverged.data_flow.nonfinite_parts()
    with pytest.raises(ValueError, match="refusing to export: NaN or Inf in .*did training diverge"):
        diverged.export(str(tmp_path / "diverged" / "1"))
    with pytest.raises(ValueError, match="refusing to save .*NaN or Inf"):
        diverged.save(tmp_path / "diverged.keras")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a staging folder


def test_a_diverged_model_refuses_to_sample_instead_of_returning_nan(diverged):
    with pytest.raises(ValueError, match=r"sample: the samples hold NaN or Inf; NaN or Inf in .*did training diverge"):
        diverged.sample(2, seed=0)


def test_a_nan_weight_is_named_and_a_healthy_model_passes(digit_images, tmp_path):
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    assert model.data_flow.nonfinite_parts() == []
    variable = model.trainable_variables[0]
    variable.assign(tf.fill(variable.shape, np.nan))
    assert model.data_flow.nonfinite_parts() == [f"variable {variable.value.name}"]
    with pytest.raises(ValueError, match=f"refusing to export: NaN or Inf in variable {variable.value.name}"):
        model.export(str(tmp_path / "nan" / "1"))


def test_nan_samples_are_refused_naming_the_nan_weights():
    """`sample` checks what it returns (one reduction): NaN samples are an error that names the broken weights."""
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    assert np.all(np.isfinite(model.sample(3, seed=1).numpy()))
    for variable in model.trainable_variables:
        variable.assign(tf.fill(variable.shape, np.nan))
    with pytest.raises(ValueError, match="sample: the samples hold NaN or Inf; NaN or Inf in variable .*did training diverge"):
        model.sample(3, seed=1)
