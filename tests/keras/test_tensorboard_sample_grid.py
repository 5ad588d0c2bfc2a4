"""`TensorBoardSampleGrid` writes one image summary per temperature and epoch, showing real samples."""

import glob

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tfnf.keras import TensorBoardSampleGrid


def read_images(log_dir):
    """`{(tag, step): decoded image [H, W, C] uint8}` from every event file under `log_dir`."""
    images = {}
    for path in glob.glob(str(log_dir / "**" / "events.out.tfevents.*"), recursive=True):
        for record in tf.data.TFRecordDataset(path):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images":
                    encoded = tf.make_ndarray(value.tensor)[2]  # [width, height, png, ...]
                    images[(value.tag, event.step)] = tf.io.decode_png(encoded).numpy()
    return images


@pytest.fixture
def digits_model(make_glow):
    model = tfnf.FlowModel(make_glow(num_levels=1), num_bins=17)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_writes_a_grid_per_temperature_and_epoch(digits_model, digit_images, tmp_path):
    callback = TensorBoardSampleGrid(tmp_path / "samples", num_samples=9, temperatures=(0.5, 1.0), seed=3)
    digits_model.fit(digit_images[:128], batch_size=64, epochs=2, verbose=0, callbacks=[callback])
    images = read_images(tmp_path)
    assert set(images) == {(f"samples/T={t}", step) for t in ("0.5", "1") for step in (1, 2)}
    grid = images[("samples/T=1", 2)]
    assert grid.shape == (3 * 9 + 1, 3 * 9 + 1, 1)  # 3x3 tiles of 8x8 with 1-pixel padding
    tiles = grid[1:, 1:, 0].reshape(3, 9, 3, 9)[:, :8, :, :8]
    assert tiles.std() > 10 and len(np.unique(tiles)) > 5  # samples, not a blank or constant picture
    cooler = read_images(tmp_path)[("samples/T=0.5", 2)][1:, 1:, 0].reshape(3, 9, 3, 9)[:, :8, :, :8]
    assert not np.array_equal(cooler, tiles)


def test_every_n_epochs(digits_model, digit_images, tmp_path):
    callback = TensorBoardSampleGrid(tmp_path, every_n_epochs=2, num_samples=4, temperatures=1.0)
    digits_model.fit(digit_images[:64], batch_size=64, epochs=3, verbose=0, callbacks=[callback])
    assert set(read_images(tmp_path)) == {("samples/T=1", 2)}


def test_needs_image_events(make_realnvp, moons, tmp_path):
    model = tfnf.FlowModel(make_realnvp())
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    with pytest.raises(ValueError, match="needs image events"):
        model.fit(moons[:64], batch_size=64, epochs=1, verbose=0, callbacks=[TensorBoardSampleGrid(tmp_path)])


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(every_n_epochs=0), "every_n_epochs must be an integer >= 1, got 0"),
        (dict(num_samples=0), "num_samples must be an integer >= 1, got 0"),
        (dict(temperatures=(0.7, -1.0)), "temperatures must be finite and >= 0"),
    ],
)
def test_bad_arguments_are_named(kwargs, words, tmp_path):
    with pytest.raises(ValueError, match=words):
        TensorBoardSampleGrid(tmp_path, **kwargs)
