"""`export_saved_model`: a trained `FlowModel` -> a SavedModel for TF Serving.

The export is a plain `tf.Module` holding the model's variables and
`tf.function`s with fixed input signatures, so any TensorFlow program (TF
Serving included) can load and run it without tfnf. Signatures:

| name | inputs | outputs |
|---|---|---|
| `serving_default`, `log_prob` | `x` float32 `[None, *event]` | `log_prob` `[None]`, `bits_per_dim` `[None]` |
| `sample` | `num_samples` int32 `[]`, `temperature` float32 `[]` | `samples` float32 `[None, *event]` (+ `pixels`) |
| `sample_seeded` | as `sample` + `seed` int32 `[2]` | as `sample`, reproducible |
| `encode` | `x` float32 `[None, *event]` | `z` float32 `[None, *event]` |
| `decode` | `z` float32 `[None, *event]` | `x` float32 `[None, *event]` (+ `pixels`) |

`pixels` (float32 integer values in `[0, num_bins)`) exists for discrete data only.
"""

import json
import math
import os
import shutil
import tempfile

import tensorflow as tf

METADATA_FILE = "tfnf.json"


class FlowExport(tf.Module):
    """The serving graph of one `FlowModel` (see the module docstring)."""

    def __init__(self, model):
        super().__init__(name="tfnf_flow")
        self._model = None  # the Keras model is not part of the export
        self.weights = [v for layer in model.flow_layers for v in layer.weights]
        self._bijector = model.bijector
        self._distribution = model.distribution
        self._event_shape = tuple(model.event_shape)
        self._num_dims = model.num_dims
        self._dtype = model.flow_dtype
        self.num_bins = tf.constant(model.num_bins or 0, tf.int32)
        self.event_shape = tf.constant(self._event_shape, tf.int32)
        self.seed_generator = tf.random.Generator.from_seed(0)
        spec = tf.TensorSpec([None, *self._event_shape], tf.float32)
        scalar_int, scalar_float = tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32)
        discrete = model.num_bins is not None

        def to_flow(x):
            return tf.cast(x, self._dtype)

        def to_output(x):
            return tf.cast(x, tf.float32)

        def pixels(x):
            return tf.clip_by_value(tf.math.floor(x), 0.0, float(model.num_bins - 1))

        def data_outputs(x, name):
            outputs = {name: to_output(x)}
            if discrete:
                outputs["pixels"] = pixels(outputs[name])
            return outputs

        def log_prob(x):
            value = to_output(self._distribution.log_prob(to_flow(x)))
            return {"log_prob": value, "bits_per_dim": -value / (self._num_dims * math.log(2.0))}

        def draw(num_samples, temperature, seed):
            shape = tf.concat([tf.reshape(num_samples, [1]), self.event_shape], axis=0)
            z = tf.random.stateless_normal(shape, seed=seed, dtype=self._dtype) * tf.cast(temperature, self._dtype)
            return data_outputs(self._bijector.forward(z), "samples")

        def sample(num_samples, temperature):
            return draw(num_samples, temperature, self.seed_generator.make_seeds(1)[:, 0])

        def sample_seeded(num_samples, temperature, seed):
            return draw(num_samples, temperature, seed)

        def encode(x):
            return {"z": to_output(self._bijector.inverse(to_flow(x)))}

        def decode(z):
            return data_outputs(self._bijector.forward(to_flow(z)), "x")

        self.log_prob = tf.function(log_prob, input_signature=[spec])
        self.sample = tf.function(sample, input_signature=[scalar_int, scalar_float])
        self.sample_seeded = tf.function(
            sample_seeded, input_signature=[scalar_int, scalar_float, tf.TensorSpec([2], tf.int32)]
        )
        self.encode = tf.function(encode, input_signature=[spec])
        self.decode = tf.function(decode, input_signature=[spec])

    def signatures(self):
        return {
            "serving_default": self.log_prob,
            "log_prob": self.log_prob,
            "sample": self.sample,
            "sample_seeded": self.sample_seeded,
            "encode": self.encode,
            "decode": self.decode,
        }


def export_metadata(model):
    """What a client needs to know without tfnf: shapes, bins, builder config."""
    return {
        "event_shape": list(model.event_shape),
        "num_bins": model.num_bins,
        "preprocessing": model.preprocessing,
        "flow": model.flow_description,
        "signatures": ["serving_default", "log_prob", "sample", "sample_seeded", "encode", "decode"],
    }


def load_metadata(path):
    """Read the metadata written beside an export (`assets.extra/tfnf.json`)."""
    with open(os.path.join(path, "assets.extra", METADATA_FILE)) as handle:
        return json.load(handle)


def export_saved_model(model, filepath):
    """Write `model` as a SavedModel at `filepath` and return the path.

    For TF Serving, point `filepath` at `<base>/<name>/<version>` (e.g.
    `saved_models/digits_glow/1`); the server watches `<base>/<name>`. The
    directory is written to a temporary sibling and renamed into place, so an
    interrupted export never leaves a half-written model, and an existing
    export at `filepath` is replaced only once the new one is complete.

    Raises:
      ValueError: if some ActNorm was never initialised from data (export a
        trained model, or call `model.initialize(batch)` first).
    """
    if model.needs_initialization:
        raise ValueError(
            "refusing to export: the model's ActNorm layers never saw data; "
            "train it (fit) or call model.initialize(batch) first"
        )
    filepath = os.path.abspath(os.fspath(filepath))
    parent = os.path.dirname(filepath)
    os.makedirs(parent, exist_ok=True)
    export = FlowExport(model)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        tf.saved_model.save(export, staging, signatures=export.signatures())
        os.makedirs(os.path.join(staging, "assets.extra"), exist_ok=True)
        with open(os.path.join(staging, "assets.extra", METADATA_FILE), "w") as handle:
            json.dump(export_metadata(model), handle, indent=2, default=str)
        if os.path.exists(filepath):
            retired = tempfile.mkdtemp(prefix=".retired-", dir=parent)
            os.rename(filepath, os.path.join(retired, "old"))
            os.rename(staging, filepath)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, filepath)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return filepath
