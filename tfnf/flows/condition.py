"""Conditional flows: what a flow's context is, and `condition(flow, context)`.

A conditional flow (`glow(..., num_classes=K)`, `realnvp(..., context_shape=(k,))`)
feeds a context to every coupling conditioner (and to Glow's learned priors).
Its context is either an integer class label, turned into a one-hot vector of
length `K`, an arbitrary float vector of length `k`, or (image flows,
`context_shape=(h, w, c)`) a float image `[h, w, c]`, such as the
low-resolution version of the image being modelled. An image context travels
through the chain flattened to a vector of length `h * w * c`; each coupling's
`ImageContextConditioner` reshapes it back and encodes it at that coupling's
resolution. TFP passes it per
bijector through the chain (`bijector_kwargs`); `condition` builds that
nested dict, so

    flow.log_prob(x, bijector_kwargs=tfnf.flows.condition(flow, labels))
    flow.sample(n, bijector_kwargs=tfnf.flows.condition(flow, labels))   # len(labels) == n, or one label
    flow.bijector.forward(z, **tfnf.flows.condition(flow, labels))
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.annotations import ArrayLike
from tfnf.bijectors import conditional_kwargs, context_size_of
from tfnf.flows.argument_checks import as_int, integer_at_least
from tfnf.flows.flow_distribution import flow_config


def context_spec(num_classes=None, context_shape=None, image_context=False):
    """Validate a builder's context arguments; returns `(spec, context_size)` or `(None, None)`.

    `spec` is `{"num_classes": K}` or `{"context_shape": [k]}`, as recorded on the flow;
    with `image_context=True` (image flows) also `{"context_shape": [h, w, c]}`, whose
    `context_size` is the flattened width `h * w * c`.
    """
    if num_classes is not None and context_shape is not None:
        raise ValueError(
            f"pass num_classes (integer labels) or context_shape (vectors), not both; got "
            f"num_classes={num_classes!r}, context_shape={context_shape!r}"
        )
    if num_classes is not None:
        classes = integer_at_least("num_classes", num_classes, 2, "an integer >= 2 or None")
        return {"num_classes": classes}, classes
    if context_shape is not None:
        try:
            shape = [as_int(d) for d in context_shape]
        except TypeError:
            shape = [None]
        if isinstance(context_shape, (str, bytes)) or None in shape:
            raise TypeError(f"context_shape must be a tuple like (k,), got {context_shape!r}")
        if image_context and len(shape) == 3:
            if min(shape) < 1:
                raise ValueError(f"context_shape (h, w, c) must have every size >= 1 (an image context), got {context_shape!r}")
            return {"context_shape": shape}, shape[0] * shape[1] * shape[2]
        if len(shape) != 1 or shape[0] < 1:
            expected = "(k,) with k >= 1 (a context vector) or (h, w, c) (an image context)" if image_context else (
                "(k,) with k >= 1 (a context vector)"
            )
            raise ValueError(f"context_shape must be {expected}, got {context_shape!r}")
        return {"context_shape": shape}, shape[0]
    return None, None


def image_context_shape(spec):
    """`(h, w, c)` for an image context spec, None for labels, vectors or no context."""
    shape = (spec or {}).get("context_shape")
    return tuple(shape) if shape is not None and len(shape) == 3 else None


def flow_context(flow: tfp.distributions.Distribution | tfp.bijectors.Bijector) -> dict | None:
    """What `flow` is conditioned on: `{"num_classes": K}`, `{"context_shape": [k]}`, or None (unconditional).

    Flows from the tfnf builders record it; for other flows it is read off the
    conditional bijectors (a vector context of their width).
    """
    config = flow_config(flow)
    if config is not None:
        return config.get("context")
    size = context_size_of(getattr(flow, "bijector", flow))
    return None if size is None else {"context_shape": [size]}


def _is_concrete(value):
    return not tf.is_tensor(value) or (tf.executing_eagerly() and hasattr(value, "numpy"))


def check_condition(spec, condition, name="condition"):
    """Check a concrete condition against `spec` and return it as a NumPy array.

    Class labels: integers in `[0, num_classes)`, shape `[batch]` or `[]`
    (int32). Vectors: finite, shape `[batch, k]` or `[k]` (float32). Images
    (`context_shape=[h, w, c]`): finite, `[batch, h, w, c]` or `[h, w, c]`,
    returned flattened to `[batch, h*w*c]` / `[h*w*c]` (float32). Raises
    `ValueError` / `TypeError` naming the problem.
    """
    if isinstance(condition, (tf.Tensor, tf.Variable)):
        condition = condition.numpy()
    array = np.asarray(condition)
    if "num_classes" in spec:
        classes = spec["num_classes"]
        if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        if array.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integer class labels in [0, {classes}), got dtype {array.dtype}")
        if array.ndim > 1:
            raise ValueError(f"{name} must be class labels of shape [batch] (or one label), got shape {list(array.shape)}")
        if array.size and (array.min() < 0 or array.max() >= classes):
            raise ValueError(
                f"{name} must hold class labels in [0, {classes}) for num_classes={classes}, "
                f"got values in [{array.min()}, {array.max()}]"
            )
        return array.astype(np.int32)
    if image_context_shape(spec) is not None:
        return _check_image_condition(spec["context_shape"], array, name)
    (size,) = spec["context_shape"]
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.ndim not in (1, 2) or array.shape[-1] != size:
        raise ValueError(f"{name} must have shape [batch, {size}] (or [{size}]), got {list(array.shape)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or Inf values")
    return array.astype(np.float32)


def _check_image_condition(shape, array, name):
    """Image contexts `[batch, h, w, c]` or `[h, w, c]` (or the flattened `[batch, h*w*c]` / `[h*w*c]`
    this returns) -> float32 `[batch, h*w*c]` / `[h*w*c]`."""
    h, w, c = shape
    size = h * w * c
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers (an image context), got dtype {array.dtype}")
    if array.ndim in (3, 4) and tuple(array.shape[-3:]) == (h, w, c):
        array = array.reshape(*array.shape[:-3], size)
    elif not (array.ndim in (1, 2) and array.shape[-1] == size):  # already flattened (by this function)
        raise ValueError(f"{name} must have shape [batch, {h}, {w}, {c}] (or [{h}, {w}, {c}]), got {list(array.shape)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or Inf values")
    return array.astype(np.float32)


def context_vector(spec, condition, dtype=tf.float32):
    """The context the bijectors read: one-hot labels `[batch, K]`, or the vectors `[batch, k]`, as `dtype`.

    Concrete values are checked first (`check_condition`); tensors inside a
    `tf.function` are converted as they are.
    """
    if _is_concrete(condition):
        condition = check_condition(spec, condition)
    return encode_context(spec, condition, dtype)


def encode_context(spec, condition, dtype=tf.float32):
    """`condition` as the bijectors read it, unchecked: labels `[...]` -> one-hot `[..., K]`,
    vectors `[..., k]` cast to `dtype` (any leading shape); images `[..., h, w, c]` flattened
    to `[..., h*w*c]` (already flattened ones pass as they are)."""
    if "num_classes" in spec:
        return tf.one_hot(tf.cast(condition, tf.int32), spec["num_classes"], dtype=dtype)
    image = image_context_shape(spec)
    if image is not None:
        condition = tf.convert_to_tensor(condition)
        rank = condition.shape.rank
        if rank is not None and rank >= 3 and tuple(condition.shape[-3:]) == image:  # images [..., h, w, c]
            flat_size = image[0] * image[1] * image[2]
            condition = tf.reshape(condition, tf.concat([tf.shape(condition)[:-3], [flat_size]], axis=0))
        elif rank is None:  # a pipeline that lost the static shape: one context per example
            condition = tf.reshape(condition, [-1, image[0] * image[1] * image[2]])
    return tf.cast(condition, dtype)


def condition(flow: tfp.distributions.Distribution | tfp.bijectors.Bijector, context: ArrayLike) -> dict:
    """The `bijector_kwargs` that condition `flow` on `context`.

    Args:
      flow: a conditional flow (from `tfnf.flows` with `num_classes=` or
        `context_shape=`), or its bijector.
      context: class labels `[batch]` (int) for a class-conditional flow,
        vectors `[batch, k]`, or images `[batch, h, w, c]` for an image
        context; one label / vector `[k]` / image `[h, w, c]` applies to the
        whole batch.

    Returns:
      The nested dict of keyword arguments TFP routes through the flow's chain:
      use it as `flow.log_prob(x, bijector_kwargs=...)`,
      `flow.sample(n, bijector_kwargs=...)` or `flow.bijector.forward(z, **...)`.

    Raises:
      ValueError: `flow` is not conditional, or the labels / vectors do not fit it.
    """
    spec = flow_context(flow)
    if spec is None:
        raise ValueError("condition: this flow is unconditional; build it with num_classes= or context_shape=")
    bijector = getattr(flow, "bijector", flow)
    dtype = getattr(flow, "dtype", None) or tf.float32
    return conditional_kwargs(bijector, context_vector(spec, context, dtype))
