"""`SampleGridCallback`: writes a PNG grid of samples every N epochs."""

import os

import keras

from tfnf.keras.image_grid import image_grid, save_image_grids


class SampleGridCallback(keras.callbacks.Callback):
    """Every `every_n_epochs` epochs, sample `num_samples` images at `temperature`
    from the `FlowModel` being trained and write them as a grid.

    Args:
      filepath: PNG path, may contain `{epoch}` (1-based), e.g. `"samples_{epoch:03d}.png"`.
      every_n_epochs: period in epochs.
      num_samples: images per grid.
      temperature: temperature of the base noise.
      seed: fixed seed, so successive grids show the same latents evolving.
    """

    def __init__(self, filepath, every_n_epochs=1, num_samples=64, temperature=0.7, seed=0):
        super().__init__()
        if int(every_n_epochs) < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs!r}")
        self.filepath = str(filepath)
        self.every_n_epochs = int(every_n_epochs)
        self.num_samples = int(num_samples)
        self.temperature = float(temperature)
        self.seed = seed
        self.written = []

    def on_epoch_end(self, epoch, logs=None):
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
