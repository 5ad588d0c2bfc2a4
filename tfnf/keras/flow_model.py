"""`FlowModel`: a Keras 3 model that trains a flow by maximum likelihood.

The model adapts a `tfnf.flows.DataFlow` (the flow as a model of data in their
own units) to Keras and adds nothing of its own to the mathematics: the
guarded update lives in `GuardedUpdate`, ActNorm's data-dependent
initialisation in `ActNormInitialization`, the checks of what users hand it
in `InputChecks`, the flow's plain `tf.Variable`s in `AdoptedVariables`.
"""

import os

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors import collect_keras_layers
from tfnf.flows import DataFlow, build_flow, check_serializable, flow_config, flow_context
from tfnf.flows.data_bijector import resolve_preprocessing
from tfnf.keras.actnorm_initialization import ActNormInitialization, first_examples
from tfnf.keras.array_batches import array_batches, fits_in_graph
from tfnf.keras.adopted_variables import AdoptedVariables, check_every_read_variable_is_held
from tfnf.keras.graph_warm_up import traced_on_this_thread
from tfnf.keras.guarded_update import AppliedStepsMean, GuardedUpdate, step_logs
from tfnf.keras.jit_compile_choice import JitCompileChoice
from tfnf.keras.input_checks import (
    UNWEIGHTED, InputChecks, check_num_bins, input_errors_as_value_errors,
)
from tfnf.keras.sampling_arguments import check_count, check_steps, check_temperature, refuse_nonfinite, sample_seed
from tfnf.keras.variational_dequantizer import VariationalDequantizer
from tfnf.rules.integers import check_integer, check_seed

tfd = tfp.distributions

DEQUANTIZATIONS = ("uniform", "variational")
SAMPLE_CHUNK = 4096  # samples decoded per call by `sample`
STEPS_PER_EXECUTION = 16  # default of `compile`: train steps per call of the compiled function


def _as_flow(flow):
    if isinstance(flow, dict):  # from get_config
        config = dict(flow["config"])
        if flow["builder"] == "realnvp":
            # saved before realnvp had Fourier features: its conditioners read x alone
            config.setdefault("fourier_frequencies", ())
        return build_flow(flow["builder"], dtype=flow.get("dtype", "float32"), **config)
    if not isinstance(flow, tfd.Distribution):
        raise TypeError(f"flow must be a tfd.TransformedDistribution (e.g. tfnf.flows.glow(...)), got {type(flow).__name__}")
    return flow


def _restores_a_backup(callbacks):
    """Whether a `keras.callbacks.BackupAndRestore` among `callbacks` will load a backup when training begins."""
    return any(
        isinstance(c, keras.callbacks.BackupAndRestore)
        and os.path.exists(os.path.join(c.backup_dir, "latest.weights.h5"))
        for c in callbacks
    )


def _float16_networks(layers):
    """Whether any of the flow's networks computes in float16 (it then needs loss scaling)."""
    return any(layer.dtype_policy.compute_dtype == "float16" for layer in layers)


def _supports_xla(model):
    """Keras' own test (platform, op determinism, layers that refuse XLA), without its CPU-only rule."""
    try:
        from keras.src.trainers.trainer import model_supports_jit
    except ImportError:  # moved in another Keras version: the layers' own flags are the public part
        return all(layer.supports_jit for layer in model._flatten_layers())
    return model_supports_jit(model)


def _in_graph(*values):
    """True when called while tracing (a user's `tf.function`) with symbolic inputs."""
    return not tf.executing_eagerly() or any(tf.is_tensor(v) and not hasattr(v, "numpy") for v in values)


