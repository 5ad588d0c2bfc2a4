"""`export_saved_model`: a trained `FlowModel` -> a SavedModel for TF Serving.

The export is a plain `tf.Module` holding the model's `DataFlow` (and through
it every variable of the flow) and `tf.function`s with fixed input
signatures, so any TensorFlow program (TF Serving included) loads and runs it
without tfnf. Signatures:

| name | inputs | outputs |
|---|---|---|
| `serving_default`, `log_prob` | `x` float32 `[None, *event]` | `log_prob` `[None]`, `bits_per_dim` `[None]` |
| `sample` | `num_samples` int32 `[]`, `temperature` float32 `[]` | `samples` float32 `[None, *event]` (+ `pixels`) |
| `sample_seeded` | as `sample` + `seed` int32 `[2]` | as `sample`, reproducible |
| `encode` | `x` float32 `[None, *event]` | `z` float32 `[None, *event]` |
| `decode` | `z` float32 `[None, *event]` | `x` float32 `[None, *event]` (+ `pixels`) |

`pixels` (float32 integer values in `[0, num_bins)`) exists for discrete data
only. Samples come from the flow's own base distribution, at a temperature as
`DataFlow` defines it (`tfnf.rules.temperature`: a non-Gaussian base takes
temperature 1 only, which `DataFlow.latent_sample` asserts).

A conditional model's signatures take one more input, `condition`: int32
`[None]` class labels, float32 `[None, k]` context vectors or float32
`[None, h, w, c]` context images, one per example.
`log_prob`, `encode` and `decode` take it beside `x` / `z` (same batch size);
`sample` and `sample_seeded` take it instead of `num_samples` and draw one
sample per condition.

Every signature checks its inputs with TensorFlow assertions, so a client gets
an `INVALID_ARGUMENT` error naming the problem instead of NaNs: an empty batch,
NaN/Inf in `x` or `z`, pixels outside `[0, num_bins)`, `num_samples <= 0`, a
negative or non-finite `temperature`, labels outside `[0, num_classes)`,
non-finite context vectors, a condition whose length is not the batch's, and
more samples than one call may return (4 GiB, as `FlowModel.sample`).
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from tfnf.files import write_atomically
from tfnf.keras.flow_model import FlowModel
from tfnf.keras.sampling_arguments import MAX_SAMPLE_BYTES, max_samples
from tfnf.rules.finite_weights import refuse_nonfinite_weights
from tfnf.rules.pixels import pixel_range_message, pixels_in_range

METADATA_FILE = "tfnf.json"
SIGNATURES = ("serving_default", "log_prob", "sample", "sample_seeded", "encode", "decode")


def _assert(condition, message):
    return tf.debugging.Assert(condition, message, summarize=8)


class FlowExport(tf.Module):
    """The serving graph of one `FlowModel` (see the module docstring)."""

    def __init__(self, model: FlowModel) -> None:
        super().__init__(name="tfnf_flow")
        self.data_flow = model.data_flow
        self.max_samples = max_samples(model.event_shape, model.flow_dtype)  # a constant of the graph
        self.seed_generator = tf.random.Generator.from_seed(0)
        event = [None, *model.event_shape]
        condition_spec = model.condition_spec
        specs = {
            "x": tf.TensorSpec(event, tf.float32, name="x"),
            "z": tf.TensorSpec(event, tf.float32, name="z"),
            "num_samples": tf.TensorSpec([], tf.int32, name="num_samples"),
            "temperature": tf.TensorSpec([], tf.float32, name="temperature"),
            "seed": tf.TensorSpec([2], tf.int32, name="seed"),
        }
        if condition_spec is not None:
            width = [] if "num_classes" in condition_spec else [int(d) for d in condition_spec["context_shape"]]
            dtype = tf.int32 if "num_classes" in condition_spec else tf.float32
            specs["condition"] = tf.TensorSpec([None, *width], dtype, name="condition")
        given = ["condition"] if condition_spec is not None else []
        draw = given or ["num_samples"]  # a conditional model draws one sample per condition

        def signature(body, inputs):
            return tf.function(
                lambda *args: body(**self._checked(dict(zip(inputs, args)))),
                input_signature=[specs[name] for name in inputs],
            )

        self.log_prob = signature(self._log_prob, ["x", *given])
        self.sample = signature(self._sample, [*draw, "temperature"])
        self.sample_seeded = signature(self._sample, [*draw, "temperature", "seed"])
        self.encode = signature(self._encode, ["x", *given])
        self.decode = signature(self._decode, ["z", *given])

    # --- checks of what clients send --------------------------------------------------------
    def _checked(self, inputs):
        """`inputs` after asserting what their signature cannot: shapes beyond the dtype, non-empty
        batches, finite values, pixel and label ranges, matching batch sizes."""
        flow, checked, assertions = self.data_flow, dict(inputs), []
        for name in ("x", "z"):
            if name not in inputs:
                continue
            value = inputs[name]
            event = ",".join(str(d) for d in flow.event_shape)
            given = tf.strings.reduce_join(tf.strings.as_string(tf.shape(value)[1:]), separator=",")
            shape_check = _assert(  # a loaded signature takes any shape of its dtype: check it before the rest
                tf.logical_and(tf.rank(value) == len(flow.event_shape) + 1, tf.equal(given, event)),
                [f"{name} must have shape [batch, {event.replace(',', ', ')}], got", tf.shape(value)],
            )
            with tf.control_dependencies([shape_check]):
                value = checked[name] = tf.identity(value)
            assertions += [
                _assert(tf.shape(value)[0] > 0, [f"{name} is an empty batch; pass at least one example"]),
                _assert(tf.reduce_all(tf.math.is_finite(value)), [f"{name} contains NaN or Inf values"]),
            ]
            if name == "x" and flow.num_bins:
                low, high = tf.reduce_min(value), tf.reduce_max(value)
                assertions.append(_assert(
                    pixels_in_range(low, high, float(flow.num_bins)), [pixel_range_message(name, flow.num_bins), low, high]
                ))
            batch = tf.shape(value)[0]
        cap = f"at most {self.max_samples} ({MAX_SAMPLE_BYTES // 2**30} GiB of samples per call, as FlowModel.sample)"
        if "num_samples" in inputs:
            n = inputs["num_samples"]
            assertions.append(_assert(n > 0, ["num_samples must be positive, got", n]))
            assertions.append(_assert(n <= self.max_samples, [f"num_samples must be {cap}; draw them in several calls, got", n]))
        if "condition" in inputs:
            condition, spec = inputs["condition"], flow.condition_spec
            assertions.append(_assert(tf.shape(condition)[0] > 0, ["condition is empty; pass at least one"]))
            if "x" not in inputs and "z" not in inputs:  # sampling: one sample per condition
                assertions.append(_assert(
                    tf.shape(condition)[0] <= self.max_samples,
                    [f"condition (one sample each) must have {cap} entries, got", tf.shape(condition)[0]],
                ))
            if "num_classes" in spec:
                classes = spec["num_classes"]
                assertions.append(_assert(
                    tf.reduce_all(tf.logical_and(condition >= 0, condition < classes)),
                    [f"condition must hold class labels in [0, {classes}) for num_classes={classes}, got values in",
                     tf.reduce_min(condition), tf.reduce_max(condition)],
                ))
            else:
                assertions.append(_assert(tf.reduce_all(tf.math.is_finite(condition)), ["condition contains NaN or Inf values"]))
            if "x" in inputs or "z" in inputs:
                assertions.append(_assert(
                    tf.equal(tf.shape(condition)[0], batch),
                    ["condition must have one entry per example: got", tf.shape(condition)[0], "for a batch of", batch],
                ))
        with tf.control_dependencies(assertions):
            return {name: tf.identity(value) for name, value in checked.items()}

    # --- what each signature computes ----------------------------------------------------------
    def _data_outputs(self, x, name):
        outputs = {name: tf.cast(x, tf.float32)}
        if self.data_flow.num_bins:
            outputs["pixels"] = self.data_flow.quantize(outputs[name])
        return outputs

    def _as_flow_dtype(self, x):
        return tf.cast(x, self.data_flow.dtype)

    def _log_prob(self, x, condition=None):
        value = tf.cast(self.data_flow.log_prob(self._as_flow_dtype(x), condition), tf.float32)
        return {"log_prob": value, "bits_per_dim": self.data_flow.nats_to_bits_per_dim(-value)}

    def _sample(self, temperature, num_samples=None, condition=None, seed=None):
        if seed is None:
            seed = self.seed_generator.make_seeds(1)[:, 0]
        n = tf.shape(condition)[0] if condition is not None else num_samples
        return self._data_outputs(self.data_flow.sample(n, temperature, seed, condition), "samples")

    def _encode(self, x, condition=None):
        return {"z": tf.cast(self.data_flow.encode(self._as_flow_dtype(x), condition), tf.float32)}

    def _decode(self, z, condition=None):
        return self._data_outputs(self.data_flow.decode(self._as_flow_dtype(z), condition), "x")

    def signatures(self) -> dict:
        """The serving signatures by name (`serving_default` is `log_prob`), for `tf.saved_model.save`."""
        functions = {"log_prob": self.log_prob, "sample": self.sample, "sample_seeded": self.sample_seeded,
                     "encode": self.encode, "decode": self.decode}
        return {"serving_default": self.log_prob, **functions}


def export_metadata(model: FlowModel) -> dict:
    """What a client needs to know without tfnf: shapes, bins, builder config, base.

    Facts only: `gaussian_base` (a bool) says whether `temperature` scales the
    base's standardised noise (True) or must be 1 (False)."""
    metadata = {
        "event_shape": list(model.event_shape),
        "num_bins": model.num_bins,
        "preprocessing": model.preprocessing,
        "flow": model.flow_description,
        "base_distribution": type(model.data_flow.base).__name__,
        "gaussian_base": bool(model.data_flow.gaussian_base),
        "signatures": list(SIGNATURES),
    }
    if model.conditional:
        metadata["condition"] = dict(model.condition_spec)
    return metadata


