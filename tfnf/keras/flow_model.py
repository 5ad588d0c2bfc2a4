"""`FlowModel`: a Keras 3 model that trains a flow by maximum likelihood."""

import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import ActNorm, collect_keras_layers, initialize_actnorms
from tfnf.flows import build_flow, flow_config
from tfnf.keras.data_bijector import data_bijector, resolve_preprocessing
from tfnf.keras.input_checks import check_data
from tfnf.keras.nonfinite_guard import NonFiniteGuard

tfd = tfp.distributions


def _as_flow(flow, dtype=None):
    if isinstance(flow, dict):
        config = dict(flow["config"])
        return build_flow(flow["builder"], dtype=flow.get("dtype", "float32"), **config)
    if not (isinstance(flow, tfd.Distribution) and hasattr(flow, "bijector") and hasattr(flow, "distribution")):
        raise TypeError(f"flow must be a tfd.TransformedDistribution (e.g. tfnf.flows.glow(...)), got {type(flow).__name__}")
    return flow


@keras.saving.register_keras_serializable(package="tfnf")
class FlowModel(keras.Model):
    """Trains `flow` by maximum likelihood with `compile` / `fit` / `evaluate`.

    Data go in in their own units, `x: [batch, *event_shape]`. With `num_bins`
    set, `x` holds integer pixels in `[0, num_bins)`; training and `evaluate`
    add uniform noise `u ~ U[0, 1)` (dequantisation), and the map into the
    flow's working range is part of the bijector chain, so `log_prob` is a
    density in data units and `-log_prob / (D ln 2)` is bits per dimension.

    Logged metrics: `loss` (mean negative log-likelihood, nats per example) and
    `bits_per_dim`.

    Args:
      flow: a `tfd.TransformedDistribution` from `tfnf.flows` (or any flow over
        `N(0, I)` whose bijector maps latent -> working range).
      num_bins: number of discrete levels of the data (256 for 8-bit images, 17
        for `digits`), or None for continuous data.
      preprocessing: `"auto"` (the builder's choice: `"shift"` for glow/nice,
        `"logit"` for image realnvp), `"shift"`, `"logit"` or `"none"`.
      clip_norm: global-norm clipping of the gradient of the loss (None: off).
      init_batch_size: examples used for ActNorm's data-dependent initialisation.
      logit_alpha: boundary margin of the logit preprocessing.
      seed: seed of the dequantisation noise.
      max_consecutive_skips: a training step whose loss or gradient is not
        finite is skipped (not applied) and counted in the `skipped_steps`
        metric; after this many in a row `fit` stops and raises
        `FloatingPointError`, keeping the weights of the last good step.
    """

    def __init__(
        self,
        flow,
        num_bins=None,
        preprocessing="auto",
        clip_norm=100.0,
        init_batch_size=512,
        logit_alpha=0.05,
        seed=None,
        max_consecutive_skips=20,
        **kwargs,
    ):
        super().__init__(**kwargs)
        flow = _as_flow(flow)
        if num_bins is not None and (int(num_bins) != num_bins or num_bins < 2):
            raise ValueError(f"num_bins must be an integer >= 2 or None, got {num_bins!r}")
        if clip_norm is not None and not clip_norm > 0:
            raise ValueError(f"clip_norm must be > 0 or None, got {clip_norm!r}")
        self.num_bins = None if num_bins is None else int(num_bins)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.init_batch_size = int(init_batch_size)
        self.logit_alpha = float(logit_alpha)
        self.flow_description = flow_config(flow)
        preference = (self.flow_description or {}).get("preprocessing")
        self.preprocessing = resolve_preprocessing(preprocessing, preference, self.num_bins)
        self.flow = flow
        self.flow_dtype = tf.as_dtype(flow.dtype)
        self.event_shape = tuple(int(d) for d in flow.event_shape)
        self.num_dims = math.prod(self.event_shape)
        self.data_bijector = data_bijector(self.preprocessing, self.num_bins, self.flow_dtype, self.logit_alpha)
        self.bijector = tfp.bijectors.Chain([self.data_bijector, flow.bijector], name="data_flow")
        self.distribution = tfd.TransformedDistribution(flow.distribution, self.bijector, name="data_distribution")
        self.flow_layers = collect_keras_layers(flow)
        self.noise_seed = keras.random.SeedGenerator(seed, name="dequantization_seed")
        self.nonfinite_guard = NonFiniteGuard(max_consecutive_skips)
        self.skipped_tracker = keras.metrics.Sum(name="skipped_steps")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.bits_per_dim_tracker = keras.metrics.Mean(name="bits_per_dim")
        self._compiled_functions = {}
        self.built = True

    # --- Keras plumbing -------------------------------------------------------------
    @property
    def metrics(self):
        return [self.loss_tracker, self.bits_per_dim_tracker, self.skipped_tracker]

    def compile(self, optimizer=None, **kwargs):
        """As `keras.Model.compile`; the optimizer defaults to `Adam(1e-3)`. No loss is needed."""
        if optimizer is None:
            optimizer = keras.optimizers.Adam(1e-3)
        kwargs.pop("loss", None)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None:
            self.optimizer.build(self.trainable_variables)

    def get_config(self):
        if self.flow_description is None:
            raise NotImplementedError(
                "FlowModel can only serialise flows built by tfnf.flows builders; "
                "use save_weights/load_weights for a custom flow"
            )
        config = super().get_config()
        config.update(
            flow=self.flow_description,
            num_bins=self.num_bins,
            preprocessing=self.preprocessing,
            clip_norm=self.clip_norm,
            init_batch_size=self.init_batch_size,
            logit_alpha=self.logit_alpha,
            max_consecutive_skips=self.nonfinite_guard.limit,
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # --- density ------------------------------------------------------------------------
    def dequantize(self, x):
        """`x + u`, `u ~ U[0, 1)` per element for discrete data; `x` unchanged otherwise."""
        x = tf.cast(x, self.flow_dtype)
        if self.num_bins is None:
            return x
        return x + keras.random.uniform(tf.shape(x), dtype=self.flow_dtype, seed=self.noise_seed)

    def call(self, x, training=False):
        """Log-density of `x: [batch, *event_shape]` -> `[batch]`; dequantised when training."""
        x = self.dequantize(x) if training else tf.cast(x, self.flow_dtype)
        return self.distribution.log_prob(x)

    def _nll_and_bpd(self, log_prob):
        nll = -tf.reduce_mean(log_prob)
        return nll, nll / (self.num_dims * math.log(2.0))

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            log_prob = self(x, training=True)
            loss, bpd = self._nll_and_bpd(log_prob)
        variables = self.trainable_variables
        gradients = tape.gradient(loss, variables)
        finite = tf.math.is_finite(loss)
        for gradient in gradients:
            finite = tf.logical_and(finite, tf.reduce_all(tf.math.is_finite(gradient)))
        gradients = [tf.where(finite, g, tf.zeros_like(g)) for g in gradients]
        if self.clip_norm is not None:
            gradients, _ = tf.clip_by_global_norm(gradients, self.clip_norm)

        def apply():
            self.optimizer.apply_gradients(zip(gradients, variables))
            return tf.constant(True)

        tf.cond(finite, apply, lambda: tf.constant(False))
        self.nonfinite_guard.record(finite)
        weight = tf.cast(finite, loss.dtype)
        self.loss_tracker.update_state(tf.where(finite, loss, 0.0), sample_weight=weight)
        self.bits_per_dim_tracker.update_state(tf.where(finite, bpd, 0.0), sample_weight=weight)
        self.skipped_tracker.update_state(1.0 - weight)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        log_prob = self.call(self.dequantize(x), training=False)
        loss, bpd = self._nll_and_bpd(log_prob)
        batch = tf.cast(tf.shape(log_prob)[0], loss.dtype)
        self.loss_tracker.update_state(loss, sample_weight=batch)
        self.bits_per_dim_tracker.update_state(bpd, sample_weight=batch)
        return {m.name: m.result() for m in (self.loss_tracker, self.bits_per_dim_tracker)}

    def predict_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        return self(x, training=False)

    # --- ActNorm data-dependent initialisation -------------------------------------------
    @property
    def actnorms(self):
        """The `ActNorm` bijectors of the flow."""
        return [m for m in self.flow.bijector.submodules if isinstance(m, ActNorm)]

    @property
    def needs_initialization(self):
        """True while some ActNorm has not been initialised from data."""
        return any(not a.is_initialized for a in self.actnorms)

    def initialize(self, batch):
        """Initialise every not-yet-initialised ActNorm from `batch` (data units).

        `batch: [N, *event_shape]`; discrete data are dequantised first. Already
        initialised ActNorms (e.g. after loading weights) are left untouched.
        Returns the number of ActNorms initialised.
        """
        array = check_data(batch, self.event_shape, self.num_bins, name="initialization batch")
        x = self.dequantize(tf.constant(array))
        return initialize_actnorms(self.bijector, x)

    def _first_examples(self, x, n):
        if isinstance(x, tf.data.Dataset):
            parts, count = [], 0
            for element in x:
                element = element[0] if isinstance(element, (tuple, list)) else element
                if isinstance(element, dict):
                    raise TypeError("FlowModel.fit takes datasets of images/vectors, not dicts; map them to tensors first")
                element = np.asarray(element)
                if element.ndim == len(self.event_shape):
                    element = element[None]
                parts.append(element)
                count += len(element)
                if count >= n:
                    break
            if not parts:
                raise ValueError("fit received an empty dataset")
            return np.concatenate(parts)[:n]
        if isinstance(x, (np.ndarray, tf.Tensor, list)):
            return np.asarray(x)[:n]
        return None

    def fit(self, x=None, y=None, **kwargs):
        """`keras.Model.fit`, after validating the data and (once) initialising ActNorms."""
        if isinstance(x, (np.ndarray, tf.Tensor, list)):
            x = check_data(x, self.event_shape, self.num_bins)
        first = self._first_examples(x, self.init_batch_size)
        if first is not None:
            check_data(first, self.event_shape, self.num_bins)
            if self.needs_initialization:
                self.initialize(first)
        if getattr(self, "optimizer", None) is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)  # no variables may be created inside the step's tf.cond
        callbacks = list(kwargs.pop("callbacks", None) or [])
        self.nonfinite_guard.reset()
        history = super().fit(x, y, callbacks=[*callbacks, self.nonfinite_guard.callback()], **kwargs)
        self.nonfinite_guard.raise_if_tripped()
        return history

    def evaluate(self, x=None, y=None, **kwargs):
        """`keras.Model.evaluate`, after validating in-memory data."""
        if isinstance(x, (np.ndarray, tf.Tensor, list)):
            x = check_data(x, self.event_shape, self.num_bins)
        return super().evaluate(x, y, **kwargs)

    # --- compiled helpers -----------------------------------------------------------------
    def _function(self, key, fn):
        if key not in self._compiled_functions:
            self._compiled_functions[key] = tf.function(fn, reduce_retracing=True)
        return self._compiled_functions[key]

    def _checked(self, x, name="x", check_range=True):
        array = check_data(x, self.event_shape, self.num_bins if check_range else None, name=name)
        return tf.constant(array, dtype=self.flow_dtype)

    # --- density API -----------------------------------------------------------------------
    def log_prob(self, x):
        """Exact log-density at `x: [batch, *event_shape]` (data units, no noise) -> `[batch]`."""
        return self._function("log_prob", self.distribution.log_prob)(self._checked(x))

    def bits_per_dim(self, x):
        """`-log_prob(x) / (D ln 2)` per example -> `[batch]`."""
        return -self.log_prob(x) / (self.num_dims * math.log(2.0))

    # --- generative API -------------------------------------------------------------------
    def _latent_noise(self, n, temperature, seed):
        if seed is None:
            seed = np.random.randint(0, 2**31 - 1)
        seed = tf.constant([int(seed), 0], tf.int32) if np.ndim(seed) == 0 else tf.constant(seed, tf.int32)
        shape = tf.concat([[n], tf.constant(self.event_shape, tf.int32)], axis=0)
        return tf.random.stateless_normal(shape, seed=seed, dtype=self.flow_dtype) * tf.cast(temperature, self.flow_dtype)

    def sample(self, n, temperature=1.0, seed=None, quantized=False):
        """`n` samples `[n, *event_shape]` in data units.

        Args:
          n: number of samples.
          temperature: scale of the base noise (1: the model; 0: the decoded zero latent).
          seed: int (or pair of ints) for reproducible samples; None: random.
          quantized: with `num_bins`, return integer pixels in `[0, num_bins)`
            (float dtype) instead of continuous values.
        """
        if not temperature >= 0:
            raise ValueError(f"temperature must be >= 0, got {temperature!r}")
        z = self._latent_noise(int(n), float(temperature), seed)
        x = self.decode(z)
        return self.to_pixels(x) if quantized else x

    def to_pixels(self, x):
        """Continuous data-unit samples -> integer pixels in `[0, num_bins)` (float dtype)."""
        if self.num_bins is None:
            raise ValueError("to_pixels needs a model with num_bins set")
        return tf.clip_by_value(tf.math.floor(x), 0.0, float(self.num_bins - 1))

    def encode(self, x):
        """Data `x: [batch, *event_shape]` -> latent `z: [batch, *event_shape]`."""
        return self._function("encode", self.bijector.inverse)(self._checked(x))

    def decode(self, z):
        """Latent `z: [batch, *event_shape]` -> data `x` (continuous, data units)."""
        z = tf.constant(check_data(z, self.event_shape, name="z"), dtype=self.flow_dtype)
        return self._function("decode", self.bijector.forward)(z)

    def interpolate(self, x_a, x_b, steps=8):
        """Decode `steps` evenly spaced points on the latent segment from `x_a` to `x_b`.

        `x_a, x_b: [*event_shape]` -> `[steps, *event_shape]`, or
        `[batch, *event_shape]` each -> `[batch, steps, *event_shape]`.
        """
        single = np.ndim(x_a) == len(self.event_shape)
        x_a = np.asarray(x_a)[None] if single else np.asarray(x_a)
        x_b = np.asarray(x_b)[None] if single else np.asarray(x_b)
        if x_a.shape != x_b.shape:
            raise ValueError(f"x_a and x_b must have the same shape, got {x_a.shape} and {x_b.shape}")
        if int(steps) < 2:
            raise ValueError(f"steps must be >= 2, got {steps!r}")
        z_a, z_b = self.encode(x_a), self.encode(x_b)
        t = tf.reshape(tf.linspace(tf.constant(0.0, self.flow_dtype), 1.0, int(steps)), [1, -1] + [1] * len(self.event_shape))
        z = z_a[:, None] * (1.0 - t) + z_b[:, None] * t
        x = self._function("decode", self.bijector.forward)(tf.reshape(z, [-1, *self.event_shape]))
        x = tf.reshape(x, [len(x_a), int(steps), *self.event_shape])
        return x[0] if single else x

    # --- export ---------------------------------------------------------------------------
    def export(self, filepath, format="tf_saved_model", **kwargs):
        """Write a SavedModel for TF Serving (see `tfnf.export.export_saved_model`)."""
        if format != "tf_saved_model":
            raise ValueError(f"FlowModel.export writes format='tf_saved_model' only, got {format!r}")
        from tfnf.export import export_saved_model  # export sits downstream of the model

        return export_saved_model(self, filepath, **kwargs)
