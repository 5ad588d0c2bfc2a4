"""SavedModel export: runs without tfnf, matches the in-memory model, serves its signatures."""

import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits
from tensorflow.core.protobuf import saved_model_pb2

import tfnf
from tests.export.without_tfnf import run_without_tfnf

PY_FUNC_OPS = {"PyFunc", "EagerPyFunc", "PyFuncStateless"}


@pytest.fixture(scope="module")
def digits():
    return load_digits().images[..., None].astype("float32")


@pytest.fixture(scope="module")
def glow_export(digits, tmp_path_factory):
    model = tfnf.FlowModel(tfnf.flows.glow((8, 8, 1), num_levels=2, num_steps=2, hidden_channels=8, seed=0), num_bins=17)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)  # trained weights to export, XLA or not
    model.fit(digits[:512], batch_size=128, epochs=2, verbose=0)
    path = model.export(tmp_path_factory.mktemp("export") / "digits_glow" / "1")
    return model, path


CHILD = """
    path, x = sys.argv[1], np.load(sys.argv[2])
    loaded = tf.saved_model.load(path)
    out = {"log_prob": {}, "sample": {}}
    for n in (1, 3, 64):
        out["log_prob"][n] = loaded.signatures["log_prob"](x=tf.constant(x[:n]))["log_prob"].numpy().tolist()
    for n in (1, 50):
        s = loaded.signatures["sample"](num_samples=tf.constant(n), temperature=tf.constant(0.7))
        out["sample"][n] = {k: [list(v.shape), v.dtype.name, float(v.numpy().min()), float(v.numpy().max())] for k, v in s.items()}
    seeded = lambda seed: loaded.signatures["sample_seeded"](
        num_samples=tf.constant(4), temperature=tf.constant(1.0), seed=tf.constant(seed, tf.int32))["samples"].numpy()
    out["seeded_same"] = bool(np.array_equal(seeded([1, 2]), seeded([1, 2])))
    out["seeded_differ"] = not bool(np.allclose(seeded([1, 2]), seeded([3, 4])))
    z = loaded.signatures["encode"](x=tf.constant(x[:5]))["z"]
    out["round_trip"] = float(np.abs(loaded.signatures["decode"](z=z)["x"].numpy() - x[:5]).max())
    print(json.dumps(out))
"""


def test_export_runs_without_tfnf_and_matches(glow_export, digits, tmp_path):
    model, path = glow_export
    x = digits[:64]
    np.save(tmp_path / "x.npy", x)
    out = run_without_tfnf(CHILD, [path, tmp_path / "x.npy"], tmp_path)
    expected = model.log_prob(x).numpy()
    for n in ("1", "3", "64"):
        np.testing.assert_allclose(out["log_prob"][n], expected[: int(n)], rtol=1e-4, atol=1e-4)
    for n in ("1", "50"):
        samples, pixels = out["sample"][n]["samples"], out["sample"][n]["pixels"]
        assert samples[0] == pixels[0] == [int(n), 8, 8, 1]
        assert samples[1] == pixels[1] == "float32"
        assert pixels[2] >= 0 and pixels[3] <= 16
    assert out["seeded_same"] and out["seeded_differ"]
    assert out["round_trip"] < 1e-3


def test_no_python_ops_in_any_graph(glow_export):
    _, path = glow_export
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as handle:
        proto.ParseFromString(handle.read())
    graph = proto.meta_graphs[0].graph_def
    ops = {node.op for node in graph.node}
    for function in graph.library.function:
        ops |= {node.op for node in function.node_def}
    assert "MatMul" in ops or "BatchMatMulV2" in ops or "Einsum" in ops  # the inspection sees real graphs
    assert not ops & PY_FUNC_OPS


def test_saved_model_cli_lists_the_documented_signatures(glow_export):
    _, path = glow_export
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    text = subprocess.run([cli, "show", "--all", "--dir", str(path)], capture_output=True, text=True, timeout=120).stdout
    blocks = {}
    for block in text.split("signature_def['")[1:]:
        blocks[block.split("'")[0]] = block
    assert set(blocks) >= {"serving_default", "log_prob", "sample", "sample_seeded", "encode", "decode"}
    assert "inputs['x'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 8, 8, 1)" in blocks["log_prob"]
    assert "outputs['bits_per_dim'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1)" in blocks["serving_default"]
    assert "inputs['num_samples'] tensor_info:\n        dtype: DT_INT32\n        shape: ()" in blocks["sample"]
    assert "inputs['temperature'] tensor_info:\n        dtype: DT_FLOAT\n        shape: ()" in blocks["sample"]
    assert "inputs['seed'] tensor_info:\n        dtype: DT_INT32\n        shape: (2)" in blocks["sample_seeded"]
    assert "outputs['pixels']" in blocks["sample"]


def test_tfsm_layer_calls_the_export(glow_export, digits):
    model, path = glow_export
    layer = keras.layers.TFSMLayer(str(path), call_endpoint="log_prob")
    out = layer(digits[:4])
    np.testing.assert_allclose(out["log_prob"].numpy(), model.log_prob(digits[:4]).numpy(), rtol=1e-4, atol=1e-4)


def test_metadata_is_written(glow_export):
    _, path = glow_export
    meta = tfnf.export.load_metadata(path)
    assert meta["event_shape"] == [8, 8, 1] and meta["num_bins"] == 17 and meta["flow"]["builder"] == "glow"


def test_metadata_records_facts_not_phrases(glow_export):
    _, path = glow_export
    meta = tfnf.export.load_metadata(path)
    assert meta["gaussian_base"] is True and isinstance(meta["base_distribution"], str)
    assert "temperature" not in meta


def test_vector_realnvp_exports(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 2)).astype("float32") * [1.0, 0.3]
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=4, hidden_units=(16,)))
    model.compile(jit_compile=False)
    model.fit(x, batch_size=64, epochs=1, verbose=0)
    loaded = tf.saved_model.load(model.export(tmp_path / "toy" / "1"))
    np.testing.assert_allclose(loaded.log_prob(x[:7])["log_prob"].numpy(), model.log_prob(x[:7]).numpy(), rtol=1e-4, atol=1e-4)
    sample = loaded.signatures["sample"](num_samples=tf.constant(3), temperature=tf.constant(1.0))
    assert set(sample) == {"samples"} and sample["samples"].shape == (3, 2)


def test_uninitialised_actnorm_refuses_to_export(tmp_path):
    model = tfnf.FlowModel(tfnf.flows.glow((4, 4, 1), num_levels=1, num_steps=1, hidden_channels=4), num_bins=17)
    with pytest.raises(ValueError, match="ActNorm"):
        model.export(tmp_path / "never" / "1")
    assert not (tmp_path / "never" / "1").exists()
    assert not [p for p in (tmp_path / "never").iterdir()] if (tmp_path / "never").exists() else True


def test_export_replaces_an_old_version_atomically(glow_export, digits, tmp_path):
    model, path = glow_export
    target = tmp_path / "m" / "1"
    shutil.copytree(path, target, copy_function=shutil.copy)  # the old version: an export, as the module's
    first = (target / "saved_model.pb").stat().st_mtime_ns
    model.export(target)
    assert (target / "saved_model.pb").stat().st_mtime_ns >= first
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1"]
