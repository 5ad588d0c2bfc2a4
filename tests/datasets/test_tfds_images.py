"""TFDS image pipelines, over mock data (nothing is downloaded)."""

import time

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfnf.datasets import DatasetUnavailableError, num_bins_for, tfds_images


@pytest.mark.parametrize("name, shape", [("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_batches_have_the_right_shape_and_range(name, shape, tmp_path):
    with tfds.testing.mock_data(num_examples=24):
        batch = next(iter(tfds_images(name, batch_size=8, data_dir=str(tmp_path)))).numpy()
    assert batch.shape == (8, *shape) and batch.dtype == np.float32
    assert batch.min() >= 0 and batch.max() < 256 and np.array_equal(batch, np.floor(batch))
    assert batch.max() > 100  # mock pixels span the 8-bit range


def test_reduced_bit_depth_and_resize(tmp_path):
    with tfds.testing.mock_data(num_examples=16):
        batch = next(iter(tfds_images("cifar10", batch_size=16, num_bits=5, image_size=16, random_flip=True, data_dir=str(tmp_path))))
    batch = batch.numpy()
    assert batch.shape == (16, 16, 16, 3)
    assert batch.min() >= 0 and batch.max() < num_bins_for(5) == 32 and batch.max() > 16


def test_unprepared_dataset_fails_fast_and_names_it(tmp_path):
    start = time.perf_counter()
    with pytest.raises(DatasetUnavailableError, match=f"'mnist'.*{tmp_path}"):
        tfds_images("mnist", data_dir=str(tmp_path))
    assert time.perf_counter() - start < 30


def test_unknown_name_and_bits_are_named():
    with pytest.raises(ValueError, match="unknown image dataset"):
        tfds_images("imagenet")
    with pytest.raises(ValueError, match="num_bits"):
        tfds_images("mnist", num_bits=9)


def test_the_download_path_imports():
    """TFDS resolves `importlib_resources` lazily when it prepares a dataset; it must be installed."""
    from tensorflow_datasets.core import dataset_builder

    assert callable(dataset_builder.importlib_resources.files)
    assert dataset_builder.importlib_resources.abc.Traversable


def test_download_is_asked_only_with_download_true(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", lambda self, *a, **k: calls.append(self.name))
    with pytest.raises(DatasetUnavailableError):
        tfds_images("mnist", data_dir=str(tmp_path))
    assert calls == []
    with pytest.raises(DatasetUnavailableError):  # the stand-in prepared nothing
        tfds_images("mnist", data_dir=str(tmp_path), download=True)
    assert calls == ["mnist"]


def test_a_failed_download_is_named(tmp_path, monkeypatch):
    def offline(self, *args, **kwargs):
        raise ConnectionError("Failed to resolve 'storage.googleapis.com'\nmore detail")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", offline)
    with pytest.raises(DatasetUnavailableError, match="could not be downloaded") as caught:
        tfds_images("mnist", data_dir=str(tmp_path), download=True)
    assert caught.value.download_error == "Failed to resolve 'storage.googleapis.com'"
    assert caught.value.name == "mnist" and caught.value.data_dir == str(tmp_path)
