"""Validation of data handed to a `FlowModel`: shape, dtype, NaN, range, empty batches.

Arrays are checked here; datasets in `dataset_checks`, Python generators in `generator_checks`.
"""

import contextlib
import math
import types

import numpy as np
import tensorflow as tf

from tfnf.flows.condition import check_condition
from tfnf.keras.dataset_checks import (  # noqa: F401 (INPUT_CHECK_TAG: imported from here too)
    INPUT_CHECK_TAG, check_condition_dataset, check_dataset, with_condition_checks, with_value_checks,
)
from tfnf.rules.integers import check_integer
from tfnf.rules.pixels import pixel_range_message, pixels_in_range

MAX_NUM_BINS = 2**16

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


def check_num_bins(num_bins):
    """`FlowModel`'s `num_bins` as an int in `[2, 65536]`, or None. An integral float (`17.0`) is taken;
    other floats (`2.5`, `inf`, `nan`) are a `ValueError`, non-numbers (`[17]`, `"17"`, `True`) a `TypeError`."""
    if num_bins is None:
        return None
    expected = f"num_bins must be an integer in [2, {MAX_NUM_BINS}] or None, got {num_bins!r}"
    if isinstance(num_bins, (float, np.floating)):
        if not (math.isfinite(num_bins) and float(num_bins).is_integer()):
            raise ValueError(expected)
        num_bins = int(num_bins)
    try:
        value = check_integer(num_bins, "num_bins")
    except TypeError:
        raise TypeError(f"{expected} ({type(num_bins).__name__})") from None
    if not 2 <= value <= MAX_NUM_BINS:
        raise ValueError(expected)
    return value


