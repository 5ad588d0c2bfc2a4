"""`steps_per_execution` (default 16) with callbacks and metrics, and `fit`'s in-memory batches."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tfnf.keras.array_batches import array_batches


class BatchHooks(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.ends, self.epoch_logs = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(batch)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_logs.append(dict(logs))


def trained(make_glow, images, steps_per_execution, epochs=2, **fit_kwargs):
    keras.utils.set_random_seed(7)
    model = tfnf.FlowModel(make_glow(), num_bins=17, seed=3)
    model.compile(jit_compile=False, steps_per_execution=steps_per_execution)
    hooks = BatchHooks()
    history = model.fit(images, batch_size=32, epochs=epochs, callbacks=[hooks], verbose=0, **fit_kwargs)
    return model, hooks, history


def test_default_is_sixteen_steps_per_call(make_glow):
    model = tfnf.FlowModel(make_glow(), num_bins=17)
    model.compile()
    assert model.steps_per_execution == 16


def test_metrics_and_weights_do_not_depend_on_steps_per_execution(make_glow, digit_images):
    images = digit_images[:320]  # 10 batches of 32 per epoch
    one, hooks_one, history_one = trained(make_glow, images, 1, validation_data=(digit_images[320:384],))
    many, hooks_many, history_many = trained(make_glow, images, 4, validation_data=(digit_images[320:384],))
    for key in ("loss", "bits_per_dim", "val_loss", "val_bits_per_dim", "skipped_steps"):
        np.testing.assert_allclose(history_many.history[key], history_one.history[key], rtol=2e-4, atol=2e-4, err_msg=key)
    for a, b in zip(one.trainable_variables, many.trainable_variables):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=2e-3, atol=2e-5)
    assert one.optimizer.iterations.numpy() == many.optimizer.iterations.numpy() == 20
    # batch hooks run once per call: 10 steps in calls of 4 are 3 calls per epoch
    assert hooks_one.ends == list(range(10)) * 2
    assert len(hooks_many.ends) == 3 * 2 and hooks_many.ends[:2] == [3, 7]
    assert [set(logs) >= {"loss", "bits_per_dim", "val_bits_per_dim"} for logs in hooks_many.epoch_logs] == [True, True]


def test_early_stopping_and_checkpoints_work_per_epoch(make_glow, digit_images, tmp_path):
    keras.utils.set_random_seed(7)
    model = tfnf.FlowModel(make_glow(), num_bins=17, seed=3)
    model.compile(jit_compile=False)  # 16 steps per call
    path = tmp_path / "best.weights.h5"
    callbacks = [
        keras.callbacks.ModelCheckpoint(str(path), monitor="val_bits_per_dim", mode="min", save_best_only=True, save_weights_only=True),
        keras.callbacks.EarlyStopping("val_bits_per_dim", mode="min", patience=0, min_delta=10.0),
    ]
    history = model.fit(digit_images[:256], batch_size=32, epochs=5, validation_data=(digit_images[256:320],), callbacks=callbacks, verbose=0)
    assert len(history.history["loss"]) == 2  # the first epoch, then one without a 10-bit improvement
    assert path.exists()


def test_in_memory_batches_are_the_batches_keras_would_read(make_glow, digit_images):
    images = digit_images[:200]  # 6 batches of 32 and one of 8
    fast, _, fast_history = trained(make_glow, images, 1, epochs=1, shuffle=False)
    # steps_per_epoch keeps Keras' own pipeline; same order, same batches
    keras_path, _, keras_history = trained(make_glow, images, 1, epochs=1, shuffle=False, steps_per_epoch=7)
    assert fast.optimizer.iterations.numpy() == keras_path.optimizer.iterations.numpy() == 7
    np.testing.assert_allclose(fast_history.history["loss"], keras_history.history["loss"], rtol=1e-5, atol=1e-5)


def test_shuffled_array_batches_are_full_and_cover_every_example_each_epoch():
    x = np.arange(10, dtype=np.float32)[:, None]
    y = np.arange(10, dtype=np.int32)
    batches = array_batches(x, y, batch_size=4)
    epochs = [[(bx.numpy()[:, 0], by.numpy()) for bx, by in batches] for _ in range(3)]
    orders = []
    for epoch in epochs:
        assert [len(bx) for bx, _ in epoch] == [4, 4, 4]  # never the smaller batch of 2
        assert all(np.array_equal(bx, by) for bx, by in epoch)  # pairs stay together
        seen = np.concatenate([bx for bx, _ in epoch])
        assert sorted(seen[:10]) == list(range(10))  # one whole pass, then two more examples
        orders.append(seen)
    assert not all(np.array_equal(orders[0], o) for o in orders[1:])  # reshuffled every epoch


def test_unshuffled_array_batches_are_one_pass_in_order():
    x = np.arange(10, dtype=np.float32)[:, None]
    unshuffled = [bx.numpy()[:, 0] for bx in array_batches(x, batch_size=3, shuffle=False)]
    assert [len(b) for b in unshuffled] == [3, 3, 3, 1]
    assert np.array_equal(np.concatenate(unshuffled), np.arange(10))
    with pytest.raises(ValueError, match="batch_size"):
        array_batches(x, batch_size=0)


def test_fewer_examples_than_a_batch_make_batches_of_all_of_them():
    epoch = [b.numpy()[:, 0] for b in array_batches(np.arange(5, dtype=np.float32)[:, None], batch_size=8)]
    assert len(epoch) == 1 and sorted(epoch[0]) == list(range(5))


def test_fit_on_shuffled_arrays_traces_one_batch_shape(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(), num_bins=17, seed=3)
    model.compile(jit_compile=False, steps_per_execution=1)
    shapes = []
    train_step = model.train_step

    def recording_step(data):
        shapes.append(tuple(data.shape))
        return train_step(data)

    model.train_step = recording_step
    history = model.fit(digit_images[:100], batch_size=32, epochs=2, verbose=0)  # 3 batches of 32 and 4 left
    assert model.optimizer.iterations.numpy() == 2 * 4  # ceil(100 / 32) steps per epoch
    assert set(shapes) == {(32, 8, 8, 1)}
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize("weights", ["sample_weight", "class_weight"])
def test_fit_refuses_example_weights(make_glow, digit_images, weights):
    model = tfnf.FlowModel(make_glow(), num_bins=17)
    model.compile(jit_compile=False)
    value = np.ones(64, np.float32) if weights == "sample_weight" else {0: 1.0}
    with pytest.raises(ValueError, match="sample_weight or class_weight"):
        model.fit(digit_images[:64], epochs=1, verbose=0, **{weights: value})


def test_a_dataset_with_weights_is_refused(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(), num_bins=17)
    model.compile(jit_compile=False)
    x = digit_images[:64]
    dataset = tf.data.Dataset.from_tensor_slices((x, np.zeros(64, np.int32), np.ones(64, np.float32))).batch(32)
    with pytest.raises(ValueError, match="sample_weight or class_weight"):
        model.fit(dataset, epochs=1, verbose=0)

@pytest.mark.parametrize("shuffle", [True, False])
def test_array_batches_run_without_tf_data_autotuning(shuffle):
    # the autotuner's thread delays the end of every fit; the pipeline has nothing to tune
    batches = array_batches(np.zeros([10, 2], np.float32), batch_size=4, shuffle=shuffle)
    assert batches.options().autotune.enabled is False
    assert sum(len(b) for b in batches) == (12 if shuffle else 10)
