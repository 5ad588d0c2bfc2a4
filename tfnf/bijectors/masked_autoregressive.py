"""`MaskedAutoregressive`: a masked autoregressive bijector over vectors (MAF / IAF).

An autoregressive map transforms element `i` with parameters computed from
the elements before it. Which side of the map those elements live on decides
which direction is one network pass and which needs `D` passes:

* `conditioned_on="data"` -- MAF (Papamakarios et al., 2017). Parameters come
  from the data side `x`: `x_i = T(z_i; theta_i(x_<i))`. The inverse
  (data -> latent, i.e. `log_prob`) is one MADE pass; the forward
  (latent -> data, i.e. sampling) is sequential.
* `conditioned_on="latent"` -- IAF (Kingma et al., 2016). Parameters come from
  the latent side `z`: `x_i = T(z_i; theta_i(z_<i))`. The forward (sampling,
  and the log-density of the flow's own samples, as variational inference
  needs) is one pass; the inverse (density of given data) is sequential.

The sequential direction is a `tf.while_loop` with a static trip count `D`:
each iteration runs the MADE on the current estimate and re-applies the
transformer to every element; after iteration `k` elements `0 .. k` are
exact, because element `k` depends only on elements before it. The loop
compiles under `tf.function` and `jit_compile=True` with a dynamic batch
size. It costs `D` network evaluations (a 64-dimensional MAF samples about
64 times slower than it evaluates densities), and it runs the network with
dropout off (`training=False`): dropout draws a fresh mask on every
iteration, which would break the exactness argument above.

A conditional bijector (`context_size=k`) takes the context the TFP way, as
the keyword `conditional_input: [*batch, k]` (or `[k]` for the whole batch) of
every method; the network reads it beside the autoregressive input in both
directions (see `MADE`). Inside a `tfb.Chain` it is routed by name, as for a
conditional coupling (`tfnf.bijectors.conditional_kwargs`).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import tensorflow as tf

from tfnf.bijectors.flow_bijector import check_event_shape, flatten_batch, unflatten_batch, unflatten_log_det
from tfnf.bijectors.network_bijector import NetworkBijector, autoregressive_passes
from tfnf.bijectors.transformers import AffineTransformer
from tfnf.nets.conditioners import build_network

CONDITIONED_ON = ("data", "latent")


class MaskedAutoregressive(NetworkBijector):
    """Masked autoregressive bijector over `x: [batch, D]` (latent -> data).

    Args:
      event_shape: `(D,)`.
      conditioned_on: `"data"` (MAF: fast density, sequential sampling) or
        `"latent"` (IAF: fast sampling, sequential density).
      transformer: the elementwise map (default `AffineTransformer(scale_bound)`,
        i.e. `x_i = z_i * exp(s_i) + t_i` with a tanh-bounded log-scale; any
        coupling transformer works, e.g. `RationalQuadraticSplineTransformer`).
      network: a Keras layer `[batch, D] -> [batch, D, transformer.num_params]`
        whose output `i` depends only on inputs `< i`; by default a `MADE` with
        `hidden_units`, zero-initialised at the output (identity at start).
      hidden_units: MADE widths for the default network.
      dropout: dropout rate in the default network (parallel direction only).
      scale_bound: largest absolute log-scale of the default affine transformer.
      context_size: None (unconditional), or the width `k` of the context
        `conditional_input: [batch, k]` the network also reads (a given
        `network` must then read it too: `network(x, context=c)` with
        `network.context_size == k`).
      dtype: float32 or float64.
      name: bijector name.
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        conditioned_on: str = "data",
        transformer: Any | None = None,
        network: Callable | None = None,
        hidden_units: Sequence[int] = (64, 64),
        dropout: float = 0.0,
        scale_bound: float = 2.0,
        context_size: int | None = None,
        dtype: tf.DType | str = tf.float32,
        name: str = "masked_autoregressive",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape, max_rank=1)
        if conditioned_on not in CONDITIONED_ON:
            raise ValueError(f"conditioned_on must be one of {CONDITIONED_ON}, got {conditioned_on!r}")
        dtype = tf.as_dtype(dtype)
        self._conditioned_on = conditioned_on
        self._transformer = AffineTransformer(scale_bound) if transformer is None else transformer
        if network is None:  # the default network (tfnf.nets.conditioners.DEFAULTS: a MADE)
            network = build_network(
                None, event_shape, event_shape, self._transformer.num_params, context_size, dtype,
                autoregressive=True, hidden_units=hidden_units, dropout=dropout,
            )
        super().__init__(event_shape, dtype, network, context_size, event_shape, parameters, name)

    @property
    def transformer(self):
        """The elementwise map applied to every element."""
        return self._transformer

    @property
    def conditioned_on(self):
        """`"data"` (MAF) or `"latent"` (IAF)."""
        return self._conditioned_on

    def _parallel(self, u, transform, context=None):
        """One pass: parameters from `u` itself (`u: [batch, D]`)."""
        out, log_det = transform(u, self.run_network(u, context))
        return out, tf.reduce_sum(log_det, axis=-1)

    def _sequential(self, u, transform, context=None):
        """`D` passes: parameters from the output being built (`u: [batch, D]`)."""

        out, log_det = autoregressive_passes(
            u, self.event_shape_in[0], lambda out: transform(u, self.run_network(out, context, training=False))
        )
        return out, tf.reduce_sum(log_det, axis=-1)

    def _apply(self, u, transform, parallel, conditional_input=None):
        u_flat, batch_shape = flatten_batch(u, self.event_shape_in)
        context = self.checked_context(conditional_input, batch_shape, "autoregressive bijector")
        out, log_det = (self._parallel if parallel else self._sequential)(u_flat, transform, context)
        return unflatten_batch(out, batch_shape, self.event_shape_in), unflatten_log_det(log_det, batch_shape)

    def _forward_and_log_det(self, z, conditional_input=None):
        return self._apply(z, self._transformer.forward, self._conditioned_on == "latent", conditional_input)

    def _inverse_and_log_det(self, x, conditional_input=None):
        return self._apply(x, self._transformer.inverse, self._conditioned_on == "data", conditional_input)
