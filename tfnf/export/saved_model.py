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

A conditional model's signatures take one more input, `condition`: int32
`[None]` class labels (class-conditional flows) or float32 `[None, k]` context
vectors, one per example. `log_prob`, `encode` and `decode` take it beside `x`
/ `z` (same batch size); `sample` and `sample_seeded` take `condition` and
`temperature` (and `seed`) but no `num_samples`: they draw one sample per
condition, so `condition = [3, 3, 7]` returns three samples, two of class 3.

Every signature checks its inputs with TensorFlow assertions, so a client (TF
Serving included) gets an `INVALID_ARGUMENT` error naming the problem instead of
NaNs: an empty batch, NaN/Inf in `x` or `z`, pixels outside `[0, num_bins)`,
`num_samples <= 0`, a negative or non-finite `temperature`, labels outside
`[0, num_classes)`, non-finite context vectors, a condition whose length is
not the batch's. Wrong dtypes and shapes are rejected by the signatures themselves.
"""

import ctypes
import errno
import json
import math
import os
import shutil
import sys
import tempfile

import tensorflow as tf

METADATA_FILE = "tfnf.json"


def _checked_batch(x, name, event_shape, num_bins=None):
    """`x: [batch, *event_shape]` after asserting its shape (signatures fix only the
    dtype at run time), a non-empty batch, finite values and (with `num_bins`)
    pixels in `[0, num_bins)`."""
    event = ",".join(str(d) for d in event_shape)
    given = tf.strings.reduce_join(tf.strings.as_string(tf.shape(x)[1:]), separator=",")
    shape_check = tf.debugging.Assert(
        tf.logical_and(tf.rank(x) == len(event_shape) + 1, tf.equal(given, event)),
        [f"{name} must have shape [batch, {event.replace(',', ', ')}], got", tf.shape(x)],
        summarize=8,
    )
    with tf.control_dependencies([shape_check]):
        x = tf.identity(x)
    assertions = [
        tf.debugging.Assert(tf.shape(x)[0] > 0, [f"{name} is an empty batch; pass at least one example"]),
        tf.debugging.Assert(tf.reduce_all(tf.math.is_finite(x)), [f"{name} contains NaN or Inf values"]),
    ]
    if num_bins:
        outside = tf.reduce_any(tf.logical_or(x < 0.0, x >= float(num_bins)))
        assertions.append(
            tf.debugging.Assert(
                tf.logical_not(outside),
                [f"{name} must hold pixel values in [0, {num_bins}) for num_bins={num_bins}, got values in",
                 tf.reduce_min(x), tf.reduce_max(x)],
            )
        )
    with tf.control_dependencies(assertions):
        return tf.identity(x)


def _checked_sampling(num_samples, temperature):
    """Assert `num_samples > 0` and a finite `temperature >= 0`."""
    assertions = [
        tf.debugging.Assert(num_samples > 0, ["num_samples must be positive, got", num_samples]),
        tf.debugging.Assert(
            tf.logical_and(temperature >= 0.0, tf.math.is_finite(temperature)),
            ["temperature must be finite and >= 0, got", temperature],
        ),
    ]
    with tf.control_dependencies(assertions):
        return tf.identity(num_samples), tf.identity(temperature)


def _checked_condition(condition, condition_spec, batch_size=None):
    """Assert a non-empty condition that fits `condition_spec` (labels in range or
    finite vectors) and, with `batch_size`, has one entry per example."""
    assertions = [tf.debugging.Assert(tf.shape(condition)[0] > 0, ["condition is empty; pass at least one"])]
    if "num_classes" in condition_spec:
        classes = condition_spec["num_classes"]
        outside = tf.reduce_any(tf.logical_or(condition < 0, condition >= classes))
        assertions.append(
            tf.debugging.Assert(
                tf.logical_not(outside),
                [f"condition must hold class labels in [0, {classes}) for num_classes={classes}, got values in",
                 tf.reduce_min(condition), tf.reduce_max(condition)],
            )
        )
    else:
        assertions.append(
            tf.debugging.Assert(tf.reduce_all(tf.math.is_finite(condition)), ["condition contains NaN or Inf values"])
        )
    if batch_size is not None:
        assertions.append(
            tf.debugging.Assert(
                tf.equal(tf.shape(condition)[0], batch_size),
                ["condition must have one entry per example: got", tf.shape(condition)[0], "for a batch of", batch_size],
            )
        )
    with tf.control_dependencies(assertions):
        return tf.identity(condition)


def _checked_temperature(temperature):
    """Assert a finite `temperature >= 0`."""
    check = tf.debugging.Assert(
        tf.logical_and(temperature >= 0.0, tf.math.is_finite(temperature)),
        ["temperature must be finite and >= 0, got", temperature],
    )
    with tf.control_dependencies([check]):
        return tf.identity(temperature)


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
        if model.conditional:
            self._init_conditional(model)
            return
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
            x = _checked_batch(x, "x", self._event_shape, model.num_bins)
            value = to_output(self._distribution.log_prob(to_flow(x)))
            return {"log_prob": value, "bits_per_dim": -value / (self._num_dims * math.log(2.0))}

        def draw(num_samples, temperature, seed):
            num_samples, temperature = _checked_sampling(num_samples, temperature)
            shape = tf.concat([tf.reshape(num_samples, [1]), self.event_shape], axis=0)
            z = tf.random.stateless_normal(shape, seed=seed, dtype=self._dtype) * tf.cast(temperature, self._dtype)
            return data_outputs(self._bijector.forward(z), "samples")

        def sample(num_samples, temperature):
            return draw(num_samples, temperature, self.seed_generator.make_seeds(1)[:, 0])

        def sample_seeded(num_samples, temperature, seed):
            return draw(num_samples, temperature, seed)

        def encode(x):
            x = _checked_batch(x, "x", self._event_shape, model.num_bins)
            return {"z": to_output(self._bijector.inverse(to_flow(x)))}

        def decode(z):
            z = _checked_batch(z, "z", self._event_shape)
            return data_outputs(self._bijector.forward(to_flow(z)), "x")

        self.log_prob = tf.function(log_prob, input_signature=[spec])
        self.sample = tf.function(sample, input_signature=[scalar_int, scalar_float])
        self.sample_seeded = tf.function(
            sample_seeded, input_signature=[scalar_int, scalar_float, tf.TensorSpec([2], tf.int32)]
        )
        self.encode = tf.function(encode, input_signature=[spec])
        self.decode = tf.function(decode, input_signature=[spec])

    def _init_conditional(self, model):
        """The signatures of a conditional model: every one also takes `condition`."""
        condition_spec = dict(model.condition_spec)
        if "num_classes" in condition_spec:
            spec_c = tf.TensorSpec([None], tf.int32)
        else:
            spec_c = tf.TensorSpec([None, int(condition_spec["context_shape"][0])], tf.float32)
        spec = tf.TensorSpec([None, *self._event_shape], tf.float32)
        scalar_float = tf.TensorSpec([], tf.float32)
        discrete = model.num_bins is not None
        bijector_kwargs = model.bijector_kwargs  # traced into the graph: one-hot + routing, no Python at run time

        def to_flow(x):
            return tf.cast(x, self._dtype)

        def data_outputs(x, name):
            outputs = {name: tf.cast(x, tf.float32)}
            if discrete:
                outputs["pixels"] = tf.clip_by_value(tf.math.floor(outputs[name]), 0.0, float(model.num_bins - 1))
            return outputs

        def log_prob(x, condition):
            x = _checked_batch(x, "x", self._event_shape, model.num_bins)
            condition = _checked_condition(condition, condition_spec, tf.shape(x)[0])
            value = tf.cast(self._distribution.log_prob(to_flow(x), bijector_kwargs=bijector_kwargs(condition)), tf.float32)
            return {"log_prob": value, "bits_per_dim": -value / (self._num_dims * math.log(2.0))}

        def draw(condition, temperature, seed):
            condition = _checked_condition(condition, condition_spec)
            temperature = _checked_temperature(temperature)
            shape = tf.concat([tf.shape(condition)[:1], self.event_shape], axis=0)
            z = tf.random.stateless_normal(shape, seed=seed, dtype=self._dtype) * tf.cast(temperature, self._dtype)
            return data_outputs(self._bijector.forward(z, **bijector_kwargs(condition)), "samples")

        def sample(condition, temperature):
            return draw(condition, temperature, self.seed_generator.make_seeds(1)[:, 0])

        def sample_seeded(condition, temperature, seed):
            return draw(condition, temperature, seed)

        def encode(x, condition):
            x = _checked_batch(x, "x", self._event_shape, model.num_bins)
            condition = _checked_condition(condition, condition_spec, tf.shape(x)[0])
            return {"z": tf.cast(self._bijector.inverse(to_flow(x), **bijector_kwargs(condition)), tf.float32)}

        def decode(z, condition):
            z = _checked_batch(z, "z", self._event_shape)
            condition = _checked_condition(condition, condition_spec, tf.shape(z)[0])
            return data_outputs(self._bijector.forward(to_flow(z), **bijector_kwargs(condition)), "x")

        self.log_prob = tf.function(log_prob, input_signature=[spec, spec_c])
        self.sample = tf.function(sample, input_signature=[spec_c, scalar_float])
        self.sample_seeded = tf.function(sample_seeded, input_signature=[spec_c, scalar_float, tf.TensorSpec([2], tf.int32)])
        self.encode = tf.function(encode, input_signature=[spec, spec_c])
        self.decode = tf.function(decode, input_signature=[spec, spec_c])

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
    metadata = {
        "event_shape": list(model.event_shape),
        "num_bins": model.num_bins,
        "preprocessing": model.preprocessing,
        "flow": model.flow_description,
        "signatures": ["serving_default", "log_prob", "sample", "sample_seeded", "encode", "decode"],
    }
    if model.conditional:
        metadata["condition"] = dict(model.condition_spec)
    return metadata


def load_metadata(path):
    """Read the metadata written beside an export (`assets.extra/tfnf.json`)."""
    with open(os.path.join(path, "assets.extra", METADATA_FILE)) as handle:
        return json.load(handle)


def _exchange(a, b):
    """Swap two existing paths in one atomic step (Linux `renameat2(RENAME_EXCHANGE)`).

    Returns False where the system does not offer it.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), b)


def move_into_place(staging, filepath):
    """Rename the complete directory `staging` to `filepath`, replacing an existing one.

    On Linux the replacement is one atomic exchange, so `filepath` always holds
    either the old or the new export; elsewhere the old one is moved aside first
    and a kill in between leaves it in a `.retired-*` sibling.
    """
    if not os.path.exists(filepath):
        os.rename(staging, filepath)
        return
    if _exchange(staging, filepath):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old export
        return
    retired = tempfile.mkdtemp(prefix=".retired-", dir=os.path.dirname(filepath))
    os.rename(filepath, os.path.join(retired, "old"))
    os.rename(staging, filepath)
    shutil.rmtree(retired, ignore_errors=True)


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
        move_into_place(staging, filepath)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return filepath