@keras.saving.register_keras_serializable(package="tfnf")
class FlowModel(keras.Model):
    """Trains `flow` by maximum likelihood with `compile` / `fit` / `evaluate`.

    Data go in in their own units, `x: [batch, *event_shape]`. With `num_bins`
    set, `x` holds integer pixels in `[0, num_bins)`; training and `evaluate`
    add dequantisation noise, and the map into the flow's working range is part
    of the bijector chain, so `log_prob` is a density in data units and
    `-log_prob / (D ln 2)` is bits per dimension. Logged metrics: `loss` (mean
    negative log-likelihood, nats per example), `bits_per_dim` and `skipped_steps`.

    `flow` may be any `tfd.TransformedDistribution` with batch shape `[]`: a
    tfnf flow, a chain of stock TFP bijectors holding their own
    `tf.Variable`s, a learned base. Every variable of it is trained (it is in
    `trainable_variables`); a variable the flow reads but no `tf.Module` in it
    holds cannot be and is an error naming it, at the first training step.
    Sampling draws from the flow's own base (see `tfnf.flows.DataFlow` for
    what temperature means).

    A conditional flow (`glow(..., num_classes=K)`, `realnvp(..., context_shape=(k,))`)
    models `p(x | condition)`: `fit(x, y)` / `evaluate(x, y)` take the
    conditions as `y` (integer labels `[batch]`, or vectors `[batch, k]`), or a
    dataset of `(x, condition)` pairs; `log_prob`, `bits_per_dim`, `sample`,
    `encode`, `decode` and `interpolate` take `condition=`.

    `log_prob`, `bits_per_dim`, `encode` and `decode` take any leading batch
    shape `[..., *event_shape]`, and they and `sample` also work on symbolic
    tensors inside a user's `tf.function` (unchecked there: graph code is the
    caller's own).

    Args:
      flow: a `tfd.TransformedDistribution` whose bijector maps latent -> working range.
      num_bins: number of discrete levels of the data (256 for 8-bit images, 17
        for `digits`), or None for continuous data.
      preprocessing: `"auto"` (the builder's choice: `"shift"` for glow/nice,
        `"logit"` for image realnvp), `"shift"`, `"logit"` or `"none"`.
      clip_norm: global-norm clipping of the gradient of the loss (None: off).
      init_batch_size: examples used for ActNorm's data-dependent initialisation.
      logit_alpha: boundary margin of the logit preprocessing.
      seed: seed of the dequantisation noise.
      max_consecutive_skips: a training step whose loss or gradient is not
        finite is skipped (not applied) and counted in `skipped_steps`; after
        this many in a row `fit` stops and raises `FloatingPointError`.
      dequantization: `"uniform"` (noise `u ~ U[0, 1)`) or `"variational"`
        (Flow++: a `VariationalDequantizer` `q(u | x)` trained jointly; loss and
        bits/dim are then the bound `-E_q[log p(x + u) - log q(u | x)]`).
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
        flow = _as_flow(flow)
        # the model's own arithmetic (data map, dequantisation, densities) stays in the flow's dtype
        # under a mixed-precision policy; the flow's networks follow the policy (network_dtype_policy)
        kwargs.setdefault("dtype", tf.as_dtype(flow.dtype).name)
        super().__init__(**kwargs)
        num_bins = check_num_bins(num_bins)
        seed = None if seed is None else check_seed(seed)
        if not (isinstance(dequantization, str) and dequantization in DEQUANTIZATIONS):
            raise ValueError(f"dequantization must be one of {DEQUANTIZATIONS}, got {dequantization!r}")
        if dequantization == "variational" and num_bins is None:
            raise ValueError("dequantization='variational' needs discrete data: set num_bins (got num_bins=None)")
        self.flow_description = flow_config(flow)
        self.preprocessing = resolve_preprocessing(preprocessing, (self.flow_description or {}).get("preprocessing"), num_bins)
        self.init_batch_size = check_integer(init_batch_size, "init_batch_size", 1)
        self.logit_alpha = float(logit_alpha)
        self.dequantization = dequantization
        self.dequantizer = None
        if dequantization == "variational":
            self.dequantizer = VariationalDequantizer(
                tuple(flow.event_shape), num_bins, seed=seed, dtype=tf.as_dtype(flow.dtype).name, name="variational_dequantizer"
            )
        self.data_flow = DataFlow(flow, num_bins, self.preprocessing, self.logit_alpha, flow_context(flow), self.dequantizer)
        self.flow_layers = collect_keras_layers(flow)
        adopted = AdoptedVariables(flow, self.flow_layers, name="adopted_variables")
        self.adopted_variables = adopted if adopted.adopted else None
        self.input_checks = InputChecks(self.event_shape, num_bins, self.condition_spec, self.flow_dtype)
        self.guarded_update = GuardedUpdate(clip_norm, max_consecutive_skips)
        self.actnorm_initialization = ActNormInitialization(self.data_flow)
        self.noise_seed = keras.random.SeedGenerator(seed, name="dequantization_seed")
        self.loss_tracker = AppliedStepsMean(name="loss")
        self.bits_per_dim_tracker = AppliedStepsMean(name="bits_per_dim")
        self.skipped_tracker = keras.metrics.Sum(name="skipped_steps")
        self._functions = {}
        self.jit_compile_choice = None
        self.built = True

    # --- what the model is -------------------------------------------------------------------
    flow = property(lambda self: self.data_flow.flow, doc="The flow (a `tfd.TransformedDistribution`).")
    bijector = property(lambda self: self.data_flow.bijector, doc="Latent -> data units (the flow's bijector and the data map).")
    distribution = property(lambda self: self.data_flow.distribution, doc="The density over data units.")
    num_bins = property(lambda self: self.data_flow.num_bins)
    event_shape = property(lambda self: self.data_flow.event_shape)
    num_dims = property(lambda self: self.data_flow.num_dims)
    flow_dtype = property(lambda self: self.data_flow.dtype)
    condition_spec = property(lambda self: self.data_flow.condition_spec)
    conditional = property(lambda self: self.data_flow.condition_spec is not None)
    clip_norm = property(lambda self: self.guarded_update.clip_norm)

    @property
    def metrics(self):
        return [self.loss_tracker, self.bits_per_dim_tracker, self.skipped_tracker]

    # --- Keras configuration ---------------------------------------------------------------------
    def compile(self, optimizer=None, jit_compile="auto", steps_per_execution=None, **kwargs):
        """As `keras.Model.compile`, with defaults chosen for flows. No loss is needed.

        Args:
          optimizer: defaults to `Adam(1e-3)`.
          jit_compile: `True`, `False` or `"auto"` (default): time the train
            step with and without XLA on the first calls of `fit` and keep the
            faster (`JitCompileChoice`; `jit_compile_choice.describe()` reports
            the timings). Under a distribution strategy `"auto"` is Keras' rule (no XLA).
          steps_per_execution: optimizer steps per call of the compiled train
            function (default 16; 1 under a distribution strategy, where the
            guarded update synchronises the replicas in every step and cannot
            run inside Keras' multi-step loop): callbacks' batch hooks and the
            progress bar then run once per 16 steps, which removes Keras'
            per-step Python work from training.
        """
        kwargs.pop("loss", None)
        distributed = self._distributed()
        if steps_per_execution is None:
            steps_per_execution = 1 if distributed else STEPS_PER_EXECUTION
        elif distributed and steps_per_execution != 1:
            raise ValueError(
                f"steps_per_execution={steps_per_execution!r} under a distribution strategy is not supported "
                "(each step synchronises the replicas); leave it at 1"
            )
        if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"steps_per_execution must be a positive int, got {steps_per_execution!r}")
        if not (isinstance(jit_compile, bool) or jit_compile == "auto"):
            raise ValueError(f"jit_compile must be True, False or 'auto', got {jit_compile!r}")
        choose = jit_compile == "auto" and not kwargs.get("run_eagerly") and not distributed
        optimizer = keras.optimizers.get(optimizer or keras.optimizers.Adam(1e-3))
        if _float16_networks(self.flow_layers) and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            if distributed:
                raise ValueError("mixed_float16 training under a distribution strategy is not supported; use mixed_bfloat16")
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)  # float16 gradients underflow without it
        super().compile(
            optimizer=optimizer,
            jit_compile=False if choose else jit_compile,
            steps_per_execution=steps_per_execution,
            **kwargs,
        )
        self.jit_compile_choice = JitCompileChoice(steps_per_execution) if choose and _supports_xla(self) else None
        if choose:
            self._compile_config.config["jit_compile"] = "auto"  # a reloaded model chooses again

    def _distributed(self):
        """Whether the model runs under a distribution strategy (built in its scope, or called in one)."""
        return tf.distribute.has_strategy() or self._distribute_strategy is not None

    def make_train_function(self, force=False):
        """Keras' train function; while `jit_compile="auto"` has not chosen, one that times both modes."""
        choice = self.jit_compile_choice
        if choice is None or choice.decided or self.run_eagerly:
            return super().make_train_function(force)
        if self.train_function is not None and not force:
            return self.train_function
        # Both modes call one traced train step (tracing a flow's step costs about as much as XLA's
        # compilation); with XLA that call is compiled with the rest of the step.
        functions = {}
        step = tf.function(traced_on_this_thread(self.train_step), reduce_retracing=True, autograph=False)
        self.train_step = step  # as Keras calls it
        try:
            for mode in (False, True):
                self.jit_compile = mode
                super().make_train_function(force=True)
                functions[mode] = self.train_function
        finally:
            del self.train_step
            self.jit_compile = False

        def choose(jit_compile):
            self.jit_compile = jit_compile
            self.train_function = functions[jit_compile]
            if jit_compile:  # evaluation and prediction follow the choice
                self.test_function = self.predict_function = None

        self.train_function = choice.train_function(
            functions, lambda: int(self.optimizer.iterations.numpy()), choose, trace_step=step.get_concrete_function
        )
        return self.train_function

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        if getattr(self, "optimizer", None) is not None:
            self.optimizer.build(self.trainable_variables)

    def get_config(self):
        if self.flow_description is None:
            raise NotImplementedError(
                "FlowModel can only serialise flows built by tfnf.flows builders; "
                "use save_weights/load_weights for a custom flow"
            )
        check_serializable(self.flow_description)  # a custom conditioner callable cannot be saved
        config = super().get_config()
        config.update(
            flow=self.flow_description,
            num_bins=self.num_bins,
            preprocessing=self.preprocessing,
            clip_norm=self.clip_norm,
            init_batch_size=self.init_batch_size,
            logit_alpha=self.logit_alpha,
            max_consecutive_skips=self.guarded_update.limit,
            dequantization=self.dequantization,
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # --- training --------------------------------------------------------------------------------
    def call(self, x, training=False, condition=None):
        """`log_prob(x)`, `x: [batch, *event_shape]` -> `[batch]`; when training, one draw of the
        dequantised objective (`DataFlow.dequantized_log_prob`)."""
        if not training:
            return self.data_flow.log_prob(x, condition)
        return self._dequantized_objective(x, condition)

    def _dequantized_objective(self, x, condition=None):
        """One draw of the dequantised objective `[batch]`. Networks inside run in training mode
        (dropout on) only when reached through `self(x, training=True)`, which sets Keras'
        training context; `test_step` and `dequantized_log_prob` call this directly, so validation,
        `evaluate` and that method score the same objective with dropout off."""
        noise = None
        if self.num_bins is not None and self.dequantizer is None:
            noise = keras.random.uniform(tf.shape(x), dtype=self.flow_dtype, seed=self.noise_seed)
        return self.data_flow.dequantized_log_prob(x, condition, noise=noise)

    def train_step(self, data):
        x, condition = self.input_checks.step_data(data)
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(self(x, training=True, condition=condition))
            scaled_loss = self.optimizer.scale_loss(loss)  # mixed_float16: times the dynamic loss scale
        variables = self.trainable_variables
        if not tf.distribute.has_strategy():  # replicas read per-device copies, tracked by the strategy
            check_every_read_variable_is_held(tape, self.variables)
        loss, finite = self.guarded_update.apply(self.optimizer, loss, tape.gradient(scaled_loss, variables), variables)
        weight = tf.cast(finite, loss.dtype)
        self.loss_tracker.update_state(tf.where(finite, loss, 0.0), sample_weight=weight)
        self.bits_per_dim_tracker.update_state(tf.where(finite, self.data_flow.nats_to_bits_per_dim(loss), 0.0), sample_weight=weight)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        self.skipped_tracker.update_state((1.0 - weight) / replicas)  # summed over the replicas when read
        return step_logs({m.name: m.result() for m in self.metrics})

    def test_step(self, data):
        x, condition = self.input_checks.step_data(data)
        log_prob = self._dequantized_objective(x, condition)  # outside Keras' training context: no dropout
        loss = -tf.reduce_mean(log_prob)
        batch = tf.cast(tf.shape(log_prob)[0], loss.dtype)
        self.loss_tracker.update_state(loss, sample_weight=batch)
        self.bits_per_dim_tracker.update_state(self.data_flow.nats_to_bits_per_dim(loss), sample_weight=batch)
        return step_logs({m.name: m.result() for m in (self.loss_tracker, self.bits_per_dim_tracker)})

    def predict_step(self, data):
        x, condition = self.input_checks.step_data(data)
        return self(x, training=False, condition=condition)

    def fit(self, x=None, y=None, **kwargs):
        """`keras.Model.fit`, after validating the data and, if no ActNorm has seen data yet,
        initialising them from the first `init_batch_size` examples.

        `x`: arrays (a conditional model's conditions as `y`, or `fit((x, y))`), a
        `tf.data.Dataset`, or a Python generator of `x` / `(x,)` / `(x, y)` batches.
        Bad data raise `TypeError`/`ValueError` naming the problem: arrays before
        training, a dataset's element spec before training and its values as
        batches are read, a generator's batches as they are yielded. Non-finite
        training batches are skipped and counted (see `max_consecutive_skips`).

        Shuffled in-memory arrays train in full batches only: an epoch is
        `ceil(N / batch_size)` batches, a shuffled pass completed by randomly
        chosen examples (`array_batches`), so every example is seen each epoch
        and XLA compiles one batch shape. `sample_weight` and
        `class_weight` are refused (`ValueError`)."""
        if kwargs.get("sample_weight") is not None or kwargs.get("class_weight") is not None:
            raise ValueError(UNWEIGHTED)
        with input_errors_as_value_errors():
            x, y = self.input_checks.training_data(x, y, "x", check_finite=False, caller="fit")
            if kwargs.get("validation_data") is not None:
                kwargs["validation_data"] = self.input_checks.validation_data(kwargs["validation_data"])
            callbacks = list(kwargs.pop("callbacks", None) or [])
            if self.needs_initialization and not _restores_a_backup(callbacks):  # a backup brings its own
                first, first_condition = first_examples(x, y, self.init_batch_size, len(self.event_shape), self.conditional)
                if first is not None:
                    self.initialize(first, first_condition)
            self._build_optimizer()
            self.guarded_update.reset()
            x, y, kwargs = self._arrays_as_batches(x, y, kwargs)
            history = super().fit(x, y, callbacks=[*callbacks, self.guarded_update.stop_callback()], **kwargs)
        self.guarded_update.raise_if_tripped()
        return history

    def _arrays_as_batches(self, x, y, kwargs):
        """`fit`'s in-memory arrays (and validation arrays) as `array_batches`, where Keras'
        own handling is not needed (`validation_split`, `steps_per_epoch`,
        `shuffle="batch"`, distribution strategies keep it)."""
        if (
            kwargs.get("validation_split") or kwargs.get("steps_per_epoch") is not None
            or kwargs.get("shuffle", True) not in (True, False)
            or self._distributed()
            or not fits_in_graph(x, y)
        ):
            return x, y, kwargs
        kwargs = dict(kwargs)
        batch_size = kwargs.pop("batch_size", None)
        x = array_batches(x, y, batch_size, kwargs.pop("shuffle", True))
        kwargs["shuffle"] = False  # the batches shuffle themselves
        validation = kwargs.get("validation_data")
        if isinstance(validation, tuple) and len(validation) <= 2 and fits_in_graph(*validation):
            validation_batch_size = kwargs.pop("validation_batch_size", None) or batch_size
            kwargs["validation_data"] = array_batches(*validation, batch_size=validation_batch_size, shuffle=False)
        return x, None, kwargs

    def _build_optimizer(self):
        """Create the optimizer's slots now: no variables may be created inside the step's `tf.cond`."""
        if getattr(self, "optimizer", None) is not None and not self.optimizer.built:
            with self.distribute_strategy.scope():
                self.optimizer.build(self.trainable_variables)

    def evaluate(self, x=None, y=None, **kwargs):
        """`keras.Model.evaluate`, after validating the data as `fit` does (NaN/Inf included)."""
        with input_errors_as_value_errors():
            x, y = self.input_checks.training_data(x, y, "x", caller="evaluate")
            return super().evaluate(x, y, **kwargs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """`keras.Model.train_on_batch`, after checking the batch as `fit` checks arrays and,
        if no ActNorm has seen data yet, initialising them from it."""
        with input_errors_as_value_errors():
            x, y = self.input_checks.training_data(x, y, "x", check_finite=False, caller="train_on_batch")
            if self.needs_initialization:
                self.initialize(x, y)
            self._build_optimizer()
        return super().train_on_batch(x, y, sample_weight=sample_weight, class_weight=class_weight, return_dict=return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """`keras.Model.test_on_batch`, after checking the batch as `evaluate` does."""
        with input_errors_as_value_errors():
            x, y = self.input_checks.training_data(x, y, "x", caller="test_on_batch")
        return super().test_on_batch(x, y, sample_weight=sample_weight, return_dict=return_dict)

    # --- ActNorm data-dependent initialisation -------------------------------------------------
    @property
    def actnorms(self):
        """The `ActNorm` bijectors of the flow (a list)."""
        return list(self.actnorm_initialization.actnorms)

    @property
    def needs_initialization(self):
        """True while some ActNorm has not been initialised from data (read from the saved flags)."""
        return self.actnorm_initialization.pending

    def initialize(self, batch, condition=None):
        """Initialise every not-yet-initialised ActNorm from `batch: [N, *event_shape]` (data
        units; a conditional model also takes the batch's `condition`). Returns how many were."""
        array = self.input_checks.batch(batch, "initialization batch")
        condition = self.input_checks.condition(condition, len(array), "initialization condition")
        return self.actnorm_initialization.run(tf.constant(array, self.flow_dtype), condition)

    # --- density and generation ------------------------------------------------------------------
    def _compiled(self, method, jit_compile=None, reduce_retracing=True):
        """`method` as a cached `tf.function`, XLA-compiled when the model is (as Keras does for
        `predict`) unless `jit_compile` says otherwise; `reduce_retracing=False` traces once per
        input shape instead of generalising shapes."""
        jit_compile = bool(self.jit_compile) if jit_compile is None else jit_compile
        key = (method.__name__, jit_compile)
        if key not in self._functions:
            self._functions[key] = tf.function(method, reduce_retracing=reduce_retracing, jit_compile=jit_compile)
        return self._functions[key]

    def _run(self, method, x, condition, name="x", check_range=True, event_output=False):
        """`method(x, condition)` on checked data of any leading batch shape `[..., *event_shape]`."""
        if _in_graph(x, condition):
            return method(x, condition)
        flat, condition, batch_shape = self.input_checks.any_batch(x, condition, name, check_range)
        args = [tf.constant(flat, self.flow_dtype)] + ([] if condition is None else [tf.constant(condition)])
        result = self._compiled(method)(*args)
        return tf.reshape(result, batch_shape + (self.event_shape if event_output else ()))

    def log_prob(self, x, condition=None):
        """Exact log-density at `x: [..., *event_shape]` (data units, no noise) -> `[...]`.

        `condition`: a conditional model's labels `[...]` / vectors `[..., k]` (or one for all)."""
        return self._run(self.data_flow.log_prob, x, condition)

    def bits_per_dim(self, x, condition=None):
        """`-log_prob(x) / (D ln 2)` per example: `[..., *event_shape]` -> `[...]`."""
        return self.data_flow.nats_to_bits_per_dim(-self.log_prob(x, condition=condition))

    def dequantized_log_prob(self, x, condition=None):
        """One draw of the training objective per example, `[..., *event_shape]` -> `[...]`: for
        discrete `x`, `log p(x + u) - log q(u | x)` with `u ~ q` (uniform or variational), a
        lower bound on `log P(x)` in expectation; for continuous data, `log_prob(x)`. The
        conditioners run without dropout, as in `evaluate`."""
        return self._run(self._dequantized_objective, x, condition)

    def encode(self, x, condition=None):
        """Data `x: [..., *event_shape]` -> latent `z: [..., *event_shape]`."""
        return self._run(self.data_flow.encode, x, condition, event_output=True)

    def decode(self, z, condition=None):
        """Latent `z: [..., *event_shape]` -> data `x` (continuous, data units)."""
        return self._run(self.data_flow.decode, z, condition, name="z", check_range=False, event_output=True)

    def to_pixels(self, x):
        """Continuous data-unit samples -> integer pixels in `[0, num_bins)` (float dtype)."""
        return self.data_flow.quantize(x)

    def sample(self, n, temperature=1.0, seed=None, quantized=False, condition=None):
        """`n` samples `[n, *event_shape]` in data units, drawn from the flow's own base.

        Args:
          n: number of samples, in `[1, 2**31)`, at most 4 GiB of them.
          temperature: for a Gaussian base, the scale of its standardised noise
            (1: the model; 0: the decoded mean); other bases take 1 only. A
            multi-scale flow (glow, image realnvp) also takes one value per
            level, a list / tuple of `data_flow.num_levels` values (level 0 is
            the part factored out first, the finest scale).
          seed: an int in `[0, 2**32)` (or a pair of int32) for reproducible
            samples; None: random.

        Numbers may also be NumPy scalars, 0-d arrays or tensors. Samples holding
        NaN or Inf (a diverged model) are a `ValueError` naming the broken weights.
          quantized: with `num_bins`, integer pixels in `[0, num_bins)` (float dtype).
          condition: a conditional model's condition for each sample (labels
            `[n]` / vectors `[n, k]`), or one label / vector for all `n`.
        """
        if _in_graph(n, temperature, seed, condition):
            x = self.data_flow.sample(n, temperature, seed, condition)
            return self.data_flow.quantize(x) if quantized else x
        n = check_count(n, self.event_shape, self.flow_dtype)
        temperature, seed = check_temperature(temperature, self.data_flow), sample_seed(seed)
        condition = self.input_checks.condition(condition, n)
        condition = None if condition is None else tf.constant(condition)
        # The latent is drawn outside XLA (in a graph: eager TFP costs milliseconds), so a seed gives
        # the same samples whatever `jit_compile` is; it is decoded in chunks, so a large `n` never
        # holds every conditioner activation at once.
        # never XLA; one trace per temperature shape (a number, or one per level)
        latent_sample = self._compiled(self.data_flow.latent_sample, jit_compile=False, reduce_retracing=False)
        z = latent_sample(tf.constant(n, tf.int32), tf.constant(temperature, self.flow_dtype), seed)
        decode = self._compiled(self.data_flow.decode)
        if n <= SAMPLE_CHUNK:
            x = decode(z, condition)
        else:
            x = tf.concat([
                decode(z[i : i + SAMPLE_CHUNK], None if condition is None else condition[i : i + SAMPLE_CHUNK])
                for i in range(0, n, SAMPLE_CHUNK)
            ], axis=0)
        refuse_nonfinite(x, self.data_flow)  # a diverged model's NaN samples are an error, as its save is
        return self.data_flow.quantize(x) if quantized else x

    def interpolate(self, x_a, x_b, steps=8, condition=None, method="linear"):
        """Decode `steps` evenly spaced points on a latent path from `x_a` to `x_b`.

        `x_a, x_b: [*event_shape]` -> `[steps, *event_shape]`, or
        `[batch, *event_shape]` each -> `[batch, steps, *event_shape]`. A
        conditional model uses one `condition` per pair (one label / vector, or `[batch]`).
        `method`: `"linear"` (the latent segment) or `"slerp"` (the great-circle
        arc between the two latents, see `DataFlow.interpolate`)."""
        if not (isinstance(method, str) and method in ("linear", "slerp")):
            raise ValueError(f'method must be "linear" or "slerp", got {method!r}')
        single = np.ndim(x_a) == len(self.event_shape)
        x_a, x_b = self.input_checks.endpoints(x_a, x_b)
        steps = check_steps(steps, len(x_a), self.event_shape, self.flow_dtype)
        condition = self.input_checks.condition(condition, len(x_a))
        # steps as a tensor: one trace serves every number of steps
        args = [tf.constant(x_a, self.flow_dtype), tf.constant(x_b, self.flow_dtype), tf.constant(steps, tf.int32)]
        args.append(None if condition is None else tf.constant(condition))
        path = self._compiled(self.data_flow.interpolate)(*args, method=method)
        return path[0] if single else path

    # --- saving and export -------------------------------------------------------------------
    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """`keras.Model.save`, refusing a model whose weights or probe density are not finite.

        A `.keras` (or `.h5`) file is written beside `filepath` and renamed onto
        it (`tfnf.files.write_file`), so a save that fails (a config that cannot
        be serialised, a full disk) or is killed leaves the previous file as it
        was. A symbolic link at `filepath` is refused (a `FileExistsError`):
        save to the file it points to, or to a new one. `overwrite=False` asks
        before replacing a file, as Keras does.
        """
        broken = self.data_flow.nonfinite_parts()
        if broken:
            raise ValueError(
                f"refusing to save {filepath!s}: NaN or Inf in {', '.join(broken[:5])} "
                "(did training diverge?); restore finite weights first"
            )
        keras_save = super().save
        name = os.fspath(filepath) if isinstance(filepath, (str, os.PathLike)) else None
        if not isinstance(name, str) or zipped is False or name.startswith("hf://") or not name.endswith((".keras", ".h5", ".hdf5")):
            return keras_save(filepath, overwrite=overwrite, zipped=zipped, **kwargs)  # Keras' own errors and formats
        from tfnf.files import write_file  # files sit beside the model, imported on first save

        if not overwrite and tf.io.gfile.exists(name):
            from keras.src.utils.io_utils import ask_to_proceed_with_overwrite

            if not ask_to_proceed_with_overwrite(name):
                return None
        write_file(name, lambda temporary: keras_save(temporary, overwrite=True, zipped=zipped, **kwargs))
        return None


    def export(self, filepath, format="tf_saved_model", overwrite=False, **kwargs):
        """Write a SavedModel for TF Serving (see `tfnf.export.export_saved_model`)."""
        if format != "tf_saved_model":
            raise ValueError(f"FlowModel.export writes format='tf_saved_model' only, got {format!r}")
        from tfnf.export import export_saved_model  # export sits downstream of the model

        return export_saved_model(self, filepath, overwrite=overwrite, **kwargs)
