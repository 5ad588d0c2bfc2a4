"""`DataFlow`: a flow as a model of data in their own units.

One graph-pure `tf.Module` holds every rule that turns a flow (a
`tfd.TransformedDistribution` whose bijector maps latent -> the flow's working
range) into a model of data: the map from the working range to data units
(pixel scaling, shift or logit), dequantisation, `log_prob` in data units,
bits/dim, sampling from the flow's own base at a temperature, quantisation,
encode/decode and interpolation. `tfnf.FlowModel` and the SavedModel export
both call it, so each rule is written once.

Every method is plain TensorFlow: it runs eagerly, inside a user's
`tf.function` and under XLA, and takes any leading batch shape
`[..., *event_shape]` (a conditional flow's condition has the same leading
shape, or is one label / vector for all). Concrete inputs are not validated
here; `FlowModel` checks what users hand it, the export's signatures check
what clients send.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.annotations import ArrayLike
from tfnf.bijectors import conditional_kwargs
from tfnf.bijectors.latent_levels import latent_levels
from tfnf.flows.condition import encode_context
from tfnf.flows.data_bijector import data_bijector
from tfnf.rules.bits_per_dim import nats_to_bits_per_dim
from tfnf.rules.dequantization import dequantize
from tfnf.rules.integers import seed_pair
from tfnf.rules.temperature import IN_RANGE, not_gaussian_message

tfb = tfp.bijectors
tfd = tfp.distributions

INTERPOLATIONS = ("linear", "slerp")


def is_gaussian(distribution):
    """True for a normal base: `Normal`, any `MultivariateNormalLinearOperator`
    (`MultivariateNormalDiag`, `...TriL`), or `Sample` / `Independent` of one."""
    while isinstance(distribution, (tfd.Sample, tfd.Independent)):
        distribution = distribution.distribution
    return isinstance(distribution, (tfd.Normal, tfd.MultivariateNormalLinearOperator))


class DataFlow(tf.Module):
    """`flow` as a density and a generator over data in their own units.

    Temperature: for a Gaussian base (standard, or with learned mean and
    diagonal or full scale) a sample at temperature `T` is
    `mean + T * (z - mean)` with `z` drawn from the base, i.e. the base's
    standardised noise scaled by `T`; `T = 0` gives the decoded mean. Any other
    base (a mixture, a Student-t, ...) is sampled as it is, and only `T = 1`
    is defined for it (other values are an error).

    A multi-scale flow (`glow`, image `realnvp`) sends part of its latent to
    the base at each level; `temperature` may then be a sequence with one value
    per level (`latent_levels`: level 0 is the part factored out first, at the
    finest scale, the last the deepest), each scaling that level's part.

    Args:
      flow: a `tfd.TransformedDistribution` with a fully defined event shape
        and batch shape `[]`; its base may be any distribution (it is sampled
        as it is, see above).
      num_bins: number of discrete levels of the data (pixels in
        `[0, num_bins)`), or None for continuous data.
      preprocessing: `"shift"`, `"logit"` or `"none"` (see `data_bijector`).
      logit_alpha: boundary margin of the logit preprocessing.
      condition_spec: None, `{"num_classes": K}` or `{"context_shape": [k]}`.
      dequantizer: None (uniform noise), or a callable `x -> (u, log_q)`
        drawing dequantisation noise `u` with its log-density (e.g.
        `tfnf.keras.VariationalDequantizer`).
    """

    def __init__(
        self, flow: tfd.TransformedDistribution, num_bins: int | None = None, preprocessing: str = "none",
        logit_alpha: float = 0.05, condition_spec: dict | None = None, dequantizer: Callable | None = None, name: str = "data_flow",
    ) -> None:
        super().__init__(name=name)
        if not (isinstance(flow, tfd.Distribution) and hasattr(flow, "bijector") and hasattr(flow, "distribution")):
            raise TypeError(f"flow must be a tfd.TransformedDistribution (e.g. tfnf.flows.glow(...)), got {type(flow).__name__}")
        if not flow.event_shape.is_fully_defined():
            raise ValueError(f"the flow's event shape must be fully defined, got {flow.event_shape}")
        if flow.batch_shape.rank != 0:
            raise ValueError(
                f"the flow must have batch shape [] (one distribution over events), got {flow.batch_shape}; "
                "wrap a batched base in tfd.Independent or tfd.Sample"
            )
        self.flow = flow
        self.base = flow.distribution
        self.event_shape = tuple(int(d) for d in flow.event_shape)
        self.num_dims = math.prod(self.event_shape)
        self.dtype = tf.as_dtype(flow.dtype)
        self.num_bins = None if num_bins is None else int(num_bins)
        self.condition_spec = None if condition_spec is None else dict(condition_spec)
        self.gaussian_base = is_gaussian(self.base)
        self._latent_levels = None
        self.dequantizer = dequantizer
        self.data_map = data_bijector(preprocessing, self.num_bins, self.dtype, logit_alpha)  # working range -> data
        self.bijector = tfb.Chain([self.data_map, flow.bijector], name="data_flow")
        self.distribution = tfd.TransformedDistribution(self.base, self.bijector, name="data_distribution")

    # --- shapes and conditions -------------------------------------------------------------
    def _flat(self, x):
        """`x: [..., *event]` as `[prod(...), *event]` in the flow's dtype, and the batch shape."""
        x = tf.cast(x, self.dtype)
        batch_rank = x.shape.rank - len(self.event_shape)
        if batch_rank < 0:
            raise ValueError(f"expected a tensor of shape [..., {', '.join(map(str, self.event_shape))}], got {x.shape}")
        batch_shape = tf.shape(x)[:batch_rank]
        if batch_rank != 1:
            x = tf.reshape(x, [-1, *self.event_shape])
        return x, batch_shape

    def bijector_kwargs(self, condition: ArrayLike | None, batch_shape: tf.Tensor) -> dict:
        """The kwargs of `self.bijector` for a condition `[...]` (labels) / `[..., k]` (vectors)
        broadcast to `batch_shape` and flattened to `[prod(batch_shape)]` examples (`{}` when unconditional)."""
        if self.condition_spec is None:
            if condition is not None:
                raise ValueError("this flow is unconditional but got a condition")
            return {}
        if condition is None:
            raise ValueError(f"this flow is conditional ({self.condition_spec}) but got no condition")
        context = encode_context(self.condition_spec, condition, self.dtype)  # checked by the caller
        width = context.shape[-1]
        context = tf.reshape(tf.broadcast_to(context, tf.concat([batch_shape, [width]], axis=0)), [-1, width])
        return conditional_kwargs(self.bijector, context)

    def _unflat(self, y, batch_shape, event=True):
        shape = tf.concat([batch_shape, self.event_shape], axis=0) if event else batch_shape
        return tf.reshape(y, shape)

    # --- density ------------------------------------------------------------------------------
    def log_prob(self, x: tf.Tensor, condition: ArrayLike | None = None) -> tf.Tensor:
        """Exact log-density in data units: `x: [..., *event]` -> `[...]`."""
        flat, batch_shape = self._flat(x)
        value = self.distribution.log_prob(flat, bijector_kwargs=self.bijector_kwargs(condition, batch_shape))
        return self._unflat(value, batch_shape, event=False)

    def bits_per_dim(self, x: tf.Tensor, condition: ArrayLike | None = None) -> tf.Tensor:
        """`-log_prob(x) / (D ln 2)`: `[..., *event]` -> `[...]`."""
        return self.nats_to_bits_per_dim(-self.log_prob(x, condition))

    def nats_to_bits_per_dim(self, nats: ArrayLike) -> tf.Tensor:
        """Negative log-likelihood in nats per example -> bits per dimension."""
        return nats_to_bits_per_dim(nats, self.num_dims)

    def dequantize(self, x: tf.Tensor, noise: tf.Tensor | None = None) -> tf.Tensor:
        """`x + u` with `u ~ U[0, 1)` per element for discrete data (`noise`: a given `u`); `x` otherwise."""
        x = tf.cast(x, self.dtype)
        if self.num_bins is None:
            return x
        if noise is None:
            noise = tf.random.uniform(tf.shape(x), dtype=self.dtype)
        return dequantize(x, tf.cast(noise, self.dtype))

    def to_working_range(self, x: tf.Tensor, noise: tf.Tensor | None = None) -> tf.Tensor:
        """Data `x: [..., *event]` -> the flow's working range (where its bijector's data end lives),
        dequantised first for discrete data (`noise`: a given `u`, see `dequantize`)."""
        return self.data_map.inverse(self.dequantize(x, noise))

    def dequantized_log_prob(self, x: tf.Tensor, condition: ArrayLike | None = None, noise: tf.Tensor | None = None) -> tf.Tensor:
        """One draw of the training objective, `x: [..., *event]` -> `[...]`.

        Discrete data: `log p(x + u) - log q(u | x)`, `u` uniform (`log q = 0`,
        `noise` a given draw) or from the `dequantizer`; its mean over draws is
        a lower bound on the discrete log-likelihood. Continuous data: `log p(x)`.
        """
        if self.num_bins is None:
            return self.log_prob(x, condition)
        if self.dequantizer is None:
            return self.log_prob(self.dequantize(x, noise), condition)
        flat, batch_shape = self._flat(x)
        u, log_q = self.dequantizer(flat)
        value = self.distribution.log_prob(flat + u, bijector_kwargs=self.bijector_kwargs(condition, batch_shape)) - log_q
        return self._unflat(value, batch_shape, event=False)

    # --- latent space ------------------------------------------------------------------------
    def encode(self, x: tf.Tensor, condition: ArrayLike | None = None) -> tf.Tensor:
        """Data `x: [..., *event]` -> latent `z: [..., *event]` (the base's space)."""
        flat, batch_shape = self._flat(x)
        return self._unflat(self.bijector.inverse(flat, **self.bijector_kwargs(condition, batch_shape)), batch_shape)

    def decode(self, z: tf.Tensor, condition: ArrayLike | None = None) -> tf.Tensor:
        """Latent `z: [..., *event]` -> continuous data `x: [..., *event]`."""
        flat, batch_shape = self._flat(z)
        return self._unflat(self.bijector.forward(flat, **self.bijector_kwargs(condition, batch_shape)), batch_shape)

    @property
    def latent_levels(self) -> np.ndarray:
        """The multi-scale level of every latent element, an int array of the event shape (see `latent_levels`)."""
        if self._latent_levels is None:
            with tf.init_scope():  # worked out eagerly once, even when first asked for while tracing
                self._latent_levels = latent_levels(self.flow.bijector, self.event_shape)
        return self._latent_levels

    @property
    def num_levels(self) -> int:
        """How many levels a per-level temperature has values for (1 for a flow without `FactorOut`)."""
        return int(self.latent_levels.max()) + 1

    def temperature_tensor(self, temperature: ArrayLike) -> tf.Tensor:
        """`temperature` as the flow's dtype: a scalar `[]`, or, for one value per level (a list,
        tuple or 1-D tensor of length `num_levels`), each latent element's `[*event]`.

        Raises `ValueError` for a per-level temperature of the wrong length, and
        for one known before running that breaks `tfnf.rules.temperature`; a
        tensor's values are asserted when the graph runs."""
        per_level = isinstance(temperature, (list, tuple)) or (
            isinstance(temperature, np.ndarray) and temperature.ndim == 1
        ) or (tf.is_tensor(temperature) and temperature.shape.rank == 1)
        value = tf.cast(tf.convert_to_tensor(temperature), self.dtype)
        if per_level:
            if value.shape.rank != 1 or value.shape[0] != self.num_levels:
                raise ValueError(
                    f"temperature has one value per level: this flow has {self.num_levels} level(s), got "
                    f"{len(temperature) if isinstance(temperature, (list, tuple)) else value.shape} values"
                )
        elif value.shape.rank != 0:
            raise ValueError(f"temperature must be a number or a sequence with one value per level, got shape {value.shape}")
        base = type(self.base).__name__
        static = tf.get_static_value(value)
        if static is not None:
            if not np.all((static >= 0) & np.isfinite(static)):
                raise ValueError(f"temperature {IN_RANGE}, got {np.asarray(static).tolist()}")
            if not self.gaussian_base and np.any(static != 1):
                raise ValueError(f"{not_gaussian_message('temperature', base)}, got {np.asarray(static).tolist()}")
        checks = [tf.debugging.Assert(
            tf.reduce_all(tf.logical_and(value >= 0.0, tf.math.is_finite(value))), [f"temperature {IN_RANGE}, got", value]
        )]
        if not self.gaussian_base:
            checks.append(tf.debugging.Assert(
                tf.reduce_all(tf.equal(value, 1.0)), [f"{not_gaussian_message('temperature', base)}, got", value]
            ))
        with tf.control_dependencies(checks):
            value = tf.identity(value)
        return tf.gather(value, self.latent_levels) if per_level else value

    def latent_sample(self, n: int | tf.Tensor, temperature: ArrayLike = 1.0, seed: ArrayLike | None = None) -> tf.Tensor:
        """`n` latents `[n, *event]` from the flow's own base at `temperature` (see the class docstring):
        a number, or one per level of a multi-scale flow.

        `seed`: None (stateful draw), or an int in `[0, 2**32)` (see `tfnf.rules.integers.seed_pair`)
        or a `[2]` int tensor for a reproducible, stateless draw."""
        if isinstance(seed, (int, np.integer)):
            seed = tf.constant(seed_pair(seed), tf.int32)
        elif seed is not None:
            seed = tf.cast(seed, tf.int32)
        temperature = self.temperature_tensor(temperature)
        z = self.base.sample(n, seed=seed)
        if not self.gaussian_base:
            with tf.control_dependencies([temperature]):  # its checks run before the draw is returned
                return tf.identity(z)
        mean = self.base.mean()
        return mean + temperature * (z - mean)

    def sample(
        self, n: int | tf.Tensor, temperature: ArrayLike = 1.0, seed: ArrayLike | None = None, condition: ArrayLike | None = None
    ) -> tf.Tensor:
        """`n` samples `[n, *event]` in (continuous) data units; a conditional flow takes a condition
        per sample (`[n]` labels / `[n, k]` vectors) or one for all."""
        return self.decode(self.latent_sample(n, temperature, seed), condition)

    def quantize(self, x: tf.Tensor) -> tf.Tensor:
        """Continuous data-unit values -> integer pixels in `[0, num_bins)` (in `x`'s float dtype)."""
        if self.num_bins is None:
            raise ValueError("quantize needs discrete data (num_bins set)")
        return tf.clip_by_value(tf.math.floor(x), 0.0, float(self.num_bins - 1))

    def interpolate(
        self, x_a: tf.Tensor, x_b: tf.Tensor, steps: int | tf.Tensor, condition: ArrayLike | None = None, method: str = "linear"
    ) -> tf.Tensor:
        """Decode `steps` evenly spaced points on a latent path from `x_a` to `x_b`.

        `x_a, x_b: [..., *event]` -> `[..., steps, *event]`; `steps` an int or
        an int32 scalar tensor (in a `tf.function`, one trace serves every
        number of steps; under XLA it is compiled per value); `condition` as in
        `encode`, one per pair (the same at both ends). `method`: `"linear"`
        (the segment) or `"slerp"` (spherical: the great-circle arc between the
        two latents, `sin((1-t) w)/sin(w) z_a + sin(t w)/sin(w) z_b` with `w`
        the angle between them; it keeps the norm when both ends have the same
        norm, as Gaussian latents of high dimension nearly do; parallel or
        opposite latents, `sin(w) ~ 0`, fall back to the segment)."""
        if method not in INTERPOLATIONS:
            raise ValueError(f"method must be one of {INTERPOLATIONS}, got {method!r}")
        z_a, z_b = self.encode(x_a, condition), self.encode(x_b, condition)
        event_rank = len(self.event_shape)
        t = tf.linspace(tf.constant(0.0, self.dtype), tf.constant(1.0, self.dtype), steps)
        t = tf.reshape(t, [-1] + [1] * event_rank)
        z_a, z_b = z_a[..., None, *([slice(None)] * event_rank)], z_b[..., None, *([slice(None)] * event_rank)]
        z = slerp(z_a, z_b, t, event_rank) if method == "slerp" else z_a * (1.0 - t) + z_b * t
        if condition is not None:
            condition = tf.convert_to_tensor(condition)
            if self.condition_spec and "num_classes" in self.condition_spec:
                condition = tf.expand_dims(condition, -1)
            else:
                condition = tf.expand_dims(condition, -2)
        return self.decode(z, condition)

    # --- health ------------------------------------------------------------------------------
    def nonfinite_parts(self) -> list:
        """What makes this model unusable, as a list of names (empty when all is well), eagerly:
        variables holding NaN/Inf, or a probe (4 base draws decoded and scored) that is not finite,
        as after a diverged training run."""
        broken = [
            f"variable {v.name}" for v in self.flow.variables
            if v.dtype.is_floating and not bool(tf.reduce_all(tf.math.is_finite(v)))
        ]
        if broken:
            return broken
        condition = None
        if self.condition_spec is not None:
            width = [] if "num_classes" in self.condition_spec else list(self.condition_spec["context_shape"])
            condition = tf.zeros([4, *width], tf.int32 if not width else self.dtype)
        x = self.sample(4, 1.0, seed=tf.constant([0, 0]), condition=condition)
        probe = tf.concat([tf.reshape(x, [-1]), self.log_prob(x, condition)], axis=0)
        return [] if bool(tf.reduce_all(tf.math.is_finite(probe))) else ["the density of its own samples"]


def slerp(z_a, z_b, t, event_rank):
    """Spherical interpolation of `z_a`, `z_b` (`[..., *event]`, broadcast with `t: [..., 1 * event]`)
    over their last `event_rank` axes; the linear path where they are (nearly) parallel or opposite."""
    axes = list(range(-event_rank, 0))
    norms = tf.sqrt(tf.reduce_sum(tf.square(z_a), axis=axes, keepdims=True) * tf.reduce_sum(tf.square(z_b), axis=axes, keepdims=True))
    dot = tf.reduce_sum(z_a * z_b, axis=axes, keepdims=True)
    cosine = tf.clip_by_value(tf.math.divide_no_nan(dot, norms), -1.0, 1.0)
    omega = tf.acos(tf.where(norms > 0, cosine, tf.ones_like(cosine)))
    sin_omega = tf.sin(omega)
    parallel = sin_omega < 1e-6
    safe = tf.where(parallel, tf.ones_like(sin_omega), sin_omega)
    weight_a = tf.where(parallel, 1.0 - t, tf.sin((1.0 - t) * omega) / safe)
    weight_b = tf.where(parallel, t, tf.sin(t * omega) / safe)
    return weight_a * z_a + weight_b * z_b