def load_metadata(path: str | os.PathLike) -> dict:
    """Read the metadata written beside an export (`assets.extra/tfnf.json`)."""
    with tf.io.gfile.GFile(f"{str(path).rstrip('/')}/assets.extra/{METADATA_FILE}") as handle:
        return json.load(handle)


def export_saved_model(
    model: FlowModel, filepath: str | os.PathLike, overwrite: bool = False, verbose: bool | None = None,
    options: tf.saved_model.SaveOptions | None = None,
) -> str:
    """Write `model` as a SavedModel at `filepath` (any `tf.io.gfile` path) and return the path.

    For TF Serving, point `filepath` at `<base>/<name>/<version>` (e.g.
    `saved_models/digits_glow/1`). The SavedModel is written to a staging
    folder beside the target and renamed into place, so an interrupted export
    never leaves a half-written model; see `tfnf.files.write_atomically`
    for what may be replaced (a previous export, or anything with
    `overwrite=True`, never the working directory or a parent of it).

    Args:
      model: a `FlowModel` whose ActNorms have seen data.
      filepath: the export folder.
      overwrite: also replace a target that is not a previous tfnf export.
      verbose: print where the export went (as Keras' `Model.export` does);
        None: print only when Keras' interactive logging is on.
      options: `tf.saved_model.SaveOptions` for `tf.saved_model.save`.
    """
    if model.needs_initialization:
        raise ValueError(
            "refusing to export: the model's ActNorm layers never saw data; "
            "train it (fit) or call model.initialize(batch) first"
        )
    refuse_nonfinite_weights(model.data_flow.nonfinite_parts(), "refusing to export:")
    export = FlowExport(model)

    def write(staging):
        tf.saved_model.save(export, staging, signatures=export.signatures(), options=options)
        tf.io.gfile.makedirs(f"{staging}/assets.extra")
        with tf.io.gfile.GFile(f"{staging}/assets.extra/{METADATA_FILE}", "w") as handle:
            json.dump(export_metadata(model), handle, indent=2, default=str)

    path = write_atomically(filepath, write, overwrite=overwrite)
    if verbose or verbose is None and _keras_logging_is_interactive():
        print(f"Saved the SavedModel of the flow at '{path}' (signatures: {', '.join(SIGNATURES)})")
    return path


def _keras_logging_is_interactive():
    import keras

    return keras.config.is_interactive_logging_enabled()
