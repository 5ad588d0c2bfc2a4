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

from __future__ import annotations

from typing import Any, Callable, Sequence

import tensorflow as tf

from tfnf.bijectors.coupling_masks import make_coupling_mask
from tfnf.bijectors.flow_bijector import check_event_shape, event_sum, flatten_batch, unflatten_batch, unflatten_log_det
from tfnf.bijectors.network_bijector import NetworkBijector
from tfnf.nets.conditioners import build_network
from tfnf.nets.image_context_conditioner import image_context_conditioner


def default_mask(event_shape):
    """`channel` for images `[H, W, C]`, `half` for vectors `[D]`."""
    return "channel" if len(event_shape) == 3 else "half"


def coupling_network(
    conditioner, event_shape, mask, parity, num_params, context_size=None, dtype=tf.float32, name=None,
    context_image=None, **builder_options
):
    """The network of one coupling over `event_shape` with `mask` (None: `default_mask`) and
    `parity`, for a flow builder to hand to the coupling ready-built.

    `conditioner` is resolved (`tfnf.nets.conditioners.resolve`); None returns None, and
    the coupling then builds the default network itself (through the same
    `tfnf.nets.conditioners.build_network`). With `context_image` `(h, w, c)` the network
    reads an image context through an `ImageContextConditioner` (None: the default conv
    net inside it). `builder_options` are the builder's `hidden_units`,
    `hidden_channels`, `dropout`, `fourier_frequencies`.
    """
    if conditioner is None and context_image is None:
        return None
    event_shape = tuple(event_shape)
    transformed_shape = make_coupling_mask(mask or default_mask(event_shape), event_shape, parity, dtype).transformed_shape
    if context_image is not None:
        return image_context_conditioner(
            conditioner, event_shape, transformed_shape, num_params, context_image, dtype, name, **builder_options
        )
    return build_network(conditioner, event_shape, transformed_shape, num_params, context_size, dtype, name, **builder_options)


def subclass_parameters(arguments: dict) -> dict:
    """A `Coupling` subclass's constructor arguments (its `locals()`) as TFP `parameters`:
    `**coupling_arguments` spread out, so `type(b)(**b.parameters)` rebuilds it."""
    own = {k: v for k, v in arguments.items() if k not in ("self", "__class__", "coupling_arguments")}
    return {**own, **arguments.get("coupling_arguments", {})}


