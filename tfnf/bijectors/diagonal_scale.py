"""`DiagonalScale`: a learned elementwise scaling, NICE's last layer."""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from tfnf.bijectors.flow_bijector import FlowBijector, check_event_shape, event_sum


@keras.saving.register_keras_serializable(package="tfnf")
class DiagonalScaleParameters(keras.layers.Layer):
    """The weight of one `DiagonalScale`: `log_scale` with the event's shape."""

    def __init__(self, event_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in event_shape)
        self.log_scale = self.add_weight(shape=self.target_shape, initializer="zeros", name="log_scale")
        self.built = True

    def call(self, x):
        return x

    def get_config(self):
        config = super().get_config()
        config.update(event_shape=self.target_shape)
        return config


class DiagonalScale(FlowBijector):
    """`y = x * exp(log_scale)` elementwise, `log_scale` of shape `event_shape`.

    `x, y: [batch, *event_shape]`; `log|det J| = sum(log_scale)`. Starts as the
    identity (`log_scale = 0`).

    Args:
      event_shape: the event shape.
      dtype: floating dtype.
      name: bijector name.
    """

    def __init__(self, event_shape: Sequence[int], dtype: tf.DType | str = tf.float32, name: str = "diagonal_scale") -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape)
        dtype = tf.as_dtype(dtype)
        self._params = DiagonalScaleParameters(event_shape, dtype=dtype.name, name=name)
        super().__init__(event_shape, dtype, parameters=parameters, name=name)

    @property
    def keras_layers(self):
        return [self._params]

    def _log_det(self, x):
        batch_shape = tf.shape(x)[: x.shape.rank - len(self.event_shape_in)]
        return tf.fill(batch_shape, event_sum(self._params.log_scale, len(self.event_shape_in)))

    def _forward_and_log_det(self, x):
        return x * tf.math.exp(self._params.log_scale), self._log_det(x)

    def _inverse_and_log_det(self, y):
        return y * tf.math.exp(-self._params.log_scale), -self._log_det(y)
