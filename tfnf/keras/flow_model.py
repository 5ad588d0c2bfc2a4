"""`FlowModel`: a Keras 3 model that trains a flow by maximum likelihood."""

import math
import os

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import ActNorm, collect_keras_layers, conditional_kwargs, initialize_actnorms
from tfnf.flows import build_flow, flow_config, flow_context
from tfnf.flows.condition import check_condition, context_vector
from tfnf.keras.data_bijector import data_bijector, resolve_preprocessing
from tfnf.keras.input_checks import (
    check_condition_dataset,
    check_data,
    check_dataset,
    input_errors_as_value_errors,
    with_condition_checks,
    with_value_checks,
)
from tfnf.keras.nonfinite_guard import NonFiniteGuard
from tfnf.keras.variational_dequantizer import VariationalDequantizer

tfd = tfp.distributions

DEQUANTIZATIONS = ("uniform", "variational")


def _as_flow(flow, dtype=None):
    if isinstance(flow, dict):
        config = dict(flow["config"])
        if flow["builder"] == "realnvp":
            # saved before realnvp had Fourier features: its conditioners read x alone
            config.setdefault("fourier_frequencies", ())
        return build_flow(flow["builder"], dtype=flow.get("dtype", "float32"), **config)
    if not (isinstance(flow, tfd.Distribution) and hasattr(flow, "bijector") and hasattr(flow, "distribution")):
        raise TypeError(f"flow must be a tfd.TransformedDistribution (e.g. tfnf.flows.glow(...)), got {type(flow).__name__}")
    return flow