class Coupling(NetworkBijector):
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
        event_shape: Sequence[int],
        transformer: Any,
        mask: str | None = None,
        parity: int = 0,
        conditioner: Callable | None = None,
        hidden_units: Sequence[int] = (64, 64),
        hidden_channels: int | None = 128,
        dropout: float = 0.0,
        context_size: int | None = None,
        fourier_frequencies: Sequence[float] = (),
        dtype: tf.DType | str = tf.float32,
        name: str = "coupling",
        parameters: dict | None = None,
    ) -> None:
        parameters = dict(locals()) if parameters is None else parameters
        event_shape = check_event_shape("event_shape", event_shape)
        if len(event_shape) == 2:
            raise ValueError(f"couplings act on vectors [D] or images [H, W, C], got event_shape={event_shape}")
        dtype = tf.as_dtype(dtype)
        self._mask = make_coupling_mask(mask or default_mask(event_shape), event_shape, parity, dtype)
        self._transformer = transformer
        if conditioner is None:  # the default network of the event's kind (tfnf.nets.conditioners.DEFAULTS)
            conditioner = build_network(
                None, event_shape, self._mask.transformed_shape, transformer.num_params, context_size, dtype,
                hidden_units=hidden_units, hidden_channels=hidden_channels, dropout=dropout,
                fourier_frequencies=fourier_frequencies,
            )
        super().__init__(
            event_shape, dtype, conditioner, context_size, self._mask.conditioner_input_shape, parameters, name,
            network_role="conditioner",
        )

    @property
    def conditioner(self):
        """The Keras layer that emits the transformer's parameters (the bijector's `network`)."""
        return self._network

    @property
    def transformer(self):
        """The elementwise map applied to the transformed part."""
        return self._transformer

    def _apply(self, x, transform, conditional_input=None):
        event_shape = self.event_shape_in
        x_flat, batch_shape = flatten_batch(x, event_shape)
        x_cond, x_trans = self._mask.split(x_flat)
        context = self.checked_context(conditional_input, batch_shape, "coupling")
        y_trans, log_det = transform(x_trans, self.run_network(x_cond, context))
        y = self._mask.merge(x_flat, y_trans)
        return unflatten_batch(y, batch_shape, event_shape), unflatten_log_det(self._total_log_det(log_det, y), batch_shape)

    def _total_log_det(self, log_det, y):
        """`[batch]` log-det of the transformer's elementwise terms (None: volume preserving) for output `y`."""
        if log_det is None:
            return tf.zeros(tf.shape(y)[:1], dtype=y.dtype)
        if self._mask.log_det_weights is not None:
            log_det = log_det * self._mask.log_det_weights
        return event_sum(log_det, len(self.event_shape_in))

    def _forward_and_log_det(self, x, conditional_input=None):
        return self._apply(x, self._transformer.forward, conditional_input)

    def _inverse_and_log_det(self, y, conditional_input=None):
        return self._apply(y, self._transformer.inverse, conditional_input)

    # --- memory-saving gradients (`MemorySavingChain`) ------------------------------------
    def inverse_vjp_from_output(
        self, output: tf.Tensor, output_grad: tf.Tensor, log_det_grad: tf.Tensor, variables: Sequence[tf.Variable],
        conditional_input: tf.Tensor | None = None,
    ) -> tuple:
        """The data -> latent map's input recomputed from its `output`, with its vector-Jacobian
        product, for one pass of the conditioner instead of two.

        The conditioning part of the input equals that of the output, so the network runs once
        on it: its parameters give the input's transformed part (latent -> data, not
        differentiated), and the same parameters, under a tape, the inverse from that input.

        Args:
          output: `[batch, *event_shape]`, the latent side.
          output_grad, log_det_grad: the gradients of the output `[batch, *event_shape]` and of
            the inverse log-det `[batch]`.
          variables: the floating `tf.Variable`s to differentiate with respect to.
          conditional_input: the context `[batch, k]` or None.

        Returns:
          `(input, input_grad, context_grad, variable_grads)`; the context's and the variables'
          gradients are None where the output does not depend on them.
        """
        event_shape = self.event_shape_in
        out_flat, batch_shape = flatten_batch(output, event_shape)
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            out_cond, out_trans = self._mask.split(out_flat)
            cond = tf.identity(out_cond)
            tape.watch(cond)
            if conditional_input is not None:
                tape.watch(conditional_input)
            tape.watch(variables)
            params = self.run_network(cond, self.checked_context(conditional_input, batch_shape, "coupling"))
            x_flat = tf.stop_gradient(self._mask.merge(out_flat, self._transformer.forward(out_trans, params)[0]))
            tape.watch(x_flat)
            z_trans, log_det = self._transformer.inverse(self._mask.split(x_flat)[1], params)
            z = self._mask.merge(x_flat, z_trans)
            log_det = self._total_log_det(log_det, z)
        sources = [x_flat, cond] + ([conditional_input] if conditional_input is not None else []) + list(variables)
        out_grad_flat = flatten_batch(output_grad, event_shape)[0]
        found = tape.gradient(
            [z, log_det], sources, output_gradients=[out_grad_flat, tf.reshape(log_det_grad, [-1])],
            unconnected_gradients=tf.UnconnectedGradients.NONE,
        )
        direct, through_network = found[0], found[1]
        if through_network is not None:  # the network read the input's conditioning part
            with tf.GradientTape() as split_tape:
                split_tape.watch(x_flat)
                part = self._mask.split(x_flat)[0]
            through_network = split_tape.gradient(part, x_flat, output_gradients=through_network)
            direct = through_network if direct is None else direct + through_network
        context_grad = found[2] if conditional_input is not None else None
        variable_grads = found[3:] if conditional_input is not None else found[2:]
        input_value = unflatten_batch(x_flat, batch_shape, event_shape)
        input_grad = None if direct is None else unflatten_batch(direct, batch_shape, event_shape)
        return input_value, input_grad, context_grad, list(variable_grads)
