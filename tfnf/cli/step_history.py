"""`StepHistory`: the training loss of every step, so a loss curve reads even after one epoch."""

import keras


class StepHistory(keras.callbacks.Callback):
    """Records `(step, epoch, bits_per_dim)` after every training batch.

    `bits_per_dim` is Keras' running mean over the epoch so far (what the
    progress line shows); `step` counts batches from the start of this `fit`.
    `epoch_ends` holds the step at which each epoch ended.
    """

    def __init__(self, metric="bits_per_dim"):
        super().__init__()
        self.metric = metric
        self.steps = []
        self.epoch_ends = []

    def on_train_batch_end(self, batch, logs=None):
        if logs and self.metric in logs:
            self.steps.append((len(self.steps) + 1, float(logs[self.metric])))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_ends.append(len(self.steps))
