"""Private TensorFlow, TFP and Keras names read where no public one answers, each with the reason.

- TFP's `tfb.Chain(...)` returns an instance of the private class `_Chain`
  when a part is not a `CompositeTensor` (every tfnf bijector holding Keras
  weights), and such an instance is not an instance of `tfb.Chain`. The public
  `tfb.Composition` is also the base of `Blockwise` and `JointMap`, which run
  their parts side by side, so it cannot tell a chain either. `is_chain`
  accepts both classes.
- TensorFlow has a public setter, `tf.config.experimental.enable_op_determinism`,
  but no public getter; Keras' own XLA rule reads the private one, and
  `FlowModel`'s `jit_compile="auto"` follows that rule.
- Keras 3 lists a layer's nested layers only through the private
  `Layer._flatten_layers` (`Model.layers` lists direct children only), and
  that same rule asks every nested layer whether it `supports_jit`.
- TFP computes a bijector's output and log-det in one pass only through its
  internal `cache_util.BijectorCacheWithGreedyAttrs` (what its own
  one-pass bijectors use); `one_pass_bijector_cache` builds it for
  `FlowBijector`, so the log-det of a transform is never recomputed.
- TensorFlow pauses every active gradient tape only through its internal
  `record.stop_recording` (`GradientTape.stop_recording` pauses one tape the
  caller holds). `tf.custom_gradient` does not pause them around its function,
  so an eager tape would keep every intermediate tensor of it;
  `MemorySavingChain` runs its data -> latent pass inside `stop_tape_recording`
  so that only its output is kept.
"""

from __future__ import annotations

from typing import Any

import tensorflow_probability as tfp
from tensorflow.python.eager import record as _record
from tensorflow.python.framework.config import is_op_determinism_enabled as _is_op_determinism_enabled
from tensorflow_probability.python.bijectors.chain import _Chain
from tensorflow_probability.python.internal import cache_util as _cache_util


def is_chain(bijector: Any) -> bool:
    """Whether `bijector` is what `tfb.Chain(parts)` builds: `forward` applies `bijector.bijectors`
    last to first (composite-tensor parts or not)."""
    return isinstance(bijector, (tfp.bijectors.Chain, _Chain))


def nested_layers(layer: Any) -> list[Any]:
    """`layer` and every Keras layer nested in it, each once."""
    return list(layer._flatten_layers(include_self=True, recursive=True))


def op_determinism_enabled() -> bool:
    """Whether `tf.config.experimental.enable_op_determinism()` is in effect."""
    return bool(_is_op_determinism_enabled())


def one_pass_bijector_cache() -> Any:
    """TFP's bijector cache keyed on `_augmented_forward` / `_augmented_inverse`, which return
    the output with its log-det, so `forward_log_det_jacobian` after `forward` reuses it."""
    return _cache_util.BijectorCacheWithGreedyAttrs(forward_name="_augmented_forward", inverse_name="_augmented_inverse")


def stop_tape_recording() -> Any:
    """A context in which no active gradient tape records operations (variables read are still
    reported to `tf.custom_gradient`)."""
    return _record.stop_recording()
