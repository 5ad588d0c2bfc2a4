"""`StepHistory`: the training loss of every step, so a loss curve reads even after one epoch."""

import keras


class StepHistory(keras.callbacks.Callback):
    """Records `(step, epoch, bits_per_dim)` after every training batch callback.

    `step` is the real number of optimizer steps taken since the first `fit`
    this callback was passed to, also with `steps_per_execution > 1`: Keras
    then calls `on_train_batch_end` once per execution, with `batch` the index
    (within the epoch) of the execution's last step, so a 3080-step run with
    16 steps per execution gives 193 points at steps 16, 32, ..., 3080, not
    points 1..193. The last execution of an epoch may hold fewer steps; when
    Keras knows the steps per epoch (`params["steps"]`) the count stops there.

    `bits_per_dim` is Keras' running mean over the epoch so far (what the
    progress line shows). `epoch_ends` holds the step at which each epoch ended.
    """

    def __init__(self, metric="bits_per_dim"):
        super().__init__()
        self.metric = metric
        self.steps = []
        self.epoch_ends = []
        self._epoch_start = 0  # steps taken before the current epoch
        self._last_step = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self._last_step

    def on_train_batch_end(self, batch, logs=None):
        within_epoch = int(batch) + 1
        per_epoch = (self.params or {}).get("steps")
        if per_epoch:
            within_epoch = min(within_epoch, int(per_epoch))
        self._last_step = self._epoch_start + within_epoch
        if logs and self.metric in logs:
            self.steps.append((self._last_step, float(logs[self.metric])))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_ends.append(self._last_step)
