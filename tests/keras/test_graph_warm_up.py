"""GraphWarmUp: a train function's graph prepared on a second thread, with no step taken."""

import threading

import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tfnf.keras.graph_warm_up import GraphWarmUp, TracedOffThreadError, empty_iterator_like, traced_on_this_thread


def batches(images, batch_size=64):
    return iter(tf.data.Dataset.from_tensor_slices(images).batch(batch_size, drop_remainder=True))


def test_the_empty_iterator_has_the_same_spec_and_no_element(digit_images):
    iterator = batches(digit_images)
    empty = empty_iterator_like(iterator)
    assert empty.element_spec == iterator.element_spec
    assert not empty.get_next_as_optional().has_value()
    assert empty_iterator_like([digit_images]) is None  # not a tf.data iterator: no warm-up


def test_warm_up_prepares_a_keras_train_function_without_taking_a_step(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(), num_bins=17, seed=0)
    model.compile(jit_compile=False, steps_per_execution=2)
    model.initialize(digit_images[:64])
    model.make_train_function()
    model.optimizer.build(model.trainable_variables)
    before = [v.numpy().copy() for v in model.variables]
    iterator = batches(digit_images)
    warm_up = GraphWarmUp(model.train_function, iterator, lambda spec: None)
    assert warm_up.started
    warm_up.wait()
    assert warm_up.stopped is None
    assert model.optimizer.iterations.numpy() == 0
    for value, variable in zip(before, model.variables):  # weights, optimizer slots, metrics, seeds
        np.testing.assert_array_equal(value, variable.numpy())
    np.testing.assert_array_equal(next(iterator).numpy(), digit_images[:64])  # the real data are untouched
    model.train_function(batches(digit_images))  # and the prepared function trains
    assert model.optimizer.iterations.numpy() == 2


def test_a_step_traced_on_another_thread_stops_the_warm_up_without_error():
    traced_on = []

    def step(x):
        traced_on.append(threading.current_thread().name)
        return x + 1.0

    guarded = tf.function(traced_on_this_thread(step))

    @tf.function
    def train_function(iterator):  # traced on the warm-up's thread, so it traces the step there
        return guarded(iterator.get_next_as_optional().get_value())

    warm_up = GraphWarmUp(train_function, batches(np.zeros([4, 3], "float32"), 2), lambda spec: None)
    warm_up.wait()
    assert "traced off its thread" in warm_up.stopped and traced_on == []
    np.testing.assert_array_equal(guarded(tf.zeros([2, 3])).numpy(), np.ones([2, 3]))  # traced here instead
    assert traced_on == [threading.current_thread().name]
    outcome, guard_only = [], traced_on_this_thread(step)
    thread = threading.Thread(target=lambda: outcome.append(_error_of(guard_only, 1.0)))
    thread.start()
    thread.join()
    assert isinstance(outcome[0], TracedOffThreadError)  # the guard of a step wrapped on this thread


def _error_of(function, *args):
    try:
        function(*args)
    except Exception as error:  # the test inspects it
        return error
    return None


def test_the_warm_up_error_is_raised_by_wait_and_data_that_are_not_an_iterator_get_none():
    def failing(iterator):
        raise ValueError("broken train function")

    warm_up = GraphWarmUp(failing, batches(np.zeros([4, 3], "float32"), 2), lambda spec: None)
    with pytest.raises(ValueError, match="broken train function"):
        warm_up.wait()
    warm_up.wait()  # raised once

    calls = []
    warm_up = GraphWarmUp(calls.append, [np.zeros(3)], calls.append)
    warm_up.wait()
    assert not warm_up.started and calls == []


def test_one_step_per_execution_warms_up_and_loses_no_step(make_glow, digit_images):
    # Keras' one-step train function reads the empty iterator with `get_next`: OutOfRangeError,
    # which must end the warm-up as prepared, not end the caller's epoch
    model = tfnf.FlowModel(make_glow(), num_bins=17, seed=0)
    model.compile(steps_per_execution=1)
    model.fit(digit_images[:640], batch_size=64, epochs=1, verbose=0)
    warm_up = model.jit_compile_choice.graph_warm_up
    assert warm_up.started and warm_up.prepared and warm_up.error is None
    assert model.optimizer.iterations.numpy() == 10
