"""`check_invertibility`: measure how exactly a flow inverts on given data."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.annotations import ArrayLike


def check_invertibility(flow: tfp.distributions.Distribution | tfp.bijectors.Bijector, x: ArrayLike) -> dict:
    """Round-trip errors of `flow` (a distribution or bijector) on data `x: [batch, *event_shape]`.

    Maps `x` to the latent space and back through fresh tensors (so no cached
    result hides an error) and returns a dict with `max_abs_error`,
    `max_rel_error` (relative to `max|x|`) and `finite` (no NaN/Inf on the way).
    """
    bijector = getattr(flow, "bijector", flow)
    x = np.asarray(x)
    z = bijector.inverse(tf.constant(x))
    x_back = bijector.forward(tf.constant(z.numpy())).numpy()
    finite = bool(np.all(np.isfinite(z.numpy())) and np.all(np.isfinite(x_back)))
    error = float(np.max(np.abs(x_back - x))) if finite else float("inf")
    return {"max_abs_error": error, "max_rel_error": error / max(float(np.max(np.abs(x))), 1e-12), "finite": finite}
