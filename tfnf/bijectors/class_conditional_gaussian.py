"""`ClassConditionalGaussian`: the elementwise affine map that makes N(0, I) a per-class Gaussian."""

from __future__ import annotations

import math
from typing import Sequence

import tensorflow as tf

from tfnf.bijectors.flow_bijector import FlowBijector, check_event_shape, flatten_batch, unflatten_batch
from tfnf.nets.class_table import ClassTable


class ClassConditionalGaussian(FlowBijector):
    """`z -> mu_c + exp(log_sigma_c) * z` elementwise over `event_shape`, for the class `c` of
    each example (latent -> data): on top of `N(0, I)`, the base `N(mu_c, diag(sigma_c^2))`.

    The class comes as the one-hot context `conditional_input: [batch, K]`
    (or `[K]` for the whole batch), as for every conditional tfnf bijector.
    `log|det J| = sum(log_sigma_c)`.

    Args:
      event_shape: the flow's event shape, `(D,)` or `(H, W, C)`.
      num_classes: `K`.
      dtype: float32 or float64.
      name: bijector name.
    """

    def __init__(
        self, event_shape: Sequence[int], num_classes: int, dtype: tf.DType | str = tf.float32,
        name: str = "class_conditional_base",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape)
        dtype = tf.as_dtype(dtype)
        self._table = ClassTable(num_classes, math.prod(event_shape), dtype=dtype.name, name=f"{name}_table")
        self._num_classes = int(num_classes)
        super().__init__(event_shape, dtype, parameters=parameters, name=name)

    @property
    def keras_layers(self) -> list:
        return [self._table]

    @property
    def context_size(self) -> int:
        return self._num_classes

    def _parameters_for(self, conditional_input, batch_shape):
        if conditional_input is None:
            raise ValueError(
                f"{self.name} is a class-conditional base (num_classes={self._num_classes}) but received no "
                "conditional_input; condition the flow (tfnf.flows.condition(flow, labels))"
            )
        context = tf.cast(tf.convert_to_tensor(conditional_input), self.dtype)
        if context.shape.rank == 0 or (context.shape.rank is not None and context.shape[-1] not in (None, self._num_classes)):
            raise ValueError(
                f"{self.name} expects one-hot classes of shape [batch, {self._num_classes}], got {context.shape}"
            )
        full_shape = tf.concat([batch_shape, [self._num_classes]], axis=0)
        context = tf.reshape(tf.broadcast_to(context, full_shape), [-1, self._num_classes])
        loc, log_scale = self._table(context)
        return tf.reshape(loc, [-1, *self.event_shape_in]), tf.reshape(log_scale, [-1, *self.event_shape_in])

    def _apply(self, x, sign, conditional_input):
        flat, batch_shape = flatten_batch(x, self.event_shape_in)
        loc, log_scale = self._parameters_for(conditional_input, batch_shape)
        y = loc + tf.exp(log_scale) * flat if sign > 0 else (flat - loc) * tf.exp(-log_scale)
        log_det = float(sign) * tf.reduce_sum(tf.reshape(log_scale, [tf.shape(flat)[0], -1]), axis=-1)
        return unflatten_batch(y, batch_shape, self.event_shape_in), tf.reshape(log_det, batch_shape)

    def _forward_and_log_det(self, z, conditional_input=None):
        return self._apply(z, 1, conditional_input)

    def _inverse_and_log_det(self, x, conditional_input=None):
        return self._apply(x, -1, conditional_input)
