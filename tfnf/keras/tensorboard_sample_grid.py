"""`TensorBoardSampleGrid`: sample grids of a training `FlowModel`, written to TensorBoard as images."""

from __future__ import annotations

import os
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfnf.keras.image_grid import image_grid
from tfnf.rules.integers import check_integer
from tfnf.rules.temperature import check_temperature


class TensorBoardSampleGrid(keras.callbacks.Callback):
    """Every `every_n_epochs` epochs, sample `num_samples` images at each temperature
    and write them as one grid image per temperature to a TensorBoard log.

    The images are `tf.summary.image` summaries named `"<name>/T=<temperature>"`
    at step `epoch` (1-based), in an event file of `log_dir`; TensorBoard shows
    them under Images (`tensorboard --logdir <log_dir>`). It works next to
    `keras.callbacks.TensorBoard` (give this one its own folder, e.g.
    `<logs>/samples`, beside Keras' `<logs>/train` and `<logs>/validation`).

    Args:
      log_dir: folder of the event file (created if needed).
      every_n_epochs: period in epochs.
      num_samples: images per grid.
      temperatures: temperatures of the base noise, one grid each; a base that
        is not Gaussian takes 1 only (anything else is an error when training begins).
      seed: fixed seed, so successive grids show the same latents evolving.
      name: summary name prefix.
    """

    def __init__(
        self, log_dir: str | os.PathLike, every_n_epochs: int = 1, num_samples: int = 36,
        temperatures: Sequence[float] = (0.7, 1.0), seed: int | None = 0, name: str = "samples",
    ) -> None:
        super().__init__()
        for argument, count in (("every_n_epochs", every_n_epochs), ("num_samples", num_samples)):
            if check_integer(count, argument) < 1:  # a float or a string is a TypeError there
                raise ValueError(f"{argument} must be an integer >= 1, got {count!r}")
        temperatures = tuple(check_temperature(t, "temperatures") for t in np.atleast_1d(temperatures))
        if not temperatures:
            raise ValueError("temperatures must hold at least one temperature, got none")
        self.log_dir = str(log_dir)
        self.every_n_epochs = int(every_n_epochs)
        self.num_samples = int(num_samples)
        self.temperatures = temperatures
        self.seed = seed
        self.name = str(name)
        self._writer = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        model = self.model
        if len(model.event_shape) != 3 or model.event_shape[-1] not in (1, 3):
            raise ValueError(
                f"TensorBoardSampleGrid needs image events [H, W, 1 or 3], the model has {tuple(model.event_shape)}"
            )
        base = type(model.data_flow.base).__name__
        for temperature in self.temperatures:
            check_temperature(temperature, "temperatures", model.data_flow.gaussian_base, base)
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.every_n_epochs:
            return
        model = self.model
        quantized = model.num_bins is not None
        with self._writer.as_default():
            for temperature in self.temperatures:
                images = model.sample(self.num_samples, temperature=temperature, seed=self.seed, quantized=quantized)
                grid = image_grid(np.asarray(images), num_bins=model.num_bins).astype(np.float32)
                tf.summary.image(f"{self.name}/T={temperature:g}", grid[None], step=epoch + 1)
        self._writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
