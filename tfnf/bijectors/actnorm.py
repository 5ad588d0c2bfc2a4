"""`ActNorm`: Glow's per-channel affine normalisation with data-dependent initialisation."""

from __future__ import annotations

import contextlib
import math
import threading
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfnf.bijectors.flow_bijector import FlowBijector, check_event_shape

_INIT_STATE = threading.local()


@keras.saving.register_keras_serializable(package="tfnf")
class ActNormParameters(keras.layers.Layer):
    """The weights of one `ActNorm`: `loc_and_log_scale: [2, C]` (row 0 `loc`, row 1
    `log_scale`: one trainable variable rather than two, as the optimiser's update
    costs per variable) and `initialized: []`.

    `initialized` is a non-trainable 0/1 weight, so it is saved and restored with
    the others and a reloaded model never re-initialises.
    """

    def __init__(self, num_channels: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_channels = int(num_channels)
        self.loc_and_log_scale = self.add_weight(
            shape=(2, self.num_channels), initializer="zeros", name="loc_and_log_scale"
        )
        self.initialized = self.add_weight(shape=(), initializer="zeros", trainable=False, name="initialized")
        self.built = True

    def call(self, x):
        """`x` unchanged: the layer only holds ActNorm's weights."""
        return x

    def get_config(self):
        config = super().get_config()
        config.update(num_channels=self.num_channels)
        return config


@contextlib.contextmanager
def data_dependent_initialization():
    """Within this context, an uninitialised `ActNorm` initialises itself from
    the first batch it maps data -> latent (`inverse`), eagerly.

    Use `initialize_actnorms(flow_or_bijector, batch)` rather than this directly.
    """
    previous = getattr(_INIT_STATE, "active", False)
    _INIT_STATE.active = True
    try:
        yield
    finally:
        _INIT_STATE.active = previous


def initialize_actnorms(flow, batch, **bijector_kwargs):
    """Run `batch` (data, `[N, *event_shape]`) data -> latent through `flow`,
    initialising every not-yet-initialised `ActNorm` on the way.

    `flow` is a `tfd.TransformedDistribution` or a bijector; a conditional
    flow also needs its `bijector_kwargs` (`tfnf.flows.condition(flow, context)`
    for the batch's contexts). Must run eagerly. Returns the number of
    `ActNorm`s that were initialised.
    """
    if not tf.executing_eagerly():
        raise RuntimeError("ActNorm data-dependent initialisation must run eagerly, not inside tf.function")
    bijector = getattr(flow, "bijector", flow)
    actnorms = [m for m in [bijector, *bijector.submodules] if isinstance(m, ActNorm)]
    before = sum(a.is_initialized for a in actnorms)
    dtype = bijector.dtype or next((m.dtype for m in bijector.submodules if isinstance(m, FlowBijector)), tf.float32)
    with data_dependent_initialization():
        bijector.inverse(tf.cast(batch, dtype), **bijector_kwargs)
    return sum(a.is_initialized for a in actnorms) - before


class ActNorm(FlowBijector):
    """Per-channel affine map `y = x * exp(log_scale) + loc` (latent -> data).

    `x, y: [batch, *event_shape]`; the parameters have shape `[C]`, `C =
    event_shape[-1]`, shared over the other event axes, so
    `log|det J| = prod(event_shape[:-1]) * sum(log_scale)`.

    Data-dependent initialisation (`initialize_actnorms`) sets `loc`, `log_scale`
    so that the latent-side outputs of the init batch have zero mean and unit
    variance per channel.

    Args:
      event_shape: `(D,)` or `(H, W, C)`.
      dtype: floating dtype.
      name: bijector name.
    """

    def __init__(self, event_shape: Sequence[int], dtype: tf.DType | str = tf.float32, name: str = "actnorm") -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape)
        dtype = tf.as_dtype(dtype)
        self._params = ActNormParameters(event_shape[-1], dtype=dtype.name, name=name)
        self._spatial_size = math.prod(event_shape[:-1])
        super().__init__(event_shape, dtype, parameters=parameters, name=name)

    @property
    def keras_layers(self):
        return [self._params]

    @property
    def loc(self):
        """The current `loc: [C]` (a tensor)."""
        return self._loc_and_log_scale()[0]

    @property
    def log_scale(self):
        """The current `log_scale: [C]` (a tensor)."""
        return self._loc_and_log_scale()[1]

    @property
    def variable(self):
        """The trainable `[2, C]` variable holding `loc` (row 0) and `log_scale` (row 1)."""
        return self._params.loc_and_log_scale

    @property
    def initialized_flag(self):
        """The variable that records the initialisation: 1.0 once it has run, else 0.0."""
        return self._params.initialized

    @property
    def is_initialized(self):
        """Whether the data-dependent initialisation has run (a Python bool; eager only)."""
        return bool(self._params.initialized.numpy() > 0.5)

    def _log_det(self, x, log_scale):
        value = self._spatial_size * tf.reduce_sum(log_scale)
        batch_shape = tf.shape(x)[: x.shape.rank - len(self.event_shape_in)]
        return tf.fill(batch_shape, value)

    def _loc_and_log_scale(self):
        packed = tf.convert_to_tensor(self._params.loc_and_log_scale)
        return packed[0], packed[1]

    def _forward_and_log_det(self, x):
        loc, log_scale = self._loc_and_log_scale()
        y = x * tf.math.exp(log_scale) + loc
        return y, self._log_det(x, log_scale)

    def _maybe_initialize(self, y):
        if not getattr(_INIT_STATE, "active", False) or not tf.executing_eagerly() or self.is_initialized:
            return
        axes = tuple(range(y.shape.rank - 1))
        values = y.numpy().astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError("ActNorm initialisation batch contains NaN or Inf")
        mean = values.mean(axis=axes)
        std = values.std(axis=axes)
        packed = np.stack([mean, np.log(np.maximum(std, 1e-6))])
        self._params.loc_and_log_scale.assign(packed.astype(self.dtype.as_numpy_dtype))
        self._params.initialized.assign(1.0)

    def _inverse_and_log_det(self, y):
        self._maybe_initialize(y)
        loc, log_scale = self._loc_and_log_scale()
        x = (y - loc) * tf.math.exp(-log_scale)
        return x, -self._log_det(y, log_scale)
