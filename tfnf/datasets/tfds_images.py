"""`tfds_images`: `tf.data` pipelines of integer-pixel images from TensorFlow Datasets."""

import os

import tensorflow as tf

TFDS_IMAGE_NAMES = ("mnist", "fashion_mnist", "cifar10", "svhn_cropped", "celeb_a")


class DatasetUnavailableError(RuntimeError):
    """A TFDS dataset is neither prepared in `data_dir` nor allowed to download."""


def num_bins_for(num_bits):
    """Grey levels of images with `num_bits` bits per pixel (`2 ** num_bits`)."""
    if not 1 <= int(num_bits) <= 8:
        raise ValueError(f"num_bits must be in 1..8, got {num_bits!r}")
    return 2 ** int(num_bits)


def _default_data_dir():
    return os.environ.get("TFDS_DATA_DIR", os.path.join(os.path.expanduser("~"), "tensorflow_datasets"))


def _prepare_image(image, image_size, num_bits, center_crop):
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
    name,
    split="train",
    batch_size=64,
    image_size=None,
    num_bits=8,
    shuffle=True,
    shuffle_buffer=10000,
    cache=True,
    random_flip=False,
    seed=0,
    data_dir=None,
    download=False,
    drop_remainder=False,
):
    """Batches of images `[batch, H, W, C]`, float32 integer pixels in `[0, 2**num_bits)`.

    Supported: `mnist`, `fashion_mnist` (28x28x1), `cifar10`, `svhn_cropped`
    (32x32x3) and `celeb_a` (center-cropped square, resized to `image_size`,
    default 64). Labels are dropped. Nothing is downloaded unless
    `download=True`: a dataset that is not prepared in `data_dir` raises
    `DatasetUnavailableError` naming it and the directory tried.

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
    import tensorflow_datasets as tfds

    data_dir = data_dir or _default_data_dir()
    if name == "celeb_a" and image_size is None:
        image_size = 64
    builder = tfds.builder(name, data_dir=data_dir)
    if download:
        builder.download_and_prepare()
    try:
        dataset = builder.as_dataset(split=split, shuffle_files=shuffle, read_config=tfds.ReadConfig(shuffle_seed=seed))
    except AssertionError as error:
        raise DatasetUnavailableError(
            f"TFDS dataset {name!r} is not prepared in data_dir={data_dir!r} and download=False. "
            f"With network access pass download=True (or run `tfds build {name} --data_dir {data_dir}`)."
        ) from error
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
