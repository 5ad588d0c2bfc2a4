"""`Squeeze`: space-to-depth by a factor of 2 (a permutation, log-det 0)."""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from tfnf.bijectors.flow_bijector import FlowBijector, check_event_shape, flatten_batch


class Squeeze(FlowBijector):
    """Space-to-depth: `x: [batch, H, W, C] -> y: [batch, H/f, W/f, C*f*f]`.

    `forward` squeezes, `inverse` unsqueezes; wrap in `tfb.Invert` for the
    opposite direction. The map only reorders elements, so its log-det is 0.

    Args:
      event_shape: the unsqueezed event shape `(H, W, C)`; `H` and `W` must be
        divisible by `factor`.
      factor: block size (default 2).
      dtype: floating dtype.
      name: bijector name.
    """

    def __init__(
        self, event_shape: Sequence[int], factor: int = 2, dtype: tf.DType | str = tf.float32, name: str = "squeeze",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape, min_rank=3, max_rank=3)
        factor = int(factor)
        h, w, c = event_shape
        if factor < 1 or h % factor or w % factor:
            raise ValueError(f"Squeeze needs height and width divisible by factor={factor}, got event_shape={event_shape}")
        self._factor = factor
        self._squeezed_shape = (h // factor, w // factor, c * factor * factor)
        super().__init__(event_shape, dtype, is_constant_jacobian=True, parameters=parameters, name=name)

    @property
    def squeezed_shape(self):
        """The event shape on the output side, `(H/f, W/f, C*f*f)`."""
        return self._squeezed_shape

    def _zero_log_det(self, x, event_ndims):
        return tf.zeros(tf.shape(x)[: x.shape.rank - event_ndims], dtype=x.dtype)

    def _reshape_batch(self, x, event_in, event_out, op):
        flat, batch_shape = flatten_batch(x, event_in)
        out = op(flat, self._factor)
        return tf.reshape(out, tf.concat([batch_shape, tf.constant(event_out, tf.int32)], axis=0))

    def _forward_and_log_det(self, x):
        y = self._reshape_batch(x, self.event_shape_in, self._squeezed_shape, tf.nn.space_to_depth)
        return y, self._zero_log_det(x, 3)

    def _inverse_and_log_det(self, y):
        x = self._reshape_batch(y, self._squeezed_shape, self.event_shape_in, tf.nn.depth_to_space)
        return x, self._zero_log_det(y, 3)

    def _forward_event_shape(self, input_shape):
        return input_shape[:-3].concatenate(self._squeezed_shape)

    def _forward_event_shape_tensor(self, input_shape):
        return tf.concat([input_shape[:-3], tf.constant(self._squeezed_shape, input_shape.dtype)], axis=0)

    def _inverse_event_shape(self, output_shape):
        return output_shape[:-3].concatenate(self.event_shape_in)

    def _inverse_event_shape_tensor(self, output_shape):
        return tf.concat([output_shape[:-3], tf.constant(self.event_shape_in, output_shape.dtype)], axis=0)
