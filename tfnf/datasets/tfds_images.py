"""`tfds_images`: `tf.data` pipelines of integer-pixel images from TensorFlow Datasets."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf

#: The TFDS datasets `tfds_images` reads.
TFDS_IMAGE_NAMES: tuple[str, ...] = ("mnist", "fashion_mnist", "cifar10", "svhn_cropped", "celeb_a")


class DatasetUnavailableError(RuntimeError):
    """A TFDS dataset is not prepared in `data_dir`, and was not (or could not be) downloaded.

    Attributes:
      name: the TFDS dataset name.
      data_dir: the TFDS data directory tried.
      download_error: None if no download was allowed, else the first line of why it failed.
    """

    def __init__(self, name: str, data_dir: str, download_error: str | None = None) -> None:
        self.name, self.data_dir, self.download_error = name, data_dir, download_error
        if download_error is None:
            message = (
                f"TFDS dataset {name!r} is not prepared in data_dir={data_dir!r} and download=False; "
                f"pass download=True (network access needed) or a data_dir holding a prepared copy"
            )
        else:
            message = f"TFDS dataset {name!r} could not be downloaded into data_dir={data_dir!r}: {download_error}"
        super().__init__(message)


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def num_bins_for(num_bits: int) -> int:
    """Grey levels of images with `num_bits` bits per pixel (`2 ** num_bits`)."""
    if not 1 <= int(num_bits) <= 8:
        raise ValueError(f"num_bits must be in 1..8, got {num_bits!r}")
    return 2 ** int(num_bits)


def _default_data_dir() -> str:
    return os.environ.get("TFDS_DATA_DIR", os.path.join(os.path.expanduser("~"), "tensorflow_datasets"))


def _prepare_image(image, image_size, num_bits, center_crop):
    import tensorflow as tf

    image = tf.cast(image, tf.float32)
    if center_crop:
        h, w = tf.shape(image)[0], tf.shape(image)[1]
        side = tf.minimum(h, w)
        image = tf.image.crop_to_bounding_box(image, (h - side) // 2, (w - side) // 2, side, side)
    if image_size:
        image = tf.image.resize(image, (image_size, image_size), method="area")
        image = tf.clip_by_value(tf.round(image), 0.0, 255.0)
    if num_bits < 8:
        image = tf.floor(image / 2 ** (8 - num_bits))
    return image


def tfds_images(
    name: str,
    split: str = "train",
    batch_size: int = 64,
    image_size: int | None = None,
    num_bits: int = 8,
    shuffle: bool = True,
    shuffle_buffer: int = 10000,
    cache: bool = True,
    random_flip: bool = False,
    seed: int = 0,
    data_dir: str | None = None,
    download: bool = False,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batches of images `[batch, H, W, C]`, float32 integer pixels in `[0, 2**num_bits)`.

    Supported: `mnist`, `fashion_mnist` (28x28x1), `cifar10`, `svhn_cropped`
    (32x32x3) and `celeb_a` (center-cropped square, resized to `image_size`,
    default 64). Labels are dropped. Nothing is downloaded unless
    `download=True`: a dataset that is not prepared in `data_dir` raises
    `DatasetUnavailableError` naming it and the directory tried, as does a
    download that fails (no network access).

    Args:
      name: TFDS dataset name (see `TFDS_IMAGE_NAMES`).
      split: TFDS split string, e.g. `"train"`, `"test"`, `"train[:90%]"`.
      batch_size: examples per batch.
      image_size: resize to `image_size x image_size` (None: native size).
      num_bits: bits per pixel; fewer than 8 reduces the depth as Glow's 5-bit runs.
      shuffle, shuffle_buffer, seed: shuffling of the examples.
      cache: cache decoded examples in memory.
      random_flip: random horizontal flips (augmentation for natural images).
      data_dir: TFDS data directory (default `$TFDS_DATA_DIR` or `~/tensorflow_datasets`).
      download: allow TFDS to download and prepare the dataset.
      drop_remainder: drop the last partial batch (fixed batch shapes).
    """
    if name not in TFDS_IMAGE_NAMES:
        raise ValueError(f"unknown image dataset {name!r}; expected one of {TFDS_IMAGE_NAMES}")
    num_bins_for(num_bits)
    import tensorflow as tf
    import tensorflow_datasets as tfds

    data_dir = data_dir or _default_data_dir()
    if name == "celeb_a" and image_size is None:
        image_size = 64
    builder = tfds.builder(name, data_dir=data_dir)
    if download and not builder.is_prepared():
        try:
            builder.download_and_prepare()
        except Exception as error:  # noqa: BLE001 - network, disk or a provider's server: the download failed
            raise DatasetUnavailableError(name, data_dir, _first_line(error)) from error
    try:
        dataset = builder.as_dataset(split=split, shuffle_files=shuffle, read_config=tfds.ReadConfig(shuffle_seed=seed))
    except AssertionError as error:
        raise DatasetUnavailableError(name, data_dir) from error
    center_crop = name == "celeb_a"
    dataset = dataset.map(
        lambda example: _prepare_image(example["image"], image_size, int(num_bits), center_crop),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if random_flip:
        dataset = dataset.map(lambda image: tf.image.random_flip_left_right(image, seed=seed))
    return dataset.batch(int(batch_size), drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
