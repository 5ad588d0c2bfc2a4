"""`TimeBudgetCallback`: stop training once a wall-clock budget is spent."""

from __future__ import annotations

import time

import keras


class TimeBudgetCallback(keras.callbacks.Callback):
    """Stops `fit` at the end of the first epoch that ends after `seconds` of training.

    Counting starts at `on_train_begin`, so graph tracing and compilation are
    part of the budget. `elapsed` holds the training time when `fit` returns.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__()
        if not seconds > 0:
            raise ValueError(f"seconds must be > 0, got {seconds!r}")
        self.seconds = float(seconds)
        self.elapsed = 0.0
        self.stopped_epoch = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.elapsed = time.perf_counter() - self._start
        if self.elapsed >= self.seconds:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        self.elapsed = time.perf_counter() - self._start
