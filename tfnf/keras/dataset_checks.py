"""Checks of a `tf.data.Dataset` handed to a `FlowModel`: its element spec before reading, and
its values by assertions in the input pipeline as batches are read."""

import numpy as np
import tensorflow as tf

from tfnf.rules.pixels import pixel_range_message, pixels_in_range

INPUT_CHECK_TAG = "tfnf input check: "  # marks the errors `input_errors_as_value_errors` unwraps


def check_dataset(dataset, event_shape, name="dataset"):
    """Check a `tf.data.Dataset` of batches `[batch, *event_shape]` (or of tuples whose
    first item is one) from its element spec alone, without reading it.

    Raises `TypeError` for non-numeric or dict elements, `ValueError` for a wrong
    shape, unbatched elements, or a dataset known to be empty.
    """
    spec = dataset.element_spec
    if isinstance(spec, (tuple, list)) and spec:
        spec = spec[0]
    if not isinstance(spec, tf.TensorSpec):
        raise TypeError(f"{name} must yield tensors (or tuples whose first item is one), got elements {spec}")
    if not (spec.dtype.is_floating or spec.dtype.is_integer) or spec.dtype.is_complex:
        raise TypeError(f"{name} must hold real numbers, got dtype {spec.dtype.name}")
    event_shape = tuple(event_shape)
    expected = tf.TensorShape([None, *event_shape])
    if spec.shape.rank == len(event_shape) and spec.shape.is_compatible_with(event_shape):
        raise ValueError(
            f"{name} must yield batches of shape [batch, {', '.join(map(str, event_shape))}], got single "
            f"examples of shape {spec.shape.as_list()}; call .batch(batch_size) on it"
        )
    if not spec.shape.is_compatible_with(expected):
        raise ValueError(
            f"{name} must yield batches of shape [batch, {', '.join(map(str, event_shape))}], got {spec.shape.as_list()}"
        )
    if int(dataset.cardinality()) == 0:
        raise ValueError(f"{name} is empty")


def with_value_checks(dataset, num_bins=None, check_finite=True, name="dataset", dtype="float32"):
    """`dataset` with run-time assertions on every batch, evaluated in the input pipeline
    (so they cost the train step nothing and hold under `jit_compile=True` too).

    With `num_bins`, values must lie in `[0, num_bins)`; with `check_finite`, be finite.
    A failing batch raises `ValueError` from `fit`/`evaluate` (see `input_errors_as_value_errors`).
    """

    def check(x):
        assertions = []
        if num_bins is not None:
            # compared in a dtype that holds num_bins (256 does not fit uint8)
            wide = tf.cast(x, tf.float64 if x.dtype.is_floating else tf.int64)
            outside = tf.logical_not(pixels_in_range(wide, wide, num_bins))  # elementwise
            if x.dtype.is_floating:  # NaN/Inf are the finiteness check's (or the train step's) business
                outside = tf.logical_and(outside, tf.math.is_finite(x))
            outside = tf.reduce_any(outside)
            assertions.append(
                tf.debugging.Assert(
                    tf.logical_not(outside),
                    [f"{INPUT_CHECK_TAG}{pixel_range_message(name, num_bins)}", tf.reduce_min(x), tf.reduce_max(x)],
                )
            )
        if check_finite and x.dtype.is_floating:
            # finite in the model's dtype too: float64 1e300 overflows a float32 model
            finite = tf.logical_and(tf.math.is_finite(x), tf.math.is_finite(tf.cast(x, dtype)))
            bad = tf.reduce_sum(tf.cast(tf.logical_not(finite), tf.int64))
            assertions.append(
                tf.debugging.Assert(tf.equal(bad, 0), [
                    f"{INPUT_CHECK_TAG}{name} contains NaN or Inf values (in the model dtype {tf.as_dtype(dtype).name}):",
                    bad,
                ])
            )
        with tf.control_dependencies(assertions):
            return tf.identity(x)

    def check_element(*element):
        if len(element) == 1:
            return check(element[0])
        return (check(element[0]), *element[1:])

    return dataset.map(check_element, num_parallel_calls=tf.data.AUTOTUNE)  # deterministic order is kept


def check_condition_dataset(dataset, context, name="dataset"):
    """Check that a conditional model's dataset yields `(x, condition)` pairs whose
    condition fits `context` (`{"num_classes": K}`: integer labels `[batch]`;
    `{"context_shape": [k]}`: vectors `[batch, k]`), from the element spec alone."""
    spec = dataset.element_spec
    if not (isinstance(spec, (tuple, list)) and len(spec) >= 2 and isinstance(spec[1], tf.TensorSpec)):
        raise ValueError(
            f"{name} must yield (x, condition) pairs for a conditional model, got elements {spec}"
        )
    condition = spec[1]
    if "num_classes" in context:
        if not condition.dtype.is_integer:
            raise TypeError(f"{name}'s condition must be integer class labels, got dtype {condition.dtype.name}")
        expected = tf.TensorShape([None])
        described = "[batch]"
    else:
        if not (condition.dtype.is_floating or condition.dtype.is_integer) or condition.dtype.is_complex:
            raise TypeError(f"{name}'s condition must hold real numbers, got dtype {condition.dtype.name}")
        shape = list(context["context_shape"])
        expected = tf.TensorShape([None, *shape])
        described = f"[batch, {', '.join(map(str, shape))}]"
        if len(shape) == 3 and condition.shape.is_compatible_with([None, int(np.prod(shape))]):
            expected = condition.shape  # an image context already flattened, as `fit` flattens arrays
    if not condition.shape.is_compatible_with(expected):
        raise ValueError(f"{name}'s condition must have shape {described}, got {condition.shape.as_list()}")


def with_condition_checks(dataset, context, name="dataset"):
    """`dataset` of `(x, condition, ...)` with run-time checks on the condition, in the
    input pipeline: labels in `[0, num_classes)`, or finite vectors. A failing batch
    raises `ValueError` from `fit`/`evaluate`, as `with_value_checks` does."""

    def check(y):
        if "num_classes" in context:
            classes = context["num_classes"]
            outside = tf.reduce_any(tf.logical_or(y < 0, y >= classes))
            message = [f"{INPUT_CHECK_TAG}{name}'s condition must hold class labels in [0, {classes}) "
                       f"for num_classes={classes}, got values in", tf.reduce_min(y), tf.reduce_max(y)]
            assertion = tf.debugging.Assert(tf.logical_not(outside), message)
        elif y.dtype.is_floating:
            assertion = tf.debugging.Assert(
                tf.reduce_all(tf.math.is_finite(y)), [f"{INPUT_CHECK_TAG}{name}'s condition contains NaN or Inf values"]
            )
        else:
            return y
        with tf.control_dependencies([assertion]):
            return tf.identity(y)

    def check_element(x, y, *rest):
        return (x, check(y), *rest)

    return dataset.map(check_element, num_parallel_calls=tf.data.AUTOTUNE)
