"""`Coupling`: the coupling bijector shared by the affine and additive couplings.

A coupling splits the event with a mask, feeds the conditioning part to a
*conditioner* network (a Keras layer) and applies an elementwise *transformer*
to the other part with the parameters it emits:

    y_cond = x_cond,    y_trans = T(x_trans; conditioner(x_cond))

The Jacobian is triangular, so `log|det J| = sum(log|T'|)` over the
transformed elements. The conditioner and transformer are separate objects:
a new coupling type is a new transformer, a conditional one a conditioner
that also reads a context.

A conditional coupling (`context_size=k`) takes the context the TFP way, as a
keyword of every bijector method: `coupling.forward(x, conditional_input=c)`
with `c: [*batch, k]` (or `[k]`, shared by the whole batch). Inside a
`tfb.Chain` it is routed by bijector name, `chain.forward(x, coupling0={"conditional_input": c})`;
`tfnf.bijectors.conditional_kwargs` builds that nested dict for any flow.
"""

import tensorflow as tf

from tfnf.bijectors.conv_conditioner import ConvConditioner
from tfnf.bijectors.coupling_masks import make_coupling_mask
from tfnf.bijectors.dense_conditioner import DenseConditioner
from tfnf.bijectors.precision import network_dtype_policy
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
      context_size: None (unconditional), or the width `k` of the context
        `conditional_input: [batch, k]` the default conditioner also reads.
      fourier_frequencies: Fourier features of the conditioning part for the
        default vector conditioner (see `DenseConditioner`; empty: none).
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
        context_size=None,
        fourier_frequencies=(),
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
                    context_size=context_size,
                    dtype=network_dtype_policy(dtype),
                )
            else:
                conditioner = DenseConditioner(
                    self._mask.transformed_shape,
                    transformer.num_params,
                    hidden_units=hidden_units,
                    dropout=dropout,
                    context_size=context_size,
                    fourier_frequencies=fourier_frequencies,
                    dtype=network_dtype_policy(dtype),
                )
        elif context_size is not None and getattr(conditioner, "context_size", None) != int(context_size):
            raise ValueError(
                f"context_size={context_size} but the given conditioner reads context_size="
                f"{getattr(conditioner, 'context_size', None)}"
            )
        self._conditioner = conditioner
        self._context_size = getattr(conditioner, "context_size", None)
        if not conditioner.built:
            with tf.init_scope():
                x0 = tf.zeros([1, *self._mask.conditioner_input_shape], dtype)
                if self._context_size is None:
                    conditioner(x0)
                else:
                    conditioner(x0, context=tf.zeros([1, self._context_size], dtype))
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

    @property
    def context_size(self):
        return self._context_size

    def _flat_context(self, conditional_input, batch_shape):
        """`conditional_input: [*batch, k]` or `[k]` -> `[prod(batch), k]`; None when unconditional."""
        if self._context_size is None:
            if conditional_input is not None:
                raise ValueError(
                    f"{self.name} is an unconditional coupling but received conditional_input; "
                    "build the flow with a context (num_classes= or context_shape=) to condition it"
                )
            return None
        if conditional_input is None:
            raise ValueError(
                f"{self.name} is a conditional coupling (context_size={self._context_size}) but received no "
                "conditional_input; pass it as a keyword (tfnf.flows.condition(flow, context) builds the "
                "nested bijector_kwargs)"
            )
        context = tf.convert_to_tensor(conditional_input)
        if not (context.dtype.is_floating or context.dtype.is_integer):
            raise TypeError(f"conditional_input must hold real numbers, got dtype {context.dtype.name}")
        context = tf.cast(context, self.dtype)
        if context.shape.rank == 0 or (context.shape.rank is not None and context.shape[-1] not in (None, self._context_size)):
            raise ValueError(
                f"{self.name} expects conditional_input of shape [batch, {self._context_size}], "
                f"got {context.shape.as_list() if context.shape.rank is not None else 'unknown'}"
            )
        full_shape = tf.concat([batch_shape, [self._context_size]], axis=0)
        return tf.reshape(tf.broadcast_to(context, full_shape), [-1, self._context_size])

    def _apply(self, x, transform, conditional_input=None):
        event_shape = self.event_shape_in
        x_flat, batch_shape = flatten_batch(x, event_shape)
        x_cond, x_trans = self._mask.split(x_flat)
        context = self._flat_context(conditional_input, batch_shape)
        params = self._conditioner(x_cond) if context is None else self._conditioner(x_cond, context=context)
        params = tf.cast(params, x_flat.dtype)  # a mixed-precision network answers in 16 bits
        y_trans, log_det = transform(x_trans, params)
        y = self._mask.merge(x_flat, y_trans)
        if log_det is None:
            log_det = tf.zeros(tf.shape(y)[:1], dtype=y.dtype)
        else:
            if self._mask.log_det_weights is not None:
                log_det = log_det * self._mask.log_det_weights
            log_det = event_sum(log_det, len(event_shape))
        return unflatten_batch(y, batch_shape, event_shape), unflatten_log_det(log_det, batch_shape)

    def _forward_and_log_det(self, x, conditional_input=None):
        return self._apply(x, self._transformer.forward, conditional_input)

    def _inverse_and_log_det(self, y, conditional_input=None):
        return self._apply(y, self._transformer.inverse, conditional_input)
