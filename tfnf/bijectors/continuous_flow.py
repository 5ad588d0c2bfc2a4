"""`ContinuousFlow`: FFJORD (Grathwohl et al., 2019), TFP's `tfb.FFJORD` over a Keras vector field."""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors.flow_bijector import FlowBijector, check_event_shape, flatten_batch, unflatten_batch, unflatten_log_det
from tfnf.nets.vector_field import VectorField

tfb = tfp.bijectors


class ContinuousFlow(FlowBijector):
    """The time-`final_time` flow of the ODE `dx/dt = f(t, x)` over vectors `x: [batch, D]`.

    Latent -> data (`forward`) integrates from `t = 0` to `t = final_time`,
    data -> latent (`inverse`) back; `log|det J| = integral of tr(df/dx) dt`,
    integrated with the state. The integration is `tfb.FFJORD` with TFP's
    Dormand-Prince solver (`rtol`, `atol`) and the exact trace
    (`tfb.ffjord.trace_jacobian_exact`: `D` derivative passes per evaluation,
    meant for low-dimensional data; the log-det is then exact up to the
    solver's tolerance). Gradients come through the solver (TFP's adjoint
    method). The field `f` is a `VectorField` Keras layer held by this
    bijector, so its weights are in `trainable_variables` and train under
    `tfnf.FlowModel`; it starts at zero, so a new flow is the identity.

    Args:
      event_shape: `(D,)`.
      hidden_units: widths of the field's hidden layers.
      activation: the field's (smooth) activation.
      final_time: the integration time `T > 0`.
      rtol, atol: relative and absolute tolerance of the ODE solver.
      dtype: floating dtype.
      name: bijector name.
    """

    def __init__(
        self,
        event_shape: Sequence[int],
        hidden_units: Sequence[int] = (64, 64),
        activation: str = "tanh",
        final_time: float = 1.0,
        rtol: float = 1e-5,
        atol: float = 1e-5,
        dtype: tf.DType | str = tf.float32,
        name: str = "continuous_flow",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape, min_rank=1, max_rank=1)
        dtype = tf.as_dtype(dtype)
        for label, value in (("final_time", final_time), ("rtol", rtol), ("atol", atol)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
                raise ValueError(f"{label} must be a finite number > 0, got {value!r}")
        self._field = VectorField(event_shape[0], hidden_units, activation, dtype=dtype.name, name=f"{name}_field")
        with tf.init_scope():
            self._field(tf.zeros([1, event_shape[0]], dtype), tf.zeros([], dtype))
        self._final_time = float(final_time)
        solver = tfp.math.ode.DormandPrince(rtol=float(rtol), atol=float(atol))
        self._ffjord = tfb.FFJORD(
            state_time_derivative_fn=self._time_derivative,
            ode_solve_fn=solver.solve,
            trace_augmentation_fn=tfb.ffjord.trace_jacobian_exact,
            initial_time=0.0,
            final_time=self._final_time,
            dtype=dtype,
            name=f"{name}_ffjord",
        )
        super().__init__(event_shape, dtype, parameters=parameters, name=name)

    def _time_derivative(self, t, x):
        """`f(t, x)`, as `tfb.FFJORD` calls it."""
        return self._field(x, t)

    @property
    def vector_field(self):
        """The `VectorField` Keras layer `f(t, x)`."""
        return self._field

    @property
    def keras_layers(self):
        return [self._field]

    def _solve(self, x, direction):
        """`x: [*batch, D]` -> (the other end `[*batch, D]`, the log-det of `direction` `[*batch]`)."""
        flat, batch_shape = flatten_batch(x, self.event_shape_in)
        if direction == "forward":
            y = self._ffjord.forward(flat)
            log_det = self._ffjord.forward_log_det_jacobian(flat, event_ndims=1)
        else:
            y = self._ffjord.inverse(flat)
            log_det = self._ffjord.inverse_log_det_jacobian(flat, event_ndims=1)
        return unflatten_batch(y, batch_shape, self.event_shape_in), unflatten_log_det(log_det, batch_shape)

    def _forward_and_log_det(self, x):
        return self._solve(x, "forward")

    def _inverse_and_log_det(self, y):
        return self._solve(y, "inverse")
