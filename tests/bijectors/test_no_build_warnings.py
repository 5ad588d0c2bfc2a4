"""Building, training, saving and loading a flow warns nothing about unbuilt Keras layers."""

import os
import warnings

import keras
import numpy as np
import pytest

import tfnf


def build_warnings(caught):
    """The recorded UserWarnings about a layer's `build()` (Keras' "unbuilt state" ones)."""
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning) and "build()" in str(w.message)]


def test_the_readme_glow_builds_fits_saves_and_loads_without_build_warnings(tmp_path):
    images = np.random.default_rng(0).integers(0, 17, (16, 8, 8, 1)).astype("float32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # the README glow's layers (two levels of ActNorm, 1x1 convolution and coupling steps), with fewer steps
        flow = tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=2, hidden_channels=16)
        model = tfnf.FlowModel(flow, num_bins=17)
        model.compile(jit_compile=False, steps_per_execution=1)
        model.fit(images, batch_size=16, epochs=1, verbose=0)
        path = os.path.join(tmp_path, "glow.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
    assert build_warnings(caught) == []
    np.testing.assert_allclose(loaded.log_prob(images[:2]), model.log_prob(images[:2]), rtol=1e-5, atol=1e-3)


BUILDERS = {
    "glow": lambda: tfnf.flows.glow((4, 4, 1), num_levels=1, num_steps=2, hidden_channels=4, dropout=0.3),
    "glow_gated": lambda: tfnf.flows.glow((4, 4, 1), num_levels=1, num_steps=1, hidden_channels=4, dropout=0.3,
                                          conditioner="gated_resnet"),
    "glow_labels": lambda: tfnf.flows.glow((4, 4, 1), num_levels=1, num_steps=1, hidden_channels=4, dropout=0.3,
                                           num_classes=3),
    "realnvp_image": lambda: tfnf.flows.realnvp((4, 4, 1), num_levels=1, hidden_channels=4, dropout=0.3),
    "realnvp": lambda: tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(4,), dropout=0.3),
    "nsf": lambda: tfnf.flows.nsf((2,), num_couplings=2, hidden_units=(4,), dropout=0.3),
    "maf": lambda: tfnf.flows.maf((2,), num_layers=2, hidden_units=(4,), dropout=0.3),
    "iaf": lambda: tfnf.flows.iaf((2,), num_layers=2, hidden_units=(4,), dropout=0.3),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builders_warn_nothing_about_build(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        BUILDERS[name]()
    assert build_warnings(caught) == []
