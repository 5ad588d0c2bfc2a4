"""How `FlowModel.compile` settles its arguments: steps per execution, XLA or not, loss scaling.

Under a distribution strategy the guarded update synchronises the replicas in
every step, so a distributed model runs one step per execution and lets Keras
decide XLA; elsewhere `jit_compile="auto"` times both modes (`JitCompileChoice`)
when the model may use XLA at all (`supports_xla`).
"""

from __future__ import annotations

import platform
from typing import Any

import keras
import tensorflow as tf

from tfnf.private_apis import nested_layers, op_determinism_enabled

STEPS_PER_EXECUTION = 16  # default of `compile`: train steps per call of the compiled function


def is_distributed(model: keras.Model) -> bool:
    """Whether `model` runs under a distribution strategy (built in its scope, or called in one)."""
    return tf.distribute.has_strategy() or model.distribute_strategy is not tf.distribute.get_strategy()


def supports_xla(model: keras.Model) -> bool:
    """Keras' own rule for XLA (not on a Mac's GPU, not with op determinism, not when a layer
    of `model` refuses it), without its CPU-only rule."""
    if platform.system() == "Darwin" and "arm" in platform.processor().lower() and tf.config.list_physical_devices("GPU"):
        return False
    return all(layer.supports_jit for layer in nested_layers(model)) and not op_determinism_enabled()


def build_optimizer(model: keras.Model) -> None:
    """Create `model`'s optimizer slots now: no variables may be created inside the step's `tf.cond`."""
    if getattr(model, "optimizer", None) is not None and not model.optimizer.built:
        with model.distribute_strategy.scope():
            model.optimizer.build(model.trainable_variables)


def float16_networks(layers: list[keras.layers.Layer]) -> bool:
    """Whether any of the flow's networks computes in float16 (it then needs loss scaling)."""
    return any(layer.dtype_policy.compute_dtype == "float16" for layer in layers)


def compile_settings(
    optimizer: Any, jit_compile: bool | str, steps_per_execution: int | None, distributed: bool,
    float16: bool, run_eagerly: bool = False,
) -> tuple[keras.optimizers.Optimizer, bool, int, bool]:
    """`(optimizer, jit_compile for Keras, steps_per_execution, whether to time XLA)` for
    `FlowModel.compile`'s arguments (see there); `ValueError` naming a bad one.

    `optimizer` defaults to `Adam(1e-3)`, wrapped in a `LossScaleOptimizer`
    when the networks compute in `float16`."""
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
    choose = jit_compile == "auto" and not run_eagerly and not distributed
    optimizer = keras.optimizers.get(optimizer or keras.optimizers.Adam(1e-3))
    if float16 and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        if distributed:
            raise ValueError("mixed_float16 training under a distribution strategy is not supported; use mixed_bfloat16")
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)  # float16 gradients underflow without it
    return optimizer, False if choose else jit_compile, steps_per_execution, choose
