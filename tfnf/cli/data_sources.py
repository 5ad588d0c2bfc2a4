"""The datasets the command line trains and evaluates on, by name."""

import dataclasses

import numpy as np

from tfnf import datasets
from tfnf.cli.errors import CommandLineError
from tfnf.cli.parser import DATASETS, SPLITS
from tfnf.rules.dequantization import dequantize

TOY_TRAIN, TOY_VALIDATION, TOY_TEST = 20000, 2000, 5000


@dataclasses.dataclass
class DataSource:
    """Train/validation/test data for one dataset name.

    Splits are NumPy arrays `[N, *event_shape]` (in-memory datasets) or
    `tf.data.Dataset`s of batches (TFDS); `num_bins` is None for continuous data.
    """

    name: str
    kind: str  # "image", "toy2d" or "vectors" (patch-vectors)
    event_shape: tuple
    num_bins: object
    train: object
    validation: object
    test: object


def split_names():
    return SPLITS


def known_datasets():
    """Every dataset name the command line accepts."""
    return DATASETS


def unavailable_message(error):
    """What to do about a TFDS dataset that is not on this machine, in the command line's terms."""
    if error.download_error is not None:
        return (
            f"TFDS dataset {error.name!r} could not be downloaded into {error.data_dir} ({error.download_error}); "
            "check the network connection, or use --data-dir with a prepared copy"
        )
    return (
        f"TFDS dataset {error.name!r} is not in {error.data_dir}; rerun with --download to fetch it "
        "(needs network access), or use --data-dir with a prepared copy"
    )


def load_source(name, batch_size=64, seed=0, data_dir=None, num_bits=8, image_size=None, download=False):
    """Load dataset `name` as a `DataSource`; raise `CommandLineError` if unknown/unavailable.

    TFDS datasets are read from `data_dir`; only with `download=True` may TFDS
    fetch and prepare a missing one.
    """
    if name == "digits":
        splits = [datasets.digits(split, as_numpy=True) for split in split_names()]
        return DataSource("digits", "image", splits[0].shape[1:], datasets.DIGITS_NUM_BINS, *splits)
    if name == "patches":
        splits = [datasets.natural_patches(split, form="images", as_numpy=True) for split in split_names()]
        return DataSource("patches", "image", splits[0].shape[1:], datasets.NATURAL_PATCH_NUM_BINS["images"], *splits)
    if name == "patch-vectors":
        splits = [datasets.natural_patches(split, form="vectors", as_numpy=True) for split in split_names()]
        return DataSource("patch-vectors", "vectors", splits[0].shape[1:], None, *splits)
    if name in datasets.TOY2D_NAMES:
        sizes = (TOY_TRAIN, TOY_VALIDATION, TOY_TEST)
        splits = [datasets.toy2d(name, n, seed=seed + 1000 * i) for i, n in enumerate(sizes)]
        return DataSource(name, "toy2d", (2,), None, *splits)
    if name in datasets.TFDS_IMAGE_NAMES:
        loaded = {}
        try:
            for split, tfds_split in zip(split_names(), ("train[:95%]", "train[95%:]", "test")):
                loaded[split] = datasets.tfds_images(
                    name,
                    split=tfds_split,
                    batch_size=batch_size,
                    image_size=image_size,
                    num_bits=num_bits,
                    shuffle=split == "train",
                    seed=seed,
                    data_dir=data_dir,
                    download=download and split == "train",  # one download prepares every split
                )
        except datasets.DatasetUnavailableError as error:
            raise CommandLineError(unavailable_message(error)) from None
        spec = loaded["train"].element_spec
        event_shape = tuple(int(d) for d in spec.shape[1:])
        return DataSource(name, "image", event_shape, 2**num_bits, loaded["train"], loaded["validation"], loaded["test"])
    raise CommandLineError(f"unknown dataset {name!r}; choose one of: {', '.join(known_datasets())}")


def dequantized_batches(x, num_bins, seed, batch_size=256):
    """Yield `x` (array or dataset of batches) plus uniform noise from a seeded RNG (discrete data)."""
    rng = np.random.default_rng(seed)
    if isinstance(x, np.ndarray):
        batches = (x[i : i + batch_size] for i in range(0, len(x), batch_size))
    else:
        batches = (np.asarray(b[0] if isinstance(b, (tuple, list)) else b) for b in x)
    for batch in batches:
        batch = batch.astype(np.float32)
        if num_bins:
            batch = dequantize(batch, rng.uniform(size=batch.shape).astype(np.float32))
        yield batch
