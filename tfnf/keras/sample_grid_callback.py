"""`SampleGridCallback`: writes a PNG grid of samples every N epochs."""

from __future__ import annotations

import os

import keras

from tfnf.keras.image_grid import image_grid, save_image_grids
from tfnf.rules.integers import check_integer
from tfnf.rules.temperature import check_temperature


class SampleGridCallback(keras.callbacks.Callback):
    """Every `every_n_epochs` epochs, sample `num_samples` images at `temperature`
    from the `FlowModel` being trained and write them as a grid.

    Args:
      filepath: PNG path, may contain `{epoch}` (1-based), e.g. `"samples_{epoch:03d}.png"`.
      every_n_epochs: period in epochs.
      num_samples: images per grid.
      temperature: temperature of the base noise (`tfnf.rules.temperature`: 1 for a base
        that is not Gaussian, checked when training begins).
      seed: fixed seed, so successive grids show the same latents evolving.
    """

    def __init__(
        self, filepath: str | os.PathLike, every_n_epochs: int = 1, num_samples: int = 64, temperature: float = 0.7,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        self.filepath = str(filepath)
        self.every_n_epochs = check_integer(every_n_epochs, "every_n_epochs", 1)
        self.num_samples = check_integer(num_samples, "num_samples", 1)
        self.temperature = check_temperature(temperature)
        self.seed = seed
        self.written = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        data_flow = self.model.data_flow
        check_temperature(self.temperature, "temperature", data_flow.gaussian_base, type(data_flow.base).__name__)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.every_n_epochs:
            return
        model = self.model
        if len(model.event_shape) != 3:
            raise ValueError(f"SampleGridCallback needs image events [H, W, C], the model has {model.event_shape}")
        quantized = model.num_bins is not None
        images = model.sample(self.num_samples, temperature=self.temperature, seed=self.seed, quantized=quantized)
        path = self.filepath.format(epoch=epoch + 1)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        grid = image_grid(images.numpy(), num_bins=model.num_bins)
        save_image_grids(path, [grid], [f"epoch {epoch + 1}, T={self.temperature:g}"])
        self.written.append(path)