def check_data(x, event_shape, num_bins=None, name="x", dtype="float32", check_finite=True):
    """Check a concrete batch `x: [batch, *event_shape]` and return it as a NumPy array.

    Raises `TypeError` for non-numeric data, `ValueError` for a wrong shape, an
    empty batch, values that are NaN/Inf or not finite once converted to the
    model's `dtype` (float64 `1e300` for a float32 model), or (with `num_bins`)
    pixels outside `[0, num_bins)`, compared exactly whatever the integer dtype.
    With `check_finite=False` NaN/Inf pass (training skips such a batch) and the
    pixel range is checked on the finite values.
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
    values = array
    if np.issubdtype(array.dtype, np.floating):
        finite = np.isfinite(array)
        if not check_finite:
            values = array[finite]
        elif not np.all(finite):
            raise ValueError(f"{name} contains NaN or Inf values ({int(np.sum(~finite))} of {array.size})")
        else:
            with np.errstate(over="ignore"):
                converted = array.astype(tf.as_dtype(dtype).as_numpy_dtype)
            if not np.all(np.isfinite(converted)):
                raise ValueError(
                    f"{name} contains values beyond the range of the model's dtype {tf.as_dtype(dtype).name} "
                    f"({int(np.sum(~np.isfinite(converted)))} of {array.size}, largest magnitude {np.max(np.abs(array)):g})"
                )
    if num_bins is not None and values.size:
        low, high = values.min(), values.max()
        if not pixels_in_range(low, high, num_bins):
            raise ValueError(f"{pixel_range_message(name, num_bins)} [{low}, {high}]")
    return array


@contextlib.contextmanager
def input_errors_as_value_errors():
    """Re-raise a failed `with_value_checks` assertion, or a `checked_generator` error (read inside
    `tf.data` or not), as a one-paragraph `ValueError` (a generator's `TypeError` stays one)."""
    try:
        yield
    except tf.errors.InvalidArgumentError as error:
        message = error.message
        if INPUT_CHECK_TAG not in message:
            raise
        before, detail = message.split(INPUT_CHECK_TAG, 1)
        detail = detail.splitlines()[0]
        if "assertion failed" in before:  # an assertion's "message] [data]"; a generator's check raised plain text
            detail = detail.replace("] [", " ").rstrip("]")
        raise (TypeError if before.endswith("TypeError: ") else ValueError)(detail) from None
    except (TypeError, ValueError) as error:
        if not str(error).startswith(INPUT_CHECK_TAG):
            raise
        raise type(error)(str(error)[len(INPUT_CHECK_TAG):]) from None


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

    def batch(self, x, name="x", check_range=True, check_finite=True):
        """A concrete batch `[batch, *event_shape]` as a NumPy array (see `check_data`)."""
        num_bins = self.num_bins if check_range else None
        return check_data(x, self.event_shape, num_bins, name=name, dtype=self.dtype, check_finite=check_finite)

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

    def endpoints(self, x_a, x_b):
        """`interpolate`'s ends, each `[*event_shape]` or `[batch, *event_shape]`, checked and as
        `[batch, *event_shape]` arrays."""
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
        as it is read (`with_value_checks`); a Python generator's batches as they are yielded
        (`checked_generator`). Other inputs go to Keras unchanged."""
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
            from tfnf.keras.generator_checks import checked_generator  # it builds on this module

            return checked_generator(x, self, name, check_finite=check_finite)
        return x

    def training_data(self, x, y, name="x", check_finite=True, caller="fit"):
        """`(x, y)` for `fit` / `evaluate` (`caller`): `y` is the condition of a conditional model's
        arrays, also taken as `fit((x, y))`."""
        if x is None:
            raise ValueError(f"{caller} needs data: x is None; pass arrays, a tf.data.Dataset or a generator of batches")
        if isinstance(x, tuple):
            x, y = self.unpack_tuple(x, y, caller)
        x = self.data(x, name, check_finite=check_finite)
        if isinstance(x, (tf.data.Dataset, types.GeneratorType)):
            if y is not None:
                kind = "dataset" if isinstance(x, tf.data.Dataset) else "generator"
                raise ValueError(f"pass the conditions inside the {kind} as (x, y) pairs, not as y= next to it")
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

    def step_data(self, data):
        """`(x, condition)` from a train / test / predict step's data: `x`, `(x,)`, `(x, y)` or
        `(x, y, sample_weight)` (symbolic). Inputs Keras reads without the checks above (a `PyDataset`,
        an iterator) are checked here: a conditional model needs the condition, an unconditional
        one refuses it, and `x` must have the event shape (`event_shape_in_step`)."""
        if isinstance(data, (tuple, list)) and len(data) > 2 and data[2] is not None:
            raise ValueError(UNWEIGHTED)
        x, condition = (data[0], data[1] if len(data) > 1 else None) if isinstance(data, (tuple, list)) else (data, None)
        x = self.event_shape_in_step(x)
        if self.condition_spec is None:
            if condition is not None:
                raise ValueError(UNEXPECTED_Y)
            return x, None
        if condition is None:
            raise ValueError(
                f"this FlowModel is conditional ({self.describe_context()}) but got no condition; "
                "train on (x, condition) pairs: fit(x, y) or a dataset of (x, y)"
            )
        return x, condition

    def event_shape_in_step(self, x):
        """Symbolic `x` whose event shape is checked as the step traces, or (dimensions unknown until
        run time) by an assertion that `fit` reports as `ValueError` (XLA drops it; generators are
        checked as they yield)."""
        shape = tf.TensorShape(x.shape)
        message = f"x must have shape {batch_shape_text(self.event_shape)}, got batches of shape"
        if shape.rank is None:
            return x
        if shape.rank != len(self.event_shape) + 1 or not shape[1:].is_compatible_with(self.event_shape):
            raise ValueError(f"{message} {shape.as_list()}")
        if shape[1:].is_fully_defined():
            return x
        check = tf.debugging.Assert(
            tf.reduce_all(tf.equal(tf.shape(x)[1:], self.event_shape)), [INPUT_CHECK_TAG + message, tf.shape(x)],
            summarize=8,
        )
        with tf.control_dependencies([check]):
            return tf.identity(x)

    def unpack_tuple(self, data, y, caller):
        """`fit((x, y))` (Keras' habit for several inputs) as `fit(x, y)` for a conditional model;
        `(x,)` as `x`."""
        if len(data) == 2 and self.condition_spec is None:
            raise ValueError(
                f"this FlowModel is unconditional but got x as a tuple of 2 arrays ({caller}((x, y)) reads as "
                f"{caller}(x, y), x with conditions); pass x alone, {caller}(x), or build the flow with "
                "num_classes= or context_shape= to train a conditional model"
            )
        if len(data) == 2 and y is not None:
            raise ValueError(f"pass the conditions once: {caller}((x, y)) or {caller}(x, y), not both")
        if len(data) not in (1, 2):
            raise ValueError(UNWEIGHTED if len(data) > 2 else f"{caller} got an empty tuple as x")
        return data[0], (data[1] if len(data) == 2 else y)

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


def symbolic(*values: object) -> bool:
    """True when called while tracing (a user's `tf.function`) with symbolic inputs, which
    `FlowModel` passes on unchecked (graph code is the caller's own)."""
    return not tf.executing_eagerly() or any(tf.is_tensor(v) and not hasattr(v, "numpy") for v in values)
