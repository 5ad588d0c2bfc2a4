"""Validation of data handed to a `FlowModel`: shape, dtype, NaN, range, empty batches."""

import contextlib
import math
import types

import numpy as np
import tensorflow as tf

from tfnf.flows.condition import check_condition

MAX_SAMPLES = 2**31 - 1
MAX_SAMPLE_BYTES = 2**32  # what one `sample` call may return: 4 GiB

UNWEIGHTED = (
    "FlowModel maximises the likelihood of every example equally and takes no sample_weight or "
    "class_weight (nor a third item in each element of the data); repeat examples to weight them"
)
UNEXPECTED_Y = (
    "this FlowModel is unconditional but got y (conditions, or a second item in each element of the "
    "data); build the flow with num_classes= or context_shape= to train a conditional model, or "
    "give x alone (dataset.map(lambda x, y: x))"
)


def batch_shape_text(event_shape):
    """`(8, 8, 1)` -> `"[batch, 8, 8, 1]"`, as the shape errors name it."""
    return f"[batch, {', '.join(map(str, event_shape))}]"


def is_batch_of(shape, event_shape):
    """Whether a concrete `shape` is `[batch, *event_shape]`."""
    return len(shape) == len(event_shape) + 1 and tuple(shape[1:]) == tuple(event_shape)


def check_data(x, event_shape, num_bins=None, name="x", dtype="float32"):
    """Check a concrete batch `x: [batch, *event_shape]` and return it as a NumPy array.

    Raises `TypeError` for non-numeric data, `ValueError` for a wrong shape, an
    empty batch, values that are NaN/Inf or not finite once converted to the
    model's `dtype` (float64 `1e300` for a float32 model), or (with `num_bins`)
    pixels outside `[0, num_bins)`, compared exactly whatever the integer dtype.
    """
    if isinstance(x, (tf.Tensor, tf.Variable)):
        x = x.numpy()
    array = np.asarray(x)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    event_shape = tuple(event_shape)
    if not is_batch_of(array.shape, event_shape):
        raise ValueError(f"{name} must have shape {batch_shape_text(event_shape)}, got {list(array.shape)}")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {list(array.shape)}); pass at least one example")
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains NaN or Inf values ({int(np.sum(~np.isfinite(array)))} of {array.size})")
        with np.errstate(over="ignore"):
            converted = array.astype(tf.as_dtype(dtype).as_numpy_dtype)
        if not np.all(np.isfinite(converted)):
            raise ValueError(
                f"{name} contains values beyond the range of the model's dtype {tf.as_dtype(dtype).name} "
                f"({int(np.sum(~np.isfinite(converted)))} of {array.size}, largest magnitude {np.max(np.abs(array)):g})"
            )
    if num_bins is not None and array.size:
        low, high = array.min(), array.max()
        if int(np.floor(low)) < 0 or float(high) >= num_bins:
            raise ValueError(
                f"{name} must hold pixel values in [0, {num_bins}) for num_bins={num_bins}, "
                f"got values in [{low}, {high}]"
            )
    return array


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


