"""The bundled digits: shapes, ranges, fixed disjoint splits."""

import numpy as np
import pytest
import tensorflow as tf

from tfnf.datasets import DIGITS_NUM_BINS, DIGITS_SPLIT_SIZES, digits, digits_split_indices


def test_splits_have_documented_sizes_shapes_and_range():
    total = 0
    for split, size in DIGITS_SPLIT_SIZES.items():
        images = digits(split, as_numpy=True)
        assert images.shape == (size, 8, 8, 1) and images.dtype == np.float32
        assert images.min() == 0 and images.max() == DIGITS_NUM_BINS - 1
        assert np.array_equal(images, np.round(images))
        total += size
    assert total == 1797 == len(digits("all", as_numpy=True))


def test_splits_are_deterministic_and_disjoint():
    indices = {s: digits_split_indices(s) for s in DIGITS_SPLIT_SIZES}
    assert all(np.array_equal(indices[s], digits_split_indices(s)) for s in indices)
    union = np.concatenate(list(indices.values()))
    assert len(np.unique(union)) == len(union) == 1797
    train = {row.tobytes() for row in digits("train", as_numpy=True)}
    test = digits("test", as_numpy=True)
    assert np.array_equal(test, digits("test", as_numpy=True))
    duplicated = sum(row.tobytes() in train for row in test)
    assert duplicated <= 2  # the raw data holds a handful of identical images; the rows themselves differ


def test_tf_data_pipeline_batches_and_shuffles():
    dataset = digits("train", batch_size=100, seed=1)
    first = next(iter(dataset))
    assert first.shape == (100, 8, 8, 1) and first.dtype == tf.float32
    assert sum(len(batch) for batch in dataset) == DIGITS_SPLIT_SIZES["train"]
    unshuffled = next(iter(digits("train", batch_size=100, shuffle=False)))
    assert not np.array_equal(first.numpy(), unshuffled.numpy())
    assert np.array_equal(next(iter(digits("test", batch_size=10))).numpy(), digits("test", as_numpy=True)[:10])


def test_unknown_split_is_named():
    with pytest.raises(ValueError, match="split"):
        digits("holdout")


def test_labels_come_with_their_images():
    from sklearn.datasets import load_digits

    images, labels = digits("validation", as_numpy=True, with_labels=True)
    assert labels.dtype == np.int32 and labels.shape == (DIGITS_SPLIT_SIZES["validation"],)
    assert np.array_equal(images, digits("validation", as_numpy=True))
    rows = digits_split_indices("validation")
    np.testing.assert_array_equal(labels, load_digits().target[rows])
    np.testing.assert_array_equal(images, load_digits().images[rows][..., None])
    x, y = next(iter(digits("validation", batch_size=16, with_labels=True)))
    assert x.shape == (16, 8, 8, 1) and y.dtype == tf.int32
    np.testing.assert_array_equal(y.numpy(), labels[:16])
