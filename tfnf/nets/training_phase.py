"""`TrainingPhase`: read Keras' training flag where a computation runs, and run later work under it.

Keras passes `training` from an outer layer call to every layer called inside
it (its call context), and networks such as the coupling conditioners turn
dropout on from that flag. Work done after the outer call has returned (a
gradient function run by `tape.gradient`) is outside that context, so a
network called there would see `training=None`. This weightless layer reads
the flag in effect where it is called (`current`) and later runs a Python
function inside a call of its own with a given flag (`run`), so every layer
called by that function sees the flag of the original computation.
"""

from __future__ import annotations

from typing import Any, Callable

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfnf")
class TrainingPhase(keras.layers.Layer):
    """A weightless layer: `x: [...] -> x`, recording or setting Keras' `training` flag.

    Args:
      name: the layer's name.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self._pending = None
        self._seen = None
        self.built = True

    def compute_output_shape(self, input_shape):
        """The input's shape: the layer passes its input through."""
        return input_shape

    def call(self, inputs, training=None):
        """`inputs` unchanged; records `training`, or runs the pending function under it."""
        self._seen = training
        if self._pending is not None:
            self._pending()
        return inputs

    def current(self, probe: tf.Tensor) -> bool | None:
        """The training flag in effect here (`True`, `False` or None: no Keras call sets it);
        `probe` is any tensor (Keras layers are called on tensors)."""
        self._seen = None
        self(probe)
        return self._seen

    def run(self, function: Callable[[], Any], training: bool | None, probe: tf.Tensor) -> Any:
        """`function()` called inside a call of this layer with `training`, so every Keras layer
        it calls sees that flag; returns what `function` returns."""
        results = []
        self._pending = lambda: results.append(function())
        try:
            self(probe, training=training)
        finally:
            self._pending = None
        return results[0]
