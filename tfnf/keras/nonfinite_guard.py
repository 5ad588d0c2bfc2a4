"""`NonFiniteGuard`: counts skipped non-finite training steps and stops a run that keeps failing."""

import keras
import tensorflow as tf


class NonFiniteGuard:
    """Tracks consecutive training steps whose loss or gradient was not finite.

    The train step calls `record(finite)` (graph-safe); `callback()` is a Keras
    callback that stops `fit` once `limit` such steps happened in a row, and
    `raise_if_tripped()` then raises `FloatingPointError`. Skipped steps are not
    applied, so the weights stay those of the last good step.
    """

    def __init__(self, limit):
        if int(limit) < 1:
            raise ValueError(f"max_consecutive_skips must be >= 1, got {limit!r}")
        self.limit = int(limit)
        # Every replica records the same (all-reduced) outcome; keep the first replica's update.
        self.consecutive = tf.Variable(
            0, trainable=False, dtype=tf.int32, name="consecutive_nonfinite_steps",
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
        )
        self.tripped_at = None

    def record(self, finite):
        self.consecutive.assign(tf.where(finite, 0, self.consecutive + 1))

    def reset(self):
        self.consecutive.assign(0)
        self.tripped_at = None

    def callback(self):
        guard = self

        class StopOnRepeatedNonFinite(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if int(guard.consecutive.numpy()) >= guard.limit:
                    guard.tripped_at = batch
                    self.model.stop_training = True

        return StopOnRepeatedNonFinite()

    def raise_if_tripped(self):
        if self.tripped_at is not None:
            raise FloatingPointError(
                f"training stopped: {self.limit} consecutive steps had a non-finite loss or gradient "
                "(NaN/Inf in the data, or a diverging learning rate); they were skipped, so the weights "
                "are those of the last good step"
            )
