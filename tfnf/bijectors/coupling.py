"""`Coupling`: the coupling bijector shared by the affine and additive couplings.

A coupling splits the event with a mask, feeds the conditioning part to a
*conditioner* network (a Keras layer) and applies an elementwise *transformer*
to the other part with the parameters it emits:

    y_cond = x_cond,    y_trans = T(x_trans; conditioner(x_cond))

The Jacobian is triangular, so `log|det J| = sum(log|T'|)` over the
transformed elements. The conditioner and transformer are separate objects:
a new coupling type is a new transformer, a conditional one a new conditioner.
"""

import tensorflow as tf

from tfnf.bijectors.conv_conditioner import ConvConditioner
from tfnf.bijectors.coupling_masks import make_coupling_mask
from tfnf.bijectors.dense_conditioner import DenseConditioner
from tfnf.bijectors.flow_bijector import (
    FlowBijector,
    check_event_shape,
    event_sum,
    flatten_batch,
    unflatten_batch,
    unflatten_log_det,
)


def default_mask(event_shape):
    """`channel` for images `[H, W, C]`, `half` for vectors `[D]`."""
    return "channel" if len(event_shape) == 3 else "half"


class Coupling(FlowBijector):
    """A coupling bijector over `event_shape` (`[D]` vectors or `[H, W, C]` images).

    Args:
      event_shape: the event shape, `(D,)` or `(H, W, C)`.
      transformer: an object with `num_params`, `forward`, `inverse`
        (see `tfnf.bijectors.transformers`).
      mask: `"channel"` or `"checkerboard"` for images, `"half"` or `"alternate"`
        for vectors (default: `"channel"` / `"half"`).
      parity: 0 or 1; 1 swaps the conditioning and transformed parts.
      conditioner: a Keras layer mapping the conditioning part to
        `[batch, *transformed_shape, num_params]`; by default an MLP
        (`hidden_units`) for vectors or a conv net (`hidden_channels`) for images,
        zero-initialised at the output so the coupling starts as the identity.
      hidden_units: MLP widths for the default vector conditioner.
      hidden_channels: conv width for the default image conditioner (None: a
        single zero-initialised conv, as Glow's learned prior).
      dropout: dropout rate inside the default conditioner (training only).
      dtype: floating dtype (float32 or float64).
      name: bijector name.
    """

    def __init__(
        self,
        event_shape,
        transformer,
        mask=None,
        parity=0,
        conditioner=None,
        hidden_units=(64, 64),
        hidden_channels=128,
        dropout=0.0,
        dtype=tf.float32,
        name="coupling",
        parameters=None,
    ):
        parameters = dict(locals()) if parameters is None else parameters
        event_shape = check_event_shape("event_shape", event_shape)
        if len(event_shape) == 2:
            raise ValueError(f"couplings act on vectors [D] or images [H, W, C], got event_shape={event_shape}")
        dtype = tf.as_dtype(dtype)
        self._mask = make_coupling_mask(mask or default_mask(event_shape), event_shape, parity, dtype)
        self._transformer = transformer
        if conditioner is None:
            if len(event_shape) == 3:
                conditioner = ConvConditioner(
                    self._mask.transformed_shape[-1],
                    transformer.num_params,
                    hidden_channels=hidden_channels,
                    dropout=dropout,
                    dtype=dtype.name,
                )
            else:
                conditioner = DenseConditioner(
                    self._mask.transformed_shape,
                    transformer.num_params,
                    hidden_units=hidden_units,
                    dropout=dropout,
                    dtype=dtype.name,
                )
        self._conditioner = conditioner
        if not conditioner.built:
            with tf.init_scope():
                conditioner(tf.zeros([1, *self._mask.conditioner_input_shape], dtype))
        super().__init__(event_shape, dtype, parameters=parameters, name=name)

    @property
    def conditioner(self):
        """The Keras layer that emits the transformer's parameters."""
        return self._conditioner

    @property
    def transformer(self):
        """The elementwise map applied to the transformed part."""
        return self._transformer

    @property
    def keras_layers(self):
        return [self._conditioner]

    def _apply(self, x, transform):
        event_shape = self.event_shape_in
        x_flat, batch_shape = flatten_batch(x, event_shape)
        x_cond, x_trans = self._mask.split(x_flat)
        params = self._conditioner(x_cond)
        y_trans, log_det = transform(x_trans, params)
        y = self._mask.merge(x_flat, y_trans)
        if log_det is None:
            log_det = tf.zeros(tf.shape(y)[:1], dtype=y.dtype)
        else:
            if self._mask.log_det_weights is not None:
                log_det = log_det * self._mask.log_det_weights
            log_det = event_sum(log_det, len(event_shape))
        return unflatten_batch(y, batch_shape, event_shape), unflatten_log_det(log_det, batch_shape)

    def _forward_and_log_det(self, x):
        return self._apply(x, self._transformer.forward)

    def _inverse_and_log_det(self, y):
        return self._apply(y, self._transformer.inverse)
