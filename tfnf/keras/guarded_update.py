"""`GuardedUpdate`: an optimizer step that clips the gradient and skips non-finite steps.

As Keras' `LossScaleOptimizer` wraps an optimizer's update, this wraps the
update of a maximum-likelihood train step (and, under `mixed_float16`, the
`LossScaleOptimizer` itself: the norm is then unscaled, and the optimizer
sees every step so that it can lower its scale after an overflow): one global gradient norm serves
both the finiteness test (a NaN/Inf anywhere makes it non-finite) and the
clipping, a non-finite step is never applied, and consecutive skipped steps
are counted so that `fit` can stop a run that keeps failing.
"""

import keras
import tensorflow as tf

from tfnf.keras.adopted_variables import check_every_read_variable_is_held
from tfnf.rules.integers import check_integer
from tfnf.rules.numbers import check_positive


class AppliedStepsMean(keras.metrics.Mean):
    """`keras.metrics.Mean` of a quantity over the applied (finite) steps, updated with weight 0
    for skipped ones; NaN, not 0, while no step was applied (an epoch of skipped steps
    must not look perfect to `ModelCheckpoint` or `EarlyStopping`)."""

    def result(self):
        return tf.where(self.count > 0, super().result(), tf.constant(float("nan"), self.dtype))


class GuardedUpdate:
    """Applies `optimizer`'s update of `loss`'s gradient only when loss and gradient are finite.

    Args:
      clip_norm: global-norm clipping of the gradient (None: off).
      max_consecutive_skips: after this many skipped steps in a row, the
        callback of `stop_callback()` stops `fit` and `raise_if_tripped()`
        raises `FloatingPointError`.
    """

    def __init__(self, clip_norm, max_consecutive_skips):
        clip_norm = None if clip_norm is None else check_positive(clip_norm, "clip_norm (None: no clipping)")
        max_consecutive_skips = check_integer(max_consecutive_skips, "max_consecutive_skips", 1)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.limit = int(max_consecutive_skips)
        # Every replica records the same (all-reduced) outcome; keep the first replica's update.
        self.consecutive_skips = tf.Variable(
            0, trainable=False, dtype=tf.int32, name="consecutive_nonfinite_steps",
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
        )
        # Set in the step once `max_consecutive_skips` is reached; from then on no step is applied,
        # also within one call of several steps (`steps_per_execution`), until `reset()`.
        self.tripped = tf.Variable(
            0, trainable=False, dtype=tf.int32, name="nonfinite_stop",
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
        )
        self.tripped_at = None

    def apply(self, optimizer, loss, gradients, variables):
        """Graph-side: all-reduce over replicas, then clip and apply if finite.

        Returns `(loss, finite)`: the global-batch loss and whether the step was applied.
        """
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replicas > 1:
            # Every replica continues with the global-batch loss and gradient, so all of them
            # take the same decision below and clip exactly as a single device would.
            context = tf.distribute.get_replica_context()
            loss, *gradients = context.all_reduce(tf.distribute.ReduceOp.MEAN, [loss, *gradients])
        # one reduction per gradient, summed: no copy of every gradient into one vector
        squares = [tf.reduce_sum(tf.square(tf.cast(g, loss.dtype))) for g in gradients if g is not None]
        norm = tf.sqrt(tf.add_n(squares) if squares else tf.zeros([], loss.dtype))
        loss_scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        if loss_scaled:  # the gradients are of loss * dynamic_scale: clip by the true norm
            norm = norm / tf.cast(optimizer.dynamic_scale, norm.dtype)
        finite = tf.logical_and(tf.math.is_finite(loss), tf.math.is_finite(norm))
        live = tf.equal(self.tripped, 0)
        scale = tf.ones([], norm.dtype)
        if self.clip_norm is not None:  # as tf.clip_by_global_norm: g * clip / max(norm, clip)
            scale = self.clip_norm / tf.maximum(norm, self.clip_norm)
        if replicas > 1:
            scale = scale / replicas  # the optimizer sums the gradients over the replicas
        if loss_scaled:
            # the LossScaleOptimizer skips a non-finite step itself and must see it to lower its scale
            def apply_scaled():
                optimizer.apply_gradients(zip([None if g is None else g * tf.cast(scale, g.dtype) for g in gradients], variables))
                return tf.constant(True)

            tf.cond(live, apply_scaled, lambda: tf.constant(False))
        else:
            self._apply_if(tf.logical_and(finite, live), optimizer, gradients, variables, scale)
        consecutive = tf.where(finite, 0, self.consecutive_skips + 1)
        self.consecutive_skips.assign(tf.where(live, consecutive, self.consecutive_skips))
        self.tripped.assign(tf.where(self.consecutive_skips >= self.limit, 1, self.tripped))
        return loss, tf.logical_and(finite, live)

    @staticmethod
    def _apply_if(finite, optimizer, gradients, variables, scale):
        """Apply `gradients * scale` only where `finite` is true (the same on every replica).

        The scaling happens inside the applied branch, where XLA fuses it into the
        optimizer's update of each variable."""

        def apply(gradients, scale):
            scaled = [None if g is None else g * tf.cast(scale, g.dtype) for g in gradients]
            optimizer.apply_gradients(zip(scaled, variables))
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

    def reset(self):
        self.consecutive_skips.assign(0)
        self.tripped.assign(0)
        self.tripped_at = None

    def stop_callback(self):
        """A Keras callback that stops `fit` after `max_consecutive_skips` skipped steps in a row."""
        guard = self

        class StopOnRepeatedNonFinite(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if int(guard.tripped.numpy()):
                    guard.tripped_at = batch
                    self.model.stop_training = True

        return StopOnRepeatedNonFinite()

    def raise_if_tripped(self):
        if self.tripped_at is not None:
            raise FloatingPointError(
                f"training stopped: {self.limit} consecutive steps had a non-finite loss or gradient "
                "(NaN/Inf in the data, or a diverging learning rate); they were skipped, so the weights "
                "are those after the last applied step, which may themselves be unusable if training "
                "diverged (save and export then refuse them): restore a checkpoint and lower the learning rate"
            )


def guarded_step(model, data, loss_of):
    """One guarded optimizer step of `model` (a compiled `FlowModel`) on a batch `data`
    (`x: [batch, *event]`, or `(x, condition)`) for the scalar loss `loss_of(x, condition)`.

    Checks the batch, differentiates the loss (scaled under `mixed_float16`),
    refuses variables the model does not hold, applies the update through
    `model.guarded_update` and counts a skipped step in `model.skipped_tracker`.
    Returns `(loss, finite)`: the unscaled loss and whether the step was applied.
    """
    x, condition = model.input_checks.step_data(data)
    with tf.GradientTape() as tape:
        loss = loss_of(x, condition)
        scaled_loss = model.optimizer.scale_loss(loss)  # mixed_float16: times the dynamic loss scale
    variables = model.trainable_variables
    if not tf.distribute.has_strategy():  # replicas read per-device copies, tracked by the strategy
        check_every_read_variable_is_held(tape, model.variables)
    loss, finite = model.guarded_update.apply(model.optimizer, loss, tape.gradient(scaled_loss, variables), variables)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    model.skipped_tracker.update_state((1.0 - tf.cast(finite, loss.dtype)) / replicas)  # summed over the replicas
    return loss, finite


def step_logs(logs):
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
