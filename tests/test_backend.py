"""Importing tfnf with a non-TensorFlow Keras backend fails with a message that says how to fix it."""

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_import_refuses_another_keras_backend(backend):
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run([sys.executable, "-c", "import tfnf"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError")
    assert f"KERAS_BACKEND={backend!r}" in last_line and "tensorflow" in last_line


def test_import_works_on_the_tensorflow_backend():
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    code = "import tfnf, keras; print(keras.backend.backend())"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "tensorflow"
