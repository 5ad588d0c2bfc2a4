"""`FlowModel`: a Keras 3 model that trains a flow by maximum likelihood (or a CNF by flow matching).

The model adapts a `tfnf.flows.DataFlow` (the flow as a model of data in their own units) to
Keras and adds nothing of its own to the mathematics. Its parts live beside it: `GuardedUpdate`,
`ActNormInitialization`, `InputChecks`, `AdoptedVariables` (the flow's plain `tf.Variable`s),
`compile_settings`, `JitCompileChoice`, the steps (`train_steps`, `resolve_objective`),
`array_batches`, `draw_samples`, `model_config`, `save_model_file`, `FlowModelViews` (read-only
properties) and `checked_calls`.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator, Sequence

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.annotations import ArrayLike
from tfnf.bijectors import collect_keras_layers
from tfnf.flows import DataFlow, flow_config, flow_context
from tfnf.flows.data_bijector import resolve_preprocessing
from tfnf.keras.actnorm_initialization import ActNormInitialization, first_examples, restores_a_backup
from tfnf.keras.adopted_variables import AdoptedVariables
from tfnf.keras.array_batches import fit_arguments_as_batches
from tfnf.keras.compile_settings import build_optimizer, compile_settings, float16_networks, is_distributed, supports_xla
from tfnf.keras.guarded_update import AppliedStepsMean, GuardedUpdate
from tfnf.keras.input_checks import UNWEIGHTED, InputChecks, check_num_bins, input_errors_as_value_errors, symbolic
from tfnf.keras.checked_calls import compiled_function, run_on_data
from tfnf.keras.jit_compile_choice import JitCompileChoice, choosing_train_function
from tfnf.keras.model_config import as_flow, model_config
from tfnf.keras.model_views import FlowModelViews
from tfnf.keras.model_file import save_model_file
from tfnf.keras.sample_draws import SAMPLE_CHUNK, draw_samples
from tfnf.keras.sampling_arguments import check_steps
from tfnf.keras.train_steps import test_step, train_step
from tfnf.keras.training_objective import resolve_objective
from tfnf.keras.variational_dequantizer import VariationalDequantizer
from tfnf.rules.dequantization import check_dequantization
from tfnf.rules.integers import check_integer, check_seed


@keras.saving.register_keras_serializable(package="tfnf")
class FlowModel(FlowModelViews, keras.Model):
    """Trains `flow` with `compile` / `fit` / `evaluate`, by maximum likelihood or flow matching.

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
      objective: `"maximum_likelihood"`, `"flow_matching"` (a CNF, `ffjord`, learning its field
        alone: `flow_matching_step`; `fit` logs `flow_matching_loss`, not `loss` / `bits_per_dim`)
        or `"auto"` (flow matching where it applies); `evaluate` and validation report the NLL.
    """

    def __init__(
        self, flow: tfp.distributions.TransformedDistribution | dict, num_bins: int | None = None, preprocessing: str = "auto",
        clip_norm: float | None = 100.0, init_batch_size: int = 512, logit_alpha: float = 0.05, seed: int | None = None,
        max_consecutive_skips: int = 20, dequantization: str = "uniform", objective: str = "auto", **kwargs,
    ) -> None:
        flow = as_flow(flow)
        # the model's own arithmetic (data map, dequantisation, densities) stays in the flow's dtype
        # under a mixed-precision policy; the flow's networks follow the policy (network_dtype_policy)
        kwargs.setdefault("dtype", tf.as_dtype(flow.dtype).name)
        super().__init__(**kwargs)
        num_bins = check_num_bins(num_bins)
        seed = None if seed is None else check_seed(seed)
        dequantization = check_dequantization(dequantization, num_bins)
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
        self.objective = resolve_objective(objective, self.data_flow)
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
        self.flow_matching_tracker = AppliedStepsMean(name="flow_matching_loss") if self.objective == "flow_matching" else None
        self._functions = {}
        self.jit_compile_choice = None
        self.chooses_jit_compile = False
        self.built = True

    # --- Keras configuration ---------------------------------------------------------------------
    def compile(
        self, optimizer: keras.optimizers.Optimizer | str | None = None, jit_compile: bool | str = "auto",
        steps_per_execution: int | None = None, **kwargs,
    ) -> None:
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
        optimizer, keras_jit_compile, steps_per_execution, choose = compile_settings(
            optimizer, jit_compile, steps_per_execution, is_distributed(self), float16_networks(self.flow_layers),
            bool(kwargs.get("run_eagerly")),
        )
        super().compile(optimizer=optimizer, jit_compile=keras_jit_compile, steps_per_execution=steps_per_execution, **kwargs)
        self.jit_compile_choice = JitCompileChoice(steps_per_execution) if choose and supports_xla(self) else None
        self.chooses_jit_compile = choose  # a reloaded model chooses again (`get_compile_config`)

    def get_compile_config(self) -> dict:
        """Keras' compile config; `jit_compile` stays `"auto"` when `compile` was asked to choose."""
        config = super().get_compile_config()
        return {**config, "jit_compile": "auto"} if config and self.chooses_jit_compile else config

    def make_train_function(self, force: bool = False) -> Callable:
        """Keras' train function; while `jit_compile="auto"` has not chosen, one that times both modes."""
        choice = self.jit_compile_choice
        if choice is None or choice.decided or self.run_eagerly:
            return super().make_train_function(force)
        if self.train_function is not None and not force:
            return self.train_function
        self.train_function = choosing_train_function(self, choice, lambda: super(FlowModel, self).make_train_function(force=True))
        return self.train_function

    def compile_from_config(self, config: dict) -> None:
        self.compile(**keras.saving.deserialize_keras_object(config))
        build_optimizer(self)

    def get_config(self) -> dict:
        return {**super().get_config(), **model_config(self)}

    @classmethod
    def from_config(cls, config: dict) -> FlowModel:
        return cls(**config)

    # --- training --------------------------------------------------------------------------------
    def call(self, x: tf.Tensor, training: bool = False, condition: tf.Tensor | None = None) -> tf.Tensor:
        """`log_prob(x)`, `x: [batch, *event_shape]` -> `[batch]`; when training, one draw of the
        dequantised objective (`DataFlow.dequantized_log_prob`)."""
        if not training:
            return self.data_flow.log_prob(x, condition)
        return self.dequantized_objective(x, condition)

    def dequantized_objective(self, x: tf.Tensor, condition: tf.Tensor | None = None) -> tf.Tensor:
        """One draw of the dequantised objective `[batch]`. Networks inside run in training mode
        (dropout on) only when reached through `self(x, training=True)`, which sets Keras'
        training context; `test_step` and `dequantized_log_prob` call this directly, so validation,
        `evaluate` and that method score the same objective with dropout off."""
        noise = None
        if self.num_bins is not None and self.dequantizer is None:
            noise = keras.random.uniform(tf.shape(x), dtype=self.flow_dtype, seed=self.noise_seed)
        return self.data_flow.dequantized_log_prob(x, condition, noise=noise)

    def train_step(self, data: Any) -> dict:
        """One optimiser step on a batch `x: [batch, *event_shape]` (or `(x, condition)`); returns the metrics."""
        return train_step(self, data)

    def test_step(self, data: Any) -> dict:
        """The metrics of a batch `x: [batch, *event_shape]` (or `(x, condition)`), without training."""
        return test_step(self, data)

    def predict_step(self, data: Any) -> tf.Tensor:
        """Log-densities `[batch]` of a batch `x: [batch, *event_shape]` (or `(x, condition)`)."""
        x, condition = self.input_checks.step_data(data)
        return self(x, training=False, condition=condition)

    def fit(self, x: ArrayLike | tf.data.Dataset | Iterator | None = None, y: ArrayLike | None = None, **kwargs) -> keras.callbacks.History:
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
        chosen examples (`array_batches`), so every example is seen each epoch and XLA
        compiles one batch shape. `sample_weight` and `class_weight` are refused (`ValueError`)."""
        if kwargs.get("sample_weight") is not None or kwargs.get("class_weight") is not None:
            raise ValueError(UNWEIGHTED)
        with input_errors_as_value_errors():
            x, y = self.input_checks.training_data(x, y, "x", check_finite=False, caller="fit")
            if kwargs.get("validation_data") is not None:
                kwargs["validation_data"] = self.input_checks.validation_data(kwargs["validation_data"])
            callbacks = list(kwargs.pop("callbacks", None) or [])
            if self.needs_initialization and not restores_a_backup(callbacks):  # a backup brings its own
                first, first_condition = first_examples(x, y, self.init_batch_size, len(self.event_shape), self.conditional)
                if first is not None:
                    self.initialize(first, first_condition)
            build_optimizer(self)
            self.guarded_update.reset()
            x, y, kwargs = fit_arguments_as_batches(x, y, kwargs, is_distributed(self))
            history = super().fit(x, y, callbacks=[*callbacks, self.guarded_update.stop_callback()], **kwargs)
        self.guarded_update.raise_if_tripped()
        return history

    def evaluate(
        self, x: ArrayLike | tf.data.Dataset | Iterator | None = None, y: ArrayLike | None = None, **kwargs
    ) -> float | list | dict:
        """`keras.Model.evaluate`, after validating the data as `fit` does (NaN/Inf included)."""
        with input_errors_as_value_errors():
            x, y = self.input_checks.training_data(x, y, "x", caller="evaluate")
            return super().evaluate(x, y, **kwargs)

    def train_on_batch(
        self, x: ArrayLike, y: ArrayLike | None = None, sample_weight: ArrayLike | None = None, class_weight: dict | None = None,
        return_dict: bool = False,
    ) -> float | list | dict:
        """`keras.Model.train_on_batch`, after checking the batch as `fit` checks arrays and,
        if no ActNorm has seen data yet, initialising them from it."""
        with input_errors_as_value_errors():
            x, y = self.input_checks.training_data(x, y, "x", check_finite=False, caller="train_on_batch")
            if self.needs_initialization:
                self.initialize(x, y)
            build_optimizer(self)
        return super().train_on_batch(x, y, sample_weight=sample_weight, class_weight=class_weight, return_dict=return_dict)

    def test_on_batch(
        self, x: ArrayLike, y: ArrayLike | None = None, sample_weight: ArrayLike | None = None, return_dict: bool = False
    ) -> float | list | dict:
        """`keras.Model.test_on_batch`, after checking the batch as `evaluate` does."""
        with input_errors_as_value_errors():
            x, y = self.input_checks.training_data(x, y, "x", caller="test_on_batch")
        return super().test_on_batch(x, y, sample_weight=sample_weight, return_dict=return_dict)

    # --- ActNorm data-dependent initialisation -------------------------------------------------
    def initialize(self, batch: ArrayLike, condition: ArrayLike | None = None) -> int:
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
        return compiled_function(self._functions, method, jit_compile, reduce_retracing)

    def _run(self, method, x, condition, name="x", check_range=True, event_output=False):
        """`method(x, condition)` on checked data of any leading batch shape `[..., *event_shape]`."""
        return run_on_data(self, method, x, condition, name, check_range, event_output)

    def log_prob(self, x: ArrayLike, condition: ArrayLike | None = None) -> tf.Tensor:
        """Exact log-density at `x: [..., *event_shape]` (data units, no noise) -> `[...]`.

        `condition`: a conditional model's labels `[...]` / vectors `[..., k]` (or one for all)."""
        return self._run(self.data_flow.log_prob, x, condition)

    def bits_per_dim(self, x: ArrayLike, condition: ArrayLike | None = None) -> tf.Tensor:
        """`-log_prob(x) / (D ln 2)` per example: `[..., *event_shape]` -> `[...]`."""
        return self.data_flow.nats_to_bits_per_dim(-self.log_prob(x, condition=condition))

    def dequantized_log_prob(self, x: ArrayLike, condition: ArrayLike | None = None) -> tf.Tensor:
        """One draw of the training objective per example, `[..., *event_shape]` -> `[...]`: for
        discrete `x`, `log p(x + u) - log q(u | x)` with `u ~ q` (uniform or variational), a
        lower bound on `log P(x)` in expectation; for continuous data, `log_prob(x)`. The
        conditioners run without dropout, as in `evaluate`."""
        return self._run(self.dequantized_objective, x, condition)

    def encode(self, x: ArrayLike, condition: ArrayLike | None = None) -> tf.Tensor:
        """Data `x: [..., *event_shape]` -> latent `z: [..., *event_shape]`."""
        return self._run(self.data_flow.encode, x, condition, event_output=True)

    def decode(self, z: ArrayLike, condition: ArrayLike | None = None) -> tf.Tensor:
        """Latent `z: [..., *event_shape]` -> data `x` (continuous, data units)."""
        return self._run(self.data_flow.decode, z, condition, name="z", check_range=False, event_output=True)

    def to_pixels(self, x: ArrayLike) -> tf.Tensor:
        """Continuous data-unit samples -> integer pixels in `[0, num_bins)` (float dtype)."""
        return self.data_flow.quantize(x)

    def sample(
        self, n: int, temperature: float | Sequence[float] = 1.0, seed: int | Sequence[int] | None = None, quantized: bool = False,
        condition: ArrayLike | None = None,
    ) -> tf.Tensor:
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
          quantized: with `num_bins`, integer pixels in `[0, num_bins)` (float dtype).
          condition: a conditional model's condition for each sample (labels
            `[n]` / vectors `[n, k]`), or one label / vector for all `n`.

        Numbers may also be NumPy scalars, 0-d arrays or tensors. Samples holding
        NaN or Inf (a diverged model) are a `ValueError` naming the broken weights.
        """
        if symbolic(n, temperature, seed, condition):
            x = self.data_flow.sample(n, temperature, seed, condition)
            return self.data_flow.quantize(x) if quantized else x
        x = draw_samples(self.data_flow, self.input_checks, self._compiled, n, temperature, seed, condition, SAMPLE_CHUNK)
        return self.data_flow.quantize(x) if quantized else x

    def interpolate(
        self, x_a: ArrayLike, x_b: ArrayLike, steps: int = 8, condition: ArrayLike | None = None, method: str = "linear"
    ) -> tf.Tensor:
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
    def save(self, filepath: str | os.PathLike, overwrite: bool = True, zipped: bool | None = None, **kwargs) -> None:
        """`keras.Model.save`, refusing a model whose weights or probe density are not finite; a
        `.keras` / `.h5` file is replaced atomically (a failed or killed save keeps the old file),
        a symbolic link at `filepath` refused (`FileExistsError`). See `save_model_file`."""
        return save_model_file(super().save, self.data_flow.nonfinite_parts(), filepath, overwrite, zipped, **kwargs)

    def export(self, filepath: str | os.PathLike, format: str = "tf_saved_model", overwrite: bool = False, **kwargs) -> str:
        """Write a SavedModel for TF Serving (see `tfnf.export.export_saved_model`)."""
        if format != "tf_saved_model":
            raise ValueError(f"FlowModel.export writes format='tf_saved_model' only, got {format!r}")
        from tfnf.export import export_saved_model  # export sits downstream of the model

        return export_saved_model(self, filepath, overwrite=overwrite, **kwargs)
