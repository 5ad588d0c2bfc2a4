"""Datasets handed to `fit` are read without tf.data's autotuning unless they ask for it."""

import numpy as np
import tensorflow as tf

from tfnf.keras.array_batches import fit_arguments_as_batches, untuned_unless_asked


def batches():
    return tf.data.Dataset.from_tensor_slices(np.arange(12, dtype="float32").reshape(6, 2)).batch(4)


def test_a_dataset_with_default_options_is_read_untuned_with_the_same_values():
    dataset = batches()
    read = untuned_unless_asked(dataset)
    assert read.options().autotune.enabled is False
    assert dataset.options().autotune.enabled is None  # the caller's dataset is not changed
    for a, b in zip(dataset, read):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_dataset_that_asks_for_autotuning_keeps_it():
    options = tf.data.Options()
    options.autotune.enabled = True
    dataset = batches().with_options(options)
    assert untuned_unless_asked(dataset) is dataset


def test_other_inputs_pass_through():
    arrays = np.zeros((4, 2), "float32")
    assert untuned_unless_asked(arrays) is arrays
    generator = (b for b in [arrays])
    assert untuned_unless_asked(generator) is generator


def test_fit_arguments_untune_the_training_and_validation_datasets():
    x, y, kwargs = fit_arguments_as_batches(batches(), None, {"validation_data": batches(), "epochs": 2}, False)
    assert x.options().autotune.enabled is False and y is None
    assert kwargs["validation_data"].options().autotune.enabled is False and kwargs["epochs"] == 2
    # under a distribution strategy too
    x, _, kwargs = fit_arguments_as_batches(batches(), None, {}, True)
    assert x.options().autotune.enabled is False
