"""`FlowBijector`: the base class of every tfnf bijector.

A flow bijector computes its output and its log-det Jacobian in one pass
(`_forward_and_log_det`, `_inverse_and_log_det`). TFP's greedy-attribute cache
then hands the log-det to `forward_log_det_jacobian` / `inverse_log_det_jacobian`
when they are called on the same tensor, so `TransformedDistribution.log_prob`
runs each conditioner network once per bijector, and a stochastic conditioner
(dropout while training) sees one draw for both the transform and its log-det.

Parameters live in Keras 3 layers (`keras_layers`), so that a Keras model
holding the flow tracks, trains and saves every one. The `tf.Variable` behind
each Keras weight is also an attribute of the bijector (`_layer_variables`), so
the bijector, every TFP composition of it and every distribution built on it
list all of them in `trainable_variables` / `variables`, and
`tf.train.Checkpoint` saves them, as for any `tf.Module`.

Keyword arguments of `forward` / `inverse` / the log-dets (a conditional
bijector's `conditional_input`) reach the one-pass methods unchanged, and TFP's
cache keys its entries on them, so the same input under another context is a
new computation.
"""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.private_apis import one_pass_bijector_cache

tfb = tfp.bijectors


class FlowBijector(tfb.Bijector):
    """A `tfb.Bijector` over a fixed event shape whose parameters are Keras layers.

    Subclasses implement `_forward_and_log_det(x) -> (y, fldj)` and
    `_inverse_and_log_det(y) -> (x, ildj)`, where the log-dets have the batch
    shape of the input (already summed over the event dimensions). A
    conditional bijector takes keyword arguments there too (e.g.
    `_forward_and_log_det(x, conditional_input=None)`) and reports its
    context width in `context_size`.

    Args:
      event_shape: the event shape this bijector acts on (e.g. `[H, W, C]` or `[D]`).
      dtype: floating dtype of inputs, outputs and parameters.
      is_constant_jacobian: True when the log-det does not depend on the input.
      parameters: the constructor's `locals()`, as TFP expects.
      name: the bijector's name.
    """

    _cache = one_pass_bijector_cache()

    def __init__(
        self, event_shape: Sequence[int], dtype: tf.DType | str, is_constant_jacobian: bool = False,
        parameters: dict | None = None, name: str | None = None,
    ) -> None:
        self._event_shape_in = tuple(int(d) for d in event_shape)
        super().__init__(
            forward_min_event_ndims=len(self._event_shape_in),
            is_constant_jacobian=is_constant_jacobian,
            dtype=tf.as_dtype(dtype),
            parameters=parameters,
            name=name,
        )
        # `tf.Module` finds variables among attributes only, and a Keras weight is not
        # a `tf.Variable`: expose the one behind each (subclasses build their layers
        # before calling this constructor).
        variables = {}
        for layer in self.keras_layers:
            for weight in layer.weights:
                variable = getattr(weight, "value", weight)
                variables.setdefault(id(variable), variable)
        self._layer_variables = tuple(variables.values())

    def _get_parameterization(self):
        # Two bijectors with equal constructor arguments still hold different
        # weights, so each instance is its own cache key.
        return id(self)

    # --- what subclasses provide -------------------------------------------------
    @property
    def keras_layers(self) -> list:
        """The Keras layers holding this bijector's parameters (a list)."""
        return []

    @property
    def context_size(self) -> int | None:
        """Width `k` of the context `conditional_input: [batch, k]` this bijector reads, or None."""
        return None

    def _forward_and_log_det(self, x, **kwargs):
        raise NotImplementedError

    def _inverse_and_log_det(self, y, **kwargs):
        raise NotImplementedError

    # --- the TFP contract, built on the two one-pass methods -----------------------
    @property
    def event_shape_in(self) -> tuple:
        """The event shape of this bijector's latent-side input (a tuple of ints)."""
        return self._event_shape_in

    def _augmented_forward(self, x, **kwargs):
        y, fldj = self._forward_and_log_det(x, **kwargs)
        return y, {"fldj": fldj, "ildj": -fldj}

    def _augmented_inverse(self, y, **kwargs):
        x, ildj = self._inverse_and_log_det(y, **kwargs)
        return x, {"ildj": ildj, "fldj": -ildj}

    def _forward(self, x, **kwargs):
        return self._augmented_forward(x, **kwargs)[0]

    def _inverse(self, y, **kwargs):
        return self._augmented_inverse(y, **kwargs)[0]

    def _forward_log_det_jacobian(self, x, **kwargs):
        cached = self._cache.forward_attributes(x, **kwargs)
        if "fldj" not in cached:
            cached.update(self._augmented_forward(x, **kwargs)[1])
        return cached["fldj"]

    def _inverse_log_det_jacobian(self, y, **kwargs):
        cached = self._cache.inverse_attributes(y, **kwargs)
        if "ildj" not in cached:
            cached.update(self._augmented_inverse(y, **kwargs)[1])
        return cached["ildj"]


def flatten_batch(x, event_shape):
    """Reshape `x: [*batch, *event_shape]` to `[prod(batch), *event_shape]`.

    Returns the flattened tensor and the batch shape (a 1-D int32 tensor) that
    `unflatten_batch` needs to undo it. A rank-(event+1) input is returned as is.
    """
    event_ndims = len(event_shape)
    batch_shape = tf.shape(x)[: x.shape.rank - event_ndims]
    if x.shape.rank == event_ndims + 1:
        return x, batch_shape
    return tf.reshape(x, [-1, *event_shape]), batch_shape


def unflatten_batch(x, batch_shape, event_shape):
    """Inverse of `flatten_batch`: `[prod(batch), *event_shape] -> [*batch, *event_shape]`."""
    return tf.reshape(x, tf.concat([batch_shape, tf.constant(event_shape, tf.int32)], axis=0))


def unflatten_log_det(log_det, batch_shape):
    """Reshape a per-example log-det `[prod(batch)]` back to `batch_shape`."""
    return tf.reshape(log_det, batch_shape)


def event_sum(x, event_ndims):
    """Sum `x` over its last `event_ndims` axes: `[*batch, *event] -> [*batch]`."""
    if event_ndims == 0:
        return x
    return tf.reduce_sum(x, axis=list(range(-event_ndims, 0)))


def check_event_shape(name, event_shape, min_rank=1, max_rank=3):
    """Validate and normalise an event shape argument to a tuple of positive ints."""
    try:
        shape = tuple(int(d) for d in event_shape)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of ints such as (8, 8, 1) or (2,), got {event_shape!r}") from None
    if not min_rank <= len(shape) <= max_rank or any(d <= 0 for d in shape):
        raise ValueError(
            f"{name} must have {min_rank} to {max_rank} positive dimensions, got {event_shape!r}"
        )
    return shape