INPUT_CHECK_TAG = "tfnf input check: "


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
            outside = tf.logical_or(wide < 0, wide >= num_bins)
            if x.dtype.is_floating:  # NaN/Inf are the finiteness check's (or the train step's) business
                outside = tf.logical_and(outside, tf.math.is_finite(x))
            outside = tf.reduce_any(outside)
            assertions.append(
                tf.debugging.Assert(
                    tf.logical_not(outside),
                    [f"{INPUT_CHECK_TAG}{name} must hold pixel values in [0, {num_bins}) for num_bins={num_bins}, "
                     "got values in", tf.reduce_min(x), tf.reduce_max(x)],
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


def with_shape_checks(generator, event_shape, name="x"):
    """A Python generator's elements (`x`, `(x,)` or `(x, y)`), each checked for `x`'s event shape
    as it is yielded: inside a compiled step a shape known only at run time could be checked by an
    assertion, which XLA drops. A wrong shape raises a `ValueError` tagged for
    `input_errors_as_value_errors` (Keras may read the generator inside `tf.data`)."""
    for element in generator:
        x = element[0] if isinstance(element, (tuple, list)) and element else element
        shape = np.shape(x)
        if not is_batch_of(shape, event_shape):
            raise ValueError(
                f"{INPUT_CHECK_TAG}{name} must have shape {batch_shape_text(event_shape)}, got batches of shape {list(shape)}"
            )
        yield element


@contextlib.contextmanager
def input_errors_as_value_errors():
    """Re-raise a failed `with_value_checks` assertion (or `with_shape_checks` error read inside
    `tf.data`) as a one-paragraph `ValueError`."""
    try:
        yield
    except tf.errors.InvalidArgumentError as error:
        message = error.message
        if INPUT_CHECK_TAG not in message:
            raise
        detail = message.split(INPUT_CHECK_TAG, 1)[1].splitlines()[0]
        if "] [" in detail:  # an assertion's "message] [data]"; a generator's check raised plain text
            detail = detail.replace("] [", " ").rstrip("]")
        raise ValueError(detail) from None


class InputChecks:
    """What a `FlowModel` accepts at its boundary: data, datasets and conditions.

    Args:
      event_shape: the flow's event shape.
      num_bins: pixel levels of discrete data, or None.
      condition_spec: None, `{"num_classes": K}` or `{"context_shape": [k]}`.
      dtype: the model's dtype (values must be finite in it).
    """

    def __init__(self, event_shape, num_bins, condition_spec, dtype):
        self.event_shape = tuple(event_shape)
        self.num_bins = num_bins
        self.condition_spec = condition_spec
        self.dtype = tf.as_dtype(dtype).name

    def describe_context(self):
        if "num_classes" in self.condition_spec:
            return f"class labels in [0, {self.condition_spec['num_classes']})"
        shape = list(self.condition_spec["context_shape"])
        kind = "context images" if len(shape) == 3 else "context vectors"
        return f"{kind} of shape [batch, {', '.join(map(str, shape))}]"

    def batch(self, x, name="x", check_range=True):
        """A concrete batch `[batch, *event_shape]` as a NumPy array (see `check_data`)."""
        return check_data(x, self.event_shape, self.num_bins if check_range else None, name=name, dtype=self.dtype)

    def any_batch(self, x, condition, name="x", check_range=True):
        """Concrete data `[..., *event_shape]` and its condition, checked and flattened.

        Returns `(x [N, *event_shape], condition [N] / [N, k] or None, batch_shape)`;
        the condition is one per example (`[...]` / `[..., k]`) or one for all."""
        array = np.asarray(x.numpy() if tf.is_tensor(x) else x)
        rank = len(self.event_shape)
        if array.ndim < rank + 1 or tuple(array.shape[array.ndim - rank:]) != self.event_shape:
            event = ", ".join(map(str, self.event_shape))
            raise ValueError(f"{name} must have shape [batch, {event}] (or [..., {event}]), got {list(array.shape)}")
        batch_shape = array.shape[: array.ndim - rank]
        flat = self.batch(array.reshape(-1, *self.event_shape), name, check_range)
        if condition is not None and self.condition_spec is not None:
            condition = np.asarray(condition.numpy() if tf.is_tensor(condition) else condition)
            per_example = len(batch_shape) + (0 if "num_classes" in self.condition_spec else 1)
            if condition.ndim == per_example and len(batch_shape) > 1:
                condition = condition.reshape(-1, *condition.shape[len(batch_shape):])
        return flat, self.condition(condition, len(flat)), batch_shape

    def sampling(self, n, temperature, non_gaussian_base=None):
        """Check `sample`'s `n` (an int in `[1, 2**31)` whose samples fit in `MAX_SAMPLE_BYTES`) and
        `temperature` (finite, >= 0, and 1 for a `non_gaussian_base`, the base when it is not Gaussian)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"n (the number of samples) must be an integer, got {n!r}")
        if n <= 0:
            raise ValueError(f"n (the number of samples) must be positive, got {n}")
        if n > MAX_SAMPLES:
            raise ValueError(f"n (the number of samples) must be at most {MAX_SAMPLES} (int32), got {n}")
        size = n * math.prod(self.event_shape) * tf.as_dtype(self.dtype).size
        if size > MAX_SAMPLE_BYTES:
            raise ValueError(
                f"n (the number of samples) = {n} would return {size / 2**30:.1f} GiB, more than one call may "
                f"({MAX_SAMPLE_BYTES // 2**30} GiB); draw them in several calls with different seeds"
            )
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
            raise TypeError(f"temperature must be a real number, got {temperature!r}")
        if not 0 <= temperature < math.inf:
            raise ValueError(f"temperature must be finite and >= 0, got {temperature!r}")
        if non_gaussian_base is not None and temperature != 1:
            raise ValueError(
                f"temperature is defined for Gaussian bases only; this flow's base is "
                f"{type(non_gaussian_base).__name__}, so temperature must be 1, got {temperature!r}"
            )

    def endpoints(self, x_a, x_b, steps):
        """`interpolate`'s ends, each `[*event_shape]` or `[batch, *event_shape]`, checked and as
        `[batch, *event_shape]` arrays; `steps` an integer >= 2."""
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
            raise ValueError(f"steps must be >= 2, got {steps!r} (an integer number of points)")
        event, rank = ", ".join(map(str, self.event_shape)), len(self.event_shape)
        ends = []
        for name, value in (("x_a", x_a), ("x_b", x_b)):
            array = np.asarray(value.numpy() if tf.is_tensor(value) else value)
            if array.ndim not in (rank, rank + 1) or tuple(array.shape[array.ndim - rank:]) != self.event_shape:
                raise ValueError(f"{name} must have shape [{event}] or [batch, {event}], got {list(array.shape)}")
            ends.append(self.batch(array.reshape(-1, *self.event_shape), name))
        if np.shape(x_a) != np.shape(x_b):
            raise ValueError(f"x_a and x_b must have the same shape, got {list(np.shape(x_a))} and {list(np.shape(x_b))}")
        return ends

    def condition(self, condition, batch, name="condition"):
        """A concrete condition for `batch` examples as a NumPy array (None for an unconditional model).

        One label (or one vector) is repeated over the batch; a missing,
        unexpected or malformed condition is a `ValueError` / `TypeError`."""
        if self.condition_spec is None:
            if condition is not None:
                raise ValueError(
                    f"this FlowModel is unconditional but got a {name}; build the flow with "
                    "num_classes= or context_shape= to condition it"
                )
            return None
        if condition is None:
            raise ValueError(f"this FlowModel is conditional ({self.describe_context()}); pass {name}=")
        array = check_condition(self.condition_spec, condition, name=name)
        if array.ndim == (0 if "num_classes" in self.condition_spec else 1):
            return np.broadcast_to(array, (batch, *array.shape)).copy()
        if len(array) != batch:
            raise ValueError(f"{name} has {len(array)} entries but the batch has {batch} examples")
        return array

    def data(self, x, name, check_finite=True):
        """In-memory data are checked now; a dataset by its element spec now and by value
        as it is read (`with_value_checks`); a Python generator's batches by shape as they are
        yielded (`with_shape_checks`). Other inputs go to Keras unchanged."""
        if isinstance(x, (np.ndarray, tf.Tensor, list)):
            return self.batch(x, name)
        if isinstance(x, tf.data.Dataset):
            check_dataset(x, self.event_shape, name=name)
            spec = x.element_spec
            if isinstance(spec, (tuple, list)) and len(spec) > 2 and spec[2] is not None:
                raise ValueError(UNWEIGHTED)
            if self.condition_spec is None and isinstance(spec, (tuple, list)) and len(spec) > 1 and spec[1] is not None:
                raise ValueError(UNEXPECTED_Y)
            if self.condition_spec is not None:
                check_condition_dataset(x, self.condition_spec, name=name)
                x = with_condition_checks(x, self.condition_spec, name=name)
            return with_value_checks(x, self.num_bins, check_finite=check_finite, name=name, dtype=self.dtype)
        if isinstance(x, types.GeneratorType):
            return with_shape_checks(x, self.event_shape, name)
        return x

    def training_data(self, x, y, name="x", check_finite=True):
        """`(x, y)` for `fit` / `evaluate`: `y` is the condition of a conditional model's arrays."""
        x = self.data(x, name, check_finite=check_finite)
        if isinstance(x, tf.data.Dataset):
            if y is not None:
                raise ValueError("pass the conditions inside the dataset as (x, y) pairs, not as y= next to it")
            return x, None
        if self.condition_spec is None:
            if y is not None:
                raise ValueError(UNEXPECTED_Y)
            return x, None
        if isinstance(x, np.ndarray):
            if y is None:
                raise ValueError(f"this FlowModel is conditional ({self.describe_context()}); pass them as y: fit(x, y)")
            y = check_condition(self.condition_spec, y, name="y")
            if y.ndim == 0 or len(y) != len(x):
                raise ValueError(f"y must have one condition per example: x has {len(x)}, y has shape {list(y.shape)}")
        return x, y

    def validation_data(self, data):
        """`fit`'s `validation_data`: a dataset, `(x,)` or a conditional model's `(x, y)`."""
        if isinstance(data, (tuple, list)) and data:
            x = data[0]
            y = data[1] if len(data) > 1 else None
            if self.condition_spec is None:
                if y is not None:
                    raise ValueError(UNEXPECTED_Y)
                return (self.data(x, "validation_data"),)
            x, y = self.training_data(x, y, "validation_data")
            return (x,) if y is None else (x, y, *data[2:])
        return self.training_data(data, None, "validation_data")[0]
