"""SavedModel export of conditional models: every signature takes `condition`, and runs without tfnf."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.export.without_tfnf import run_without_tfnf


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    x, y = tfnf.datasets.digits("train", as_numpy=True, with_labels=True)
    glow = tfnf.FlowModel(
        tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=1, hidden_channels=8, seed=0, num_classes=10), num_bins=17
    )
    glow.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    glow.fit(x[:256], y[:256], batch_size=128, epochs=1, verbose=0)
    rng = np.random.default_rng(0)
    points = rng.standard_normal((256, 2)).astype("float32")
    context = rng.standard_normal((256, 3)).astype("float32")
    vector = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,), context_shape=(3,)))
    vector.compile(jit_compile=False)
    vector.fit(points, context, batch_size=128, epochs=1, verbose=0)
    base = tmp_path_factory.mktemp("conditional")
    return {
        "glow": (glow, glow.export(base / "glow" / "1"), x[:16], y[:16]),
        "vector": (vector, vector.export(base / "vector" / "1"), points[:16], context[:16]),
    }


CHILD = """
    out = {}
    for name, path, x_file, c_file in zip(*[iter(sys.argv[1:])] * 4):
        x, c = np.load(x_file), np.load(c_file)
        loaded = tf.saved_model.load(path)
        sig = loaded.signatures
        result = {"log_prob": sig["log_prob"](x=tf.constant(x), condition=tf.constant(c))["log_prob"].numpy().tolist()}
        samples = sig["sample"](condition=tf.constant(c[:5]), temperature=tf.constant(0.7))
        result["sample_shapes"] = {k: list(v.shape) for k, v in samples.items()}
        seeded = lambda cond: sig["sample_seeded"](
            condition=tf.constant(cond), temperature=tf.constant(1.0), seed=tf.constant([1, 2]))["samples"].numpy()
        result["seeded_same"] = bool(np.array_equal(seeded(c[:4]), seeded(c[:4])))
        result["condition_matters"] = not bool(np.allclose(seeded(c[:4]), seeded(c[4:8])))
        z = sig["encode"](x=tf.constant(x[:5]), condition=tf.constant(c[:5]))["z"]
        result["round_trip"] = float(np.abs(sig["decode"](z=z, condition=tf.constant(c[:5]))["x"].numpy() - x[:5]).max())
        try:
            sig["log_prob"](x=tf.constant(x[:3]), condition=tf.constant(c[:2]))
            result["length_mismatch"] = "accepted"
        except tf.errors.InvalidArgumentError as error:
            result["length_mismatch"] = error.message[:3000]
        if c.dtype.kind == "i":
            try:
                sig["log_prob"](x=tf.constant(x[:2]), condition=tf.constant([1, 10], tf.int32))
                result["bad_label"] = "accepted"
            except tf.errors.InvalidArgumentError as error:
                result["bad_label"] = error.message[:3000]
        out[name] = result
    print(json.dumps(out))
"""


def test_conditional_exports_run_without_tfnf_and_match(exports, tmp_path):
    argv = []
    for name, (_, path, x, c) in exports.items():
        np.save(tmp_path / f"{name}_x.npy", x)
        np.save(tmp_path / f"{name}_c.npy", c)
        argv += [name, str(path), str(tmp_path / f"{name}_x.npy"), str(tmp_path / f"{name}_c.npy")]
    out = run_without_tfnf(CHILD, argv, tmp_path)
    for name, (model, _, x, c) in exports.items():
        got = out[name]
        np.testing.assert_allclose(got["log_prob"], model.log_prob(x, condition=c).numpy(), rtol=1e-4, atol=1e-4)
        assert got["seeded_same"] and got["condition_matters"]
        assert got["round_trip"] < 1e-3
        assert "one entry per example" in got["length_mismatch"]
    assert out["glow"]["sample_shapes"] == {"samples": [5, 8, 8, 1], "pixels": [5, 8, 8, 1]}
    assert out["vector"]["sample_shapes"] == {"samples": [5, 2]}
    assert "class labels in [0, 10)" in out["glow"]["bad_label"]


def test_signatures_and_metadata_describe_the_condition(exports):
    _, glow_path, _, _ = exports["glow"]
    loaded = tf.saved_model.load(glow_path)
    inputs = loaded.signatures["sample"].structured_input_signature[1]
    assert set(inputs) == {"condition", "temperature"}
    assert inputs["condition"].dtype == tf.int32 and inputs["condition"].shape.as_list() == [None]
    _, vector_path, _, _ = exports["vector"]
    log_prob_inputs = tf.saved_model.load(vector_path).signatures["log_prob"].structured_input_signature[1]
    assert log_prob_inputs["condition"].dtype == tf.float32 and log_prob_inputs["condition"].shape.as_list() == [None, 3]
    assert tfnf.export.load_metadata(glow_path)["condition"] == {"num_classes": 10}
    assert tfnf.export.load_metadata(vector_path)["condition"] == {"context_shape": [3]}
