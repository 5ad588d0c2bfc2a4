"""`ContinuousFlow`: FFJORD (Grathwohl et al., 2019), TFP's `tfb.FFJORD` over a Keras vector field."""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors.context_input import flat_context
from tfnf.bijectors.flow_bijector import FlowBijector, check_event_shape, flatten_batch, unflatten_batch, unflatten_log_det
from tfnf.bijectors.jacobian_trace import resolve_trace, trace_augmentation
from tfnf.nets.conv_vector_field import ConvVectorField
from tfnf.nets.vector_field import VectorField

tfb = tfp.bijectors


class ContinuousFlow(FlowBijector):
    """The time-`final_time` flow of the ODE `dx/dt = f(t, x)` over vectors `[batch, D]` or images `[batch, H, W, C]`.

    Latent -> data (`forward`) integrates from `t = 0` to `t = final_time`,
    data -> latent (`inverse`) back; `log|det J| = integral of tr(df/dx) dt`,
    integrated with the state (the instantaneous change of variables). The
    integration is `tfb.FFJORD` with TFP's Dormand-Prince solver (`rtol`,
    `atol`: densities are exact up to them). The trace (`trace`, see
    `tfnf.bijectors.jacobian_trace`) is exact for events of at most
    `EXACT_TRACE_MAX_DIMS` dimensions and Hutchinson's estimate with a fixed
    Rademacher probe above. Gradients come through the solver (TFP's adjoint
    method).

    The field `f` is a Keras layer held by this bijector (`VectorField`, an MLP,
    for vectors; `ConvVectorField`, `3 x 3` convolutions with the time as an
    input plane, for images), so its weights are in `trainable_variables`
    and train under `tfnf.FlowModel`; it starts at zero, so a new flow is the
    identity. A conditional flow (`context_size=k`) takes
    `conditional_input: [batch, k]` (or `[k]` for the batch) in every method
    and hands it to the field at every time.

    Args:
      event_shape: `(D,)` or `(H, W, C)`.
      hidden_units: widths of the field's hidden layers (units of the MLP,
        channels of the convolutions).
      activation: the field's (smooth) activation.
      final_time: the integration time `T > 0`.
      rtol, atol: relative and absolute tolerance of the ODE solver.
      trace: `"auto"`, `"exact"` or `"hutchinson"`.
      context_size: the width `k` of the context, or None (unconditional).
      dtype: floating dtype.
      name: bijector name.
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        hidden_units: Sequence[int] = (128, 128, 128),
        activation: str = "tanh",
        final_time: float = 1.0,
        rtol: float = 1e-5,
        atol: float = 1e-5,
        trace: str = "auto",
        context_size: int | None = None,
        dtype: tf.DType | str = tf.float32,
        name: str = "continuous_flow",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape, min_rank=1, max_rank=3)
        if len(event_shape) == 2:
            raise ValueError(f"event_shape must be (D,) (vectors) or (H, W, C) (images), got {event_shape!r}")
        dtype = tf.as_dtype(dtype)
        for label, value in (("final_time", final_time), ("rtol", rtol), ("atol", atol)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
                raise ValueError(f"{label} must be a finite number > 0, got {value!r}")
        self._trace = resolve_trace(trace, event_shape)
        self._context_size = None if context_size is None else int(context_size)
        field_type = VectorField if len(event_shape) == 1 else ConvVectorField
        self._field = field_type(
            event_shape[-1], hidden_units, activation, context_size=self._context_size, dtype=dtype.name,
            name=f"{name}_field",
        )
        with tf.init_scope():
            context = None if self._context_size is None else tf.zeros([1, self._context_size], dtype)
            self._field(tf.zeros([1, *event_shape], dtype), tf.zeros([], dtype), context)
        self._final_time = float(final_time)
        solver = tfp.math.ode.DormandPrince(rtol=float(rtol), atol=float(atol))
        self._ffjord = tfb.FFJORD(
            state_time_derivative_fn=self._time_derivative,
            ode_solve_fn=solver.solve,
            trace_augmentation_fn=trace_augmentation(self._trace),
            initial_time=0.0,
            final_time=self._final_time,
            dtype=dtype,
            name=f"{name}_ffjord",
        )
        super().__init__(event_shape, dtype, parameters=parameters, name=name)

    def _time_derivative(self, t, x, context=None):
        """`f(t, x)`, as `tfb.FFJORD` calls it (the context arrives as a solver constant)."""
        return self._field(x, t, context)

    def velocity(self, x: tf.Tensor, t: tf.Tensor, conditional_input: tf.Tensor | None = None) -> tf.Tensor:
        """The field `f(t, x)`: `x: [batch, *event]`, `t: []` or `[batch]` (and the context `[batch, k]`)
        -> `[batch, *event]`; what flow matching regresses."""
        batch_shape = tf.shape(x)[:1]
        context = flat_context(conditional_input, self._context_size, batch_shape, self.dtype, (self.name, "continuous flow"))
        return self._field(x, tf.cast(t, self.dtype), context)

    @property
    def vector_field(self):
        """The Keras layer `f(t, x)` (`VectorField` or `ConvVectorField`)."""
        return self._field

    @property
    def final_time(self) -> float:
        """The integration time `T`: latent at `t = 0`, data at `t = T`."""
        return self._final_time

    @property
    def trace(self) -> str:
        """How the trace of `df/dx` is computed: `"exact"` or `"hutchinson"`."""
        return self._trace

    @property
    def context_size(self) -> int | None:
        return self._context_size

    @property
    def keras_layers(self):
        return [self._field]

    def _solve(self, x, direction, conditional_input):
        """`x: [*batch, *event]` -> (the other end `[*batch, *event]`, the log-det of `direction` `[*batch]`)."""
        flat, batch_shape = flatten_batch(x, self.event_shape_in)
        context = flat_context(conditional_input, self._context_size, batch_shape, self.dtype, (self.name, "continuous flow"))
        kwargs = {} if context is None else {"context": context}
        event_ndims = len(self.event_shape_in)
        if direction == "forward":
            y = self._ffjord.forward(flat, **kwargs)
            log_det = self._ffjord.forward_log_det_jacobian(flat, event_ndims=event_ndims, **kwargs)
        else:
            y = self._ffjord.inverse(flat, **kwargs)
            log_det = self._ffjord.inverse_log_det_jacobian(flat, event_ndims=event_ndims, **kwargs)
        return unflatten_batch(y, batch_shape, self.event_shape_in), unflatten_log_det(log_det, batch_shape)

    def _forward_and_log_det(self, x, conditional_input=None):
        return self._solve(x, "forward", conditional_input)

    def _inverse_and_log_det(self, y, conditional_input=None):
        return self._solve(y, "inverse", conditional_input)
