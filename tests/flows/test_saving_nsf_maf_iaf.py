"""nsf, maf and iaf flows save and load through `tfnf.FlowModel` with their trained weights."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.bijectors.cases import randomize

BUILDS = {
    "nsf": lambda: tfnf.flows.nsf((3,), num_couplings=2, hidden_units=(8,), num_bins=4, bound=2.0, dropout=0.1),
    "maf": lambda: tfnf.flows.maf((3,), num_layers=2, hidden_units=(8,), dropout=0.1),
    "iaf": lambda: tfnf.flows.iaf((3,), num_layers=2, hidden_units=(8,)),
}


@pytest.mark.parametrize("builder", sorted(BUILDS))
def test_flow_model_round_trips_through_keras_saving(builder, tmp_path):
    flow = BUILDS[builder]()
    assert tfnf.flows.flow_config(flow)["builder"] == builder
    randomize(flow, scale=0.1)
    model = tfnf.FlowModel(flow)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    expected = model.log_prob(x).numpy()
    path = str(tmp_path / f"{builder}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.log_prob(tf.constant(x)).numpy(), expected, rtol=1e-5, atol=1e-5)
    fresh = tfnf.FlowModel(BUILDS[builder]())
    assert not np.allclose(fresh.log_prob(tf.constant(x)).numpy(), expected, atol=1e-3)