def _step_logs(logs):
    """The metrics a train/test step returns, shaped for Keras' reduction over replicas.

    With several workers Keras reduces step outputs with `strategy.reduce(..., axis=0)`,
    which needs a leading axis; a `[1]` tensor reduces to the same scalar.
    """
    strategy = tf.distribute.get_strategy()
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        tasks = strategy.cluster_resolver.cluster_spec().as_dict()
        if len(tasks.get("worker", [])) + len(tasks.get("chief", [])) > 1:
            return {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs


def _restores_a_backup(callbacks):
    """Whether a `keras.callbacks.BackupAndRestore` among `callbacks` will load a backup when training begins."""
    return any(
        isinstance(c, keras.callbacks.BackupAndRestore)
        and os.path.exists(os.path.join(c.backup_dir, "latest.weights.h5"))
        for c in callbacks
    )


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

    A conditional flow (`glow(..., num_classes=K)`, `realnvp(..., context_shape=(k,))`)
    models `p(x | condition)`: `fit(x, y)` / `evaluate(x, y)` take the
    conditions as `y` (integer labels `[batch]`, or vectors `[batch, k]`), or a
    dataset of `(x, condition)` pairs; `log_prob`, `bits_per_dim`, `sample`,
    `encode`, `decode` and `interpolate` take `condition=`. An unconditional
    model refuses a condition (`y` or `condition=`); extra items of dataset
    elements are ignored by it, as before.

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
      dequantization: `"uniform"` (noise `u ~ U[0, 1)`) or `"variational"`
        (Flow++: a small conditional flow `q(u | x)`, a
        `VariationalDequantizer`, trained jointly; the loss and bits/dim of
        `fit` / `evaluate` are then the bound `-E_q[log p(x + u) - log q(u | x)]`).
        Only for discrete data (`num_bins` set).
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
        dequantization="uniform",
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
        self.condition_spec = flow_context(flow)  # None, {"num_classes": K} or {"context_shape": [k]}
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
        if not (isinstance(dequantization, str) and dequantization in DEQUANTIZATIONS):
            raise ValueError(f"dequantization must be one of {DEQUANTIZATIONS}, got {dequantization!r}")
        if dequantization == "variational" and self.num_bins is None:
            raise ValueError("dequantization='variational' needs discrete data: set num_bins (got num_bins=None)")
        self.dequantization = dequantization
        self.dequantizer = None
        if dequantization == "variational":
            self.dequantizer = VariationalDequantizer(
                self.event_shape, self.num_bins, seed=seed, dtype=self.flow_dtype.name, name="variational_dequantizer"
            )
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

    def reset_metrics(self):
        """As Keras' `reset_metrics`, in one graph call instead of one eager assign per
        metric variable. Not XLA-compiled: a handful of assigns gains nothing from a
        cluster launch."""
        self._function("reset_metrics", self._reset_metric_states, jit_compile=False)()

    def _reset_metric_states(self):
        for metric in self.metrics:
            metric.reset_state()

    def compile(self, optimizer=None, **kwargs):
        """As `keras.Model.compile`; the optimizer defaults to `Adam(1e-3)`. No loss is needed."""
        if optimizer is None:
            optimizer = keras.optimizers.Adam(1e-3)
        kwargs.pop("loss", None)
        super().compile(optimizer=optimizer, **kwargs)
        for key in [key for key in self._compiled_functions if key[0] == "train_on_batch"]:
            del self._compiled_functions[key]  # it was traced with the previous optimizer

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
            dequantization=self.dequantization,
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

    @property
    def conditional(self):
        """True for a model of `p(x | condition)` (a flow built with `num_classes=` or `context_shape=`)."""
        return self.condition_spec is not None

    def bijector_kwargs(self, condition):
        """The keyword arguments that condition `self.bijector` (data-units chain) on `condition`.

        `condition`: labels `[batch]` or vectors `[batch, k]` (a tensor, also
        inside `tf.function`), or None (returns `{}`). Use as
        `model.distribution.log_prob(x, bijector_kwargs=...)` or
        `model.bijector.forward(z, **...)`.
        """
        if condition is None:
            return {}
        return conditional_kwargs(self.bijector, context_vector(self.condition_spec, condition, self.flow_dtype))

    def _log_prob_given(self, x, condition=None):
        return self.distribution.log_prob(x, bijector_kwargs=self.bijector_kwargs(condition))

    def _dequantized_log_prob(self, x, condition=None):
        """One-draw estimate of the dequantisation bound on `log P(x)`, `x: [batch, *event_shape]` -> `[batch]`.

        `log p(x + u) - log q(u | x)` with `u ~ q(. | x)`: uniform noise and
        `log q = 0`, or the `VariationalDequantizer`. Its mean over draws is a
        lower bound on the discrete log-likelihood of `x`. Continuous data: `log p(x)`.
        A conditional model takes the batch's `condition` (given to the flow, not to `q`).
        """
        if self.dequantizer is None:
            return self._log_prob_given(self.dequantize(x), condition)
        x = tf.cast(x, self.flow_dtype)
        u, log_q = self.dequantizer(x)
        return self._log_prob_given(x + u, condition) - log_q

    def call(self, x, training=False, condition=None):
        """Log-density of `x: [batch, *event_shape]` -> `[batch]`; when training, the
        dequantised estimate `_dequantized_log_prob(x)` instead. A conditional model
        needs `condition` (labels `[batch]` or vectors `[batch, k]`)."""
        self._require_condition(condition)
        if training:
            return self._dequantized_log_prob(x, condition)
        return self._log_prob_given(tf.cast(x, self.flow_dtype), condition)

    def _require_condition(self, condition):
        if self.conditional and condition is None:
            raise ValueError(
                f"this FlowModel is conditional ({self._context_description()}) but got no condition; "
                "train on (x, condition) pairs: fit(x, y) or a dataset of (x, y)"
            )

    def _unpack(self, data):
        """`(x, condition)` from a Keras step's data: `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`.

        Unconditional models ignore anything after `x` (the condition is None)."""
        if not isinstance(data, (tuple, list)):
            return data, None
        condition = data[1] if self.conditional and len(data) > 1 else None
        return data[0], condition

    def _nll_and_bpd(self, log_prob):
        nll = -tf.reduce_mean(log_prob)
        return nll, nll / (self.num_dims * math.log(2.0))

    def train_step(self, data):
        return self._train_step(data)

    def _train_step(self, data, ready=None):
        """Keras' train step; with `ready` (a boolean scalar) the update is applied only where it is true."""
        x, condition = self._unpack(data)
        with tf.GradientTape() as tape:
            log_prob = self(x, training=True, condition=condition)
            loss, bpd = self._nll_and_bpd(log_prob)
        variables = self.trainable_variables
        gradients = tape.gradient(loss, variables)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            # Every replica continues with the global-batch loss and gradient, so all of them
            # take the same decision below and clip exactly as a single device would.
            context = tf.distribute.get_replica_context()
            loss, bpd, *gradients = context.all_reduce(tf.distribute.ReduceOp.MEAN, [loss, bpd, *gradients])
        # One global norm serves both the finiteness test (a NaN/Inf anywhere makes it
        # non-finite) and the clipping; a non-finite step is never applied (`_apply_if_finite`).
        # The norm is taken over all gradients at once (one reduction, not one per variable).
        norm = tf.norm(tf.concat([tf.reshape(g, [-1]) for g in gradients if g is not None], axis=0))
        finite = tf.logical_and(tf.math.is_finite(loss), tf.math.is_finite(norm))
        scale = tf.ones([], norm.dtype)
        if self.clip_norm is not None:  # as tf.clip_by_global_norm: g * clip / max(norm, clip)
            scale = self.clip_norm / tf.maximum(norm, self.clip_norm)
        if replicas > 1:
            scale = scale / replicas  # the optimizer sums the gradients over the replicas
        self._apply_if_finite(finite if ready is None else tf.logical_and(finite, ready), gradients, variables, scale)
        self.nonfinite_guard.record(finite)
        weight = tf.cast(finite, loss.dtype)
        self.loss_tracker.update_state(tf.where(finite, loss, 0.0), sample_weight=weight)
        self.bits_per_dim_tracker.update_state(tf.where(finite, bpd, 0.0), sample_weight=weight)
        self.skipped_tracker.update_state((1.0 - weight) / replicas)  # summed over the replicas when read
        return _step_logs({m.name: m.result() for m in self.metrics})

    def _apply_if_finite(self, finite, gradients, variables, scale):
        """Apply `gradients * scale` only where `finite` is true (the same on every replica).

        The scaling happens inside the applied branch, where XLA fuses it into the
        optimizer's update of each variable."""

        def apply(gradients, scale):
            scaled = [None if g is None else g * tf.cast(scale, g.dtype) for g in gradients]
            self.optimizer.apply_gradients(zip(scaled, variables))
            return tf.constant(True)

        if not tf.distribute.has_strategy():
            tf.cond(finite, lambda: apply(gradients, scale), lambda: tf.constant(False))
            return

        # Under a distribution strategy the optimizer synchronises the replicas, which TensorFlow
        # allows in a `tf.cond` only from the cross-replica context.
        def cross_replica(strategy, finite, gradients, scale):
            finite = strategy.experimental_local_results(finite)[0]

            def apply_on_every_replica():
                strategy.extended.call_for_each_replica(apply, args=(gradients, scale))
                return tf.constant(True)

            tf.cond(finite, apply_on_every_replica, lambda: tf.constant(False))

        tf.distribute.get_replica_context().merge_call(cross_replica, args=(finite, gradients, scale))

    def test_step(self, data):
        x, condition = self._unpack(data)
        self._require_condition(condition)
        log_prob = self._dequantized_log_prob(x, condition)
        loss, bpd = self._nll_and_bpd(log_prob)
        batch = tf.cast(tf.shape(log_prob)[0], loss.dtype)
        self.loss_tracker.update_state(loss, sample_weight=batch)
        self.bits_per_dim_tracker.update_state(bpd, sample_weight=batch)
        return _step_logs({m.name: m.result() for m in (self.loss_tracker, self.bits_per_dim_tracker)})

    def predict_step(self, data):
        x, condition = self._unpack(data)
        return self(x, training=False, condition=condition)

    # --- ActNorm data-dependent initialisation -------------------------------------------
    @property
    def actnorms(self):
        """The `ActNorm` bijectors of the flow (found once: walking the flow's modules is slow)."""
        if getattr(self, "_actnorm_list", None) is None:
            found = tuple(m for m in self.flow.bijector.submodules if isinstance(m, ActNorm))
            object.__setattr__(self, "_actnorm_list", found)  # a plain cache, not Keras-tracked state
        return list(self._actnorm_list)

    @property
    def needs_initialization(self):
        """True while some ActNorm has not been initialised from data.

        Read from the ActNorms' `initialized` variables on every call (so it
        is right after `load_weights`), in one graph call rather than one
        eager read per ActNorm. (`train_on_batch` reads the flags inside its
        own compiled call.)"""
        check = self._function("needs_initialization", self._any_actnorm_uninitialized, jit_compile=False)
        return bool(check().numpy())

    def _any_actnorm_uninitialized(self):
        """Graph-side: a boolean scalar, true while some ActNorm flag is unset."""
        flags = [a.initialized_flag for a in self.actnorms]  # 1.0 once initialised, else 0.0
        return tf.reduce_any(tf.stack([f < 0.5 for f in flags])) if flags else tf.constant(False)

    def initialize(self, batch, condition=None):
        """Initialise every not-yet-initialised ActNorm from `batch` (data units).

        `batch: [N, *event_shape]`; discrete data are dequantised first. A
        conditional model also takes the batch's `condition`. Already
        initialised ActNorms (e.g. after loading weights) are left untouched.
        Returns the number of ActNorms initialised.
        """
        array = check_data(batch, self.event_shape, self.num_bins, name="initialization batch")
        condition = self._checked_condition(condition, len(array), name="initialization condition")
        x = self.dequantize(tf.constant(array))
        return initialize_actnorms(self.bijector, x, **self.bijector_kwargs(condition))

    def _first_examples(self, x, y, n):
        """The first `n` examples of the training data and, for a conditional model, their conditions."""
        if isinstance(x, tf.data.Dataset):
            parts, conditions, count = [], [], 0
            for element in x:
                condition = None
                if isinstance(element, (tuple, list)):
                    if self.conditional and len(element) > 1:
                        condition = np.asarray(element[1])
                    element = element[0]
                if isinstance(element, dict):
                    raise TypeError("FlowModel.fit takes datasets of images/vectors, not dicts; map them to tensors first")
                element = np.asarray(element)
                if element.ndim == len(self.event_shape):  # a single example
                    element = element[None]
                    condition = None if condition is None else condition[None]
                if condition is not None:
                    conditions.append(condition)
                parts.append(element)
                count += len(element)
                if count >= n:
                    break
            if not parts:
                raise ValueError("fit received an empty dataset")
            return np.concatenate(parts)[:n], (np.concatenate(conditions)[:n] if conditions else None)
        if isinstance(x, (np.ndarray, tf.Tensor, list)):
            return np.asarray(x)[:n], (None if y is None else np.asarray(y)[:n])
        return None, None

    def _context_description(self):
        if "num_classes" in self.condition_spec:
            return f"class labels in [0, {self.condition_spec['num_classes']})"
        return f"context vectors of shape [batch, {self.condition_spec['context_shape'][0]}]"

    def _checked_condition(self, condition, batch, name="condition"):
        """A concrete condition for `batch` examples as a tensor (None for an unconditional model).

        One label (or one vector) is repeated over the batch; raises `ValueError` /
        `TypeError` for a missing, unexpected or malformed condition."""
        if not self.conditional:
            if condition is not None:
                raise ValueError(
                    f"this FlowModel is unconditional but got a {name}; build the flow with "
                    "num_classes= or context_shape= to condition it"
                )
            return None
        if condition is None:
            raise ValueError(f"this FlowModel is conditional ({self._context_description()}); pass {name}=")
        array = check_condition(self.condition_spec, condition, name=name)
        single = array.ndim == (0 if "num_classes" in self.condition_spec else 1)
        if single:
            array = np.broadcast_to(array, (batch, *array.shape)).copy()
        elif len(array) != batch:
            raise ValueError(f"{name} has {len(array)} entries but the batch has {batch} examples")
        return tf.constant(array)

    def _validated(self, x, name, check_finite=True):
        """In-memory data are checked now; a dataset by its element spec now and by value
        as it is read (`with_value_checks`). Other inputs go to Keras unchanged."""
        if isinstance(x, (np.ndarray, tf.Tensor, list)):
            return check_data(x, self.event_shape, self.num_bins, name=name)
        if isinstance(x, tf.data.Dataset):
            check_dataset(x, self.event_shape, name=name)
            if self.conditional:
                check_condition_dataset(x, self.condition_spec, name=name)
                x = with_condition_checks(x, self.condition_spec, name=name)
            return with_value_checks(x, self.num_bins, check_finite=check_finite, name=name)
        return x

    def _validated_pair(self, x, y, name, check_finite=True):
        """`(x, y)` for `fit` / `evaluate`: `y` is the condition of a conditional model's arrays."""
        x = self._validated(x, name, check_finite=check_finite)
        if isinstance(x, tf.data.Dataset):
            if y is not None:
                raise ValueError("pass the conditions inside the dataset as (x, y) pairs, not as y= next to it")
            return x, None
        if not self.conditional:
            if y is not None:
                raise ValueError(
                    "this FlowModel is unconditional but got y (conditions); build the flow with "
                    "num_classes= or context_shape= to train a conditional model"
                )
            return x, None
        if isinstance(x, np.ndarray):
            if y is None:
                raise ValueError(
                    f"this FlowModel is conditional ({self._context_description()}); pass them as y: fit(x, y)"
                )
            y = check_condition(self.condition_spec, y, name="y")
            if y.ndim == 0 or len(y) != len(x):
                raise ValueError(f"y must have one condition per example: x has {len(x)}, y has shape {list(y.shape)}")
        return x, y

    def _validated_validation_data(self, data):
        if isinstance(data, (tuple, list)) and data:
            x = data[0]
            y = data[1] if len(data) > 1 else None
            if not self.conditional:
                return (self._validated(x, "validation_data"), *data[1:])  # extra items are ignored
            x, y = self._validated_pair(x, y, "validation_data")
            return (x,) if y is None else (x, y, *data[2:])
        return self._validated_pair(data, None, "validation_data")[0]

    def fit(self, x=None, y=None, **kwargs):
        """`keras.Model.fit`, after validating the data and (once) initialising ActNorms.

        Bad data raise `TypeError`/`ValueError` naming the problem: in-memory arrays
        before training, a dataset's element spec before training and its values
        (pixel range) as batches are read. Non-finite batches of a training dataset
        are not an error: those steps are skipped and counted (see `max_consecutive_skips`).
        """
        with input_errors_as_value_errors():
            return self._fit(x, y, **kwargs)

    def _fit(self, x, y, **kwargs):
        x, y = self._validated_pair(x, y, "x", check_finite=False)
        if kwargs.get("validation_data") is not None:
            kwargs["validation_data"] = self._validated_validation_data(kwargs["validation_data"])
        callbacks = list(kwargs.pop("callbacks", None) or [])
        first, first_condition = self._first_examples(x, y, self.init_batch_size)
        if first is not None:
            check_data(first, self.event_shape, self.num_bins)
            if self.needs_initialization and not _restores_a_backup(callbacks):
                # a restored backup brings its own (trained) ActNorm parameters
                self.initialize(first, first_condition if self.conditional else None)
        self._build_optimizer()
        self.nonfinite_guard.reset()
        history = super().fit(x, y, callbacks=[*callbacks, self.nonfinite_guard.callback()], **kwargs)
        self.nonfinite_guard.raise_if_tripped()
        return history

    def _build_optimizer(self):
        """Create the optimizer's slots now, if not yet: no variables may be created inside the step's tf.cond."""
        if getattr(self, "optimizer", None) is not None and not self.optimizer.built:
            with self.distribute_strategy.scope():
                self.optimizer.build(self.trainable_variables)

    def evaluate(self, x=None, y=None, **kwargs):
        """`keras.Model.evaluate`, after validating the data as `fit` does (NaN/Inf included).

        A conditional model takes the conditions as `y` or inside a dataset of `(x, y)`."""
        with input_errors_as_value_errors():
            x, y = self._validated_pair(x, y, "x")
            return super().evaluate(x, y, **kwargs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """`keras.Model.train_on_batch` on one batch `x` (and a conditional model's `y`).

        The batch is checked as `fit` checks arrays (shape, dtype, NaN/Inf, pixel
        range: `ValueError`), and a model whose ActNorms were never initialised
        is initialised on it first. A step whose loss or gradient is nonetheless
        not finite is skipped and reported in `skipped_steps`. The returned
        metrics are this batch's alone, as Keras returns them (a list in the
        order of `metrics_names`, or a dict with `return_dict=True`).

        Without a distribution strategy, sample or class weights, the metric
        reset, the ActNorm check and the step are one compiled call (Keras'
        own `train_on_batch` makes two); otherwise it is Keras' `train_on_batch`.
        """
        with input_errors_as_value_errors():
            checked, condition = self._validated_pair(x, y, "x", check_finite=False)
            condition = condition if self.conditional else None
            single_call = self._single_call_train_on_batch(sample_weight, class_weight)
            if not single_call and self.needs_initialization:  # also after loading a never-initialised model
                self.initialize(checked, condition)
            self._build_optimizer()
        if not single_call:
            return super().train_on_batch(
                x, y, sample_weight=sample_weight, class_weight=class_weight, return_dict=return_dict
            )
        step = self._function("train_on_batch", self._train_one_batch)
        args = (checked,) if condition is None else (checked, condition)
        logs, ready = step(*args)
        if not bool(ready.numpy()):  # ActNorms never initialised (or loaded so): nothing was applied
            self.initialize(checked, condition)
            logs, ready = step(*args)
        logs = {name: float(value.numpy()) for name, value in logs.items()}
        if return_dict:
            return logs
        return [logs[m.name] for m in self.metrics]

    def _single_call_train_on_batch(self, sample_weight, class_weight):
        return (
            getattr(self, "compiled", False)
            and not self.run_eagerly
            and sample_weight is None
            and class_weight is None
            and not tf.distribute.has_strategy()
            and self.distribute_strategy is tf.distribute.get_strategy()
        )

    def _train_one_batch(self, x, condition=None):
        """Compiled: reset the metrics, train on `x` if every ActNorm is initialised.

        Returns `(logs, ready)`; with `ready` false no update was applied."""
        ready = tf.logical_not(self._any_actnorm_uninitialized())
        self._reset_metric_states()
        data = (x,) if condition is None else (x, condition)
        return self._train_step(data, ready=ready), ready

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """`keras.Model.test_on_batch`, after checking the batch as `evaluate` does."""
        with input_errors_as_value_errors():
            self._validated_pair(x, y, "x")
        return super().test_on_batch(x, y, sample_weight=sample_weight, return_dict=return_dict)

    # --- compiled helpers -----------------------------------------------------------------
    def _function(self, key, fn, jit_compile=None):
        """`fn` as a cached `tf.function`, XLA-compiled when the model is (`compile(jit_compile=True)`,
        or Keras' "auto" on a GPU), as Keras does for `predict`; `jit_compile` overrides that."""
        jit_compile = bool(self.jit_compile) if jit_compile is None else bool(jit_compile)
        if (key, jit_compile) not in self._compiled_functions:
            self._compiled_functions[key, jit_compile] = tf.function(fn, reduce_retracing=True, jit_compile=jit_compile)
        return self._compiled_functions[key, jit_compile]

    def _checked(self, x, name="x", check_range=True):
        array = check_data(x, self.event_shape, self.num_bins if check_range else None, name=name)
        return tf.constant(array, dtype=self.flow_dtype)

    def _run(self, key, fn, x, condition):
        """`fn(x)` compiled, or `fn(x, condition)` for a conditional model."""
        if condition is None:
            return self._function(key, fn)(x)
        return self._function(f"{key}_given", fn)(x, condition)

    # --- density API -----------------------------------------------------------------------
    def log_prob(self, x, condition=None):
        """Exact log-density at `x: [batch, *event_shape]` (data units, no noise) -> `[batch]`.

        `condition`: a conditional model's labels `[batch]` / vectors `[batch, k]` (or one for all)."""
        x = self._checked(x)
        condition = self._checked_condition(condition, x.shape[0])
        if condition is None:
            return self._function("log_prob", self.distribution.log_prob)(x)
        return self._run("log_prob", self._log_prob_given, x, condition)

    def bits_per_dim(self, x, condition=None):
        """`-log_prob(x) / (D ln 2)` per example -> `[batch]`."""
        return -self.log_prob(x, condition=condition) / (self.num_dims * math.log(2.0))

    def dequantized_log_prob(self, x, condition=None):
        """One draw of the training objective per example, `x: [batch, *event_shape]` -> `[batch]`.

        For discrete `x` (integer pixels): `log p(x + u) - log q(u | x)`, `u ~ q`
        (uniform or variational, as selected by `dequantization`); its mean
        over draws is a lower bound on the discrete log-likelihood `log P(x)`.
        For continuous data: `log_prob(x)`.
        """
        x = self._checked(x)
        condition = self._checked_condition(condition, x.shape[0])
        return self._run("dequantized_log_prob", self._dequantized_log_prob, x, condition)

    # --- generative API -------------------------------------------------------------------
    def _latent_noise(self, n, temperature, seed):
        if seed is None:
            seed = np.random.randint(0, 2**31 - 1)
        seed = tf.constant([int(seed), 0], tf.int32) if np.ndim(seed) == 0 else tf.constant(seed, tf.int32)
        shape = tf.concat([[n], tf.constant(self.event_shape, tf.int32)], axis=0)
        return tf.random.stateless_normal(shape, seed=seed, dtype=self.flow_dtype) * tf.cast(temperature, self.flow_dtype)

    def sample(self, n, temperature=1.0, seed=None, quantized=False, condition=None):
        """`n` samples `[n, *event_shape]` in data units.

        Args:
          n: number of samples.
          temperature: scale of the base noise (1: the model; 0: the decoded zero latent).
          seed: int (or pair of ints) for reproducible samples; None: random.
          quantized: with `num_bins`, return integer pixels in `[0, num_bins)`
            (float dtype) instead of continuous values.
          condition: a conditional model's condition for each sample (labels
            `[n]` / vectors `[n, k]`), or one label / vector for all `n`.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"n (the number of samples) must be an integer, got {n!r}")
        if n <= 0:
            raise ValueError(f"n (the number of samples) must be positive, got {n}")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
            raise TypeError(f"temperature must be a real number, got {temperature!r}")
        if not 0 <= temperature < math.inf:
            raise ValueError(f"temperature must be finite and >= 0, got {temperature!r}")
        condition = self._checked_condition(condition, int(n))
        z = self._latent_noise(int(n), float(temperature), seed)
        x = self.decode(z, condition=condition)
        return self.to_pixels(x) if quantized else x

    def to_pixels(self, x):
        """Continuous data-unit samples -> integer pixels in `[0, num_bins)` (float dtype)."""
        if self.num_bins is None:
            raise ValueError("to_pixels needs a model with num_bins set")
        return tf.clip_by_value(tf.math.floor(x), 0.0, float(self.num_bins - 1))

    def _encode_given(self, x, condition=None):
        return self.bijector.inverse(x, **self.bijector_kwargs(condition))

    def _decode_given(self, z, condition=None):
        return self.bijector.forward(z, **self.bijector_kwargs(condition))

    def encode(self, x, condition=None):
        """Data `x: [batch, *event_shape]` -> latent `z: [batch, *event_shape]` (given `condition`, if conditional)."""
        x = self._checked(x)
        condition = self._checked_condition(condition, x.shape[0])
        if condition is None:
            return self._function("encode", self.bijector.inverse)(x)
        return self._run("encode", self._encode_given, x, condition)

    def decode(self, z, condition=None):
        """Latent `z: [batch, *event_shape]` -> data `x` (continuous, data units; given `condition`, if conditional)."""
        z = tf.constant(check_data(z, self.event_shape, name="z"), dtype=self.flow_dtype)
        condition = self._checked_condition(condition, z.shape[0])
        if condition is None:
            return self._function("decode", self.bijector.forward)(z)
        return self._run("decode", self._decode_given, z, condition)

    def interpolate(self, x_a, x_b, steps=8, condition=None):
        """Decode `steps` evenly spaced points on the latent segment from `x_a` to `x_b`.

        `x_a, x_b: [*event_shape]` -> `[steps, *event_shape]`, or
        `[batch, *event_shape]` each -> `[batch, steps, *event_shape]`. A
        conditional model encodes and decodes both ends under one `condition`
        per pair (one label / vector, or `[batch]` of them).
        """
        event, rank = ", ".join(map(str, self.event_shape)), len(self.event_shape)
        for name, value in (("x_a", x_a), ("x_b", x_b)):
            shape = np.shape(value)
            if len(shape) not in (rank, rank + 1) or tuple(shape[-rank:]) != self.event_shape:
                raise ValueError(f"{name} must have shape [{event}] or [batch, {event}], got {list(shape)}")
        single = np.ndim(x_a) == len(self.event_shape)
        x_a = np.asarray(x_a)[None] if single else np.asarray(x_a)
        x_b = np.asarray(x_b)[None] if single else np.asarray(x_b)
        check_data(x_a, self.event_shape, self.num_bins, name="x_a")
        check_data(x_b, self.event_shape, self.num_bins, name="x_b")
        if x_a.shape != x_b.shape:
            raise ValueError(f"x_a and x_b must have the same shape, got {x_a.shape} and {x_b.shape}")
        if int(steps) < 2:
            raise ValueError(f"steps must be >= 2, got {steps!r}")
        condition = self._checked_condition(condition, len(x_a))
        z_a, z_b = self.encode(x_a, condition=condition), self.encode(x_b, condition=condition)
        t = tf.reshape(tf.linspace(tf.constant(0.0, self.flow_dtype), 1.0, int(steps)), [1, -1] + [1] * len(self.event_shape))
        z = z_a[:, None] * (1.0 - t) + z_b[:, None] * t
        z = tf.reshape(z, [-1, *self.event_shape])
        if condition is None:
            x = self._function("decode", self.bijector.forward)(z)
        else:
            x = self._run("decode", self._decode_given, z, tf.repeat(condition, int(steps), axis=0))
        x = tf.reshape(x, [len(x_a), int(steps), *self.event_shape])
        return x[0] if single else x

    # --- export ---------------------------------------------------------------------------
    def export(self, filepath, format="tf_saved_model", **kwargs):
        """Write a SavedModel for TF Serving (see `tfnf.export.export_saved_model`)."""
        if format != "tf_saved_model":
            raise ValueError(f"FlowModel.export writes format='tf_saved_model' only, got {format!r}")
        from tfnf.export import export_saved_model  # export sits downstream of the model

        return export_saved_model(self, filepath, **kwargs)
