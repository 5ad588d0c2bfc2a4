"""`jit_compile="auto"`: XLA or not chosen by timing real training calls."""

import threading
import time
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tfnf.keras.jit_compile_choice import JitCompileChoice


class FakeTrainFunction:
    """A train function that takes `seconds` per call and applies `steps` optimizer steps."""

    def __init__(self, counter, seconds, steps=4, error=None):
        self.counter, self.seconds, self.steps, self.error, self.calls = counter, seconds, steps, error, 0

    def __call__(self, data):
        self.calls += 1
        if self.error is not None:
            raise self.error
        time.sleep(self.seconds)
        self.counter[0] += self.steps
        return {"loss": tf.constant(1.0)}


def run_choice(slow, fast, steps_per_execution=4, calls=12):
    counter, chosen = [0], []
    choice = JitCompileChoice(steps_per_execution)
    functions = {False: FakeTrainFunction(counter, slow), True: FakeTrainFunction(counter, fast)}
    function = choice.train_function(functions, lambda: counter[0], chosen.append)
    for _ in range(calls):
        (functions[chosen[-1]] if chosen else function)(None)
    return choice, functions, chosen


@pytest.mark.parametrize("xla_faster", [True, False])
def test_a_clearly_faster_mode_is_chosen_after_one_timed_call_of_the_other(xla_faster):
    slow, fast = (0.03, 0.001) if xla_faster else (0.001, 0.03)
    choice, functions, chosen = run_choice(slow, fast)
    assert chosen == [xla_faster] and choice.jit_compile is xla_faster
    # XLA: one untimed call, two timed (4 steps per call -> 8 steps); without XLA: one untimed, one
    # timed, 30x apart from XLA's, which decides
    assert [len(choice.seconds_per_step[mode]) for mode in (False, True)] == [1, 2]
    assert functions[False].calls + functions[True].calls == 12
    assert functions[not xla_faster].calls == (2 if xla_faster else 3)  # every later call runs the chosen mode
    assert min(choice.seconds_per_step[True]) * 4 >= fast * 0.9
    assert ("XLA" in choice.describe()) and f"jit_compile={xla_faster}" in choice.describe()


def test_modes_within_the_margin_are_both_timed_in_full():
    choice, functions, chosen = run_choice(0.020, 0.021)  # no XLA 5% faster: not clearly apart
    assert [len(choice.seconds_per_step[mode]) for mode in (False, True)] == [2, 2]
    assert functions[False].calls == 3 + (12 - 6) * (chosen == [False]) and len(chosen) == 1
    assert choice._clearly_apart() is False


def test_a_prepared_graph_makes_the_first_call_without_xla_a_timed_one():
    counter, chosen = [0], []

    class IteratorTrainFunction(FakeTrainFunction):
        def __call__(self, data):
            next(data)  # the warm-up's empty iterator ends here, as Keras' train functions do
            return super().__call__(data)

    functions = {False: IteratorTrainFunction(counter, 0.02), True: IteratorTrainFunction(counter, 0.001)}
    choice = JitCompileChoice(4)
    traced = []
    function = choice.train_function(functions, lambda: counter[0], chosen.append, trace_step=traced.append)
    data = iter(tf.data.Dataset.range(100))
    for _ in range(6):
        (functions[chosen[-1]] if chosen else function)(data)
    warm_up = choice.graph_warm_up
    assert warm_up.started and warm_up.prepared and traced == [data.element_spec]
    assert functions[False].calls == 1  # after the warm-up (no step), one timed call that decides
    assert len(choice.seconds_per_step[False]) == 1 and chosen == [True]


def test_a_prepared_graph_times_no_more_calls_than_an_unprepared_one():
    counter, chosen = [0], []

    class IteratorTrainFunction(FakeTrainFunction):
        def __call__(self, data):
            next(data)
            return super().__call__(data)

    functions = {False: IteratorTrainFunction(counter, 0.010), True: IteratorTrainFunction(counter, 0.0105)}
    choice = JitCompileChoice(4)
    function = choice.train_function(functions, lambda: counter[0], chosen.append, trace_step=lambda spec: None)
    data = iter(tf.data.Dataset.range(100))
    for _ in range(12):
        (functions[chosen[-1]] if chosen else function)(data)
    assert choice.graph_warm_up.prepared and len(chosen) == 1
    assert [len(choice.seconds_per_step[mode]) for mode in (False, True)] == [2, 2]
    assert functions[True].calls == 3 + (12 - 5) * chosen[0]  # without XLA: two calls, both timed


def test_single_step_executions_time_at_least_eight_steps():
    choice = JitCompileChoice(steps_per_execution=1)
    assert choice.timed_calls == 8
    assert JitCompileChoice(steps_per_execution=64).timed_calls == 2


def test_xla_that_cannot_compile_falls_back_with_a_warning():
    counter, chosen = [0], []
    choice = JitCompileChoice(4)
    error = tf.errors.InvalidArgumentError(None, None, "Detected unsupported operations when trying to compile graph")
    functions = {False: FakeTrainFunction(counter, 0.0), True: FakeTrainFunction(counter, 0.0, error=error)}
    function = choice.train_function(functions, lambda: counter[0], chosen.append)
    with pytest.warns(RuntimeWarning, match="unsupported operations"):
        for _ in range(4):
            function(None)
    assert chosen == [False] and choice.jit_compile is False
    assert "could not compile" in choice.describe()
    assert functions[False].calls == 4  # the failed call was retried without XLA


def test_input_errors_under_xla_are_raised_not_taken_for_xla_failures():
    from tfnf.keras.input_checks import INPUT_CHECK_TAG

    counter, chosen = [0], []
    choice = JitCompileChoice(4)
    error = tf.errors.InvalidArgumentError(None, None, INPUT_CHECK_TAG + "x must be finite")
    functions = {False: FakeTrainFunction(counter, 0.0), True: FakeTrainFunction(counter, 0.0, error=error)}
    function = choice.train_function(functions, lambda: counter[0], chosen.append)
    with pytest.raises(tf.errors.InvalidArgumentError):
        for _ in range(4):
            function(None)
    assert chosen == [] and choice.jit_compile is None


def test_fit_chooses_and_every_function_follows(make_glow, digit_images):
    model = tfnf.FlowModel(make_glow(), num_bins=17, seed=0)
    model.compile(steps_per_execution=2)
    assert model.jit_compile is False and not model.jit_compile_choice.decided
    # 8 steps per epoch in calls of 2: per mode one call that compiles (unless prepared), then
    # up to 4 timed calls (8 steps)
    model.fit(digit_images[:512], batch_size=64, epochs=3, validation_data=(digit_images[512:640],), verbose=0)
    choice = model.jit_compile_choice
    assert choice.decided and model.jit_compile is choice.jit_compile
    assert len(choice.seconds_per_step[True]) == 4  # XLA first: all its timed calls
    assert 1 <= len(choice.seconds_per_step[False]) <= 4  # fewer when the modes are clearly apart
    assert model.optimizer.iterations.numpy() == 3 * 8  # no step repeated or lost by the timing
    assert model.get_compile_config()["jit_compile"] == "auto"  # what a saved model records
    before = [v.numpy().copy() for v in model.trainable_variables]
    model.fit(digit_images[:128], batch_size=64, epochs=1, verbose=0)  # later fits keep the choice
    assert model.jit_compile is choice.jit_compile and model.optimizer.iterations.numpy() == 26
    assert any(not np.array_equal(a, v.numpy()) for a, v in zip(before, model.trainable_variables))


def test_the_step_is_traced_once_on_the_callers_thread_and_the_graph_without_xla_warmed_up(
    make_glow, digit_images, monkeypatch
):
    traced_on = []
    train_step = tfnf.FlowModel.train_step

    def counting_train_step(self, data):
        traced_on.append(threading.current_thread().name)
        return train_step(self, data)

    monkeypatch.setattr(tfnf.FlowModel, "train_step", counting_train_step)
    model = tfnf.FlowModel(make_glow(), num_bins=17, seed=0)
    model.compile(steps_per_execution=2)
    model.fit(digit_images[:512], batch_size=64, epochs=3, verbose=0)
    warm_up = model.jit_compile_choice.graph_warm_up
    assert model.jit_compile_choice.decided and warm_up.started
    assert warm_up.stopped is None and warm_up.error is None  # it prepared the graph, tracing nothing
    # both modes call the one trace (the dropout masks are the same hash with XLA and without)
    assert traced_on == [threading.current_thread().name]


def test_a_choice_without_xla_trains_on_with_the_shared_step(make_glow, digit_images):
    # the step both modes share draws the same dropout masks with XLA and without, so the
    # train function built before the choice is the one that goes on training
    model = tfnf.FlowModel(make_glow(dropout=0.3), num_bins=17, seed=0)
    model.compile(steps_per_execution=2)
    # a clock whose calls get shorter: the mode timed last (no XLA) is the faster
    model.jit_compile_choice.clock = iter(np.cumsum(1.0 / np.arange(1, 10_000))).__next__
    shared = []
    original = model.jit_compile_choice.train_function

    def recording(functions, *args, **kwargs):
        shared.append(functions[False])
        return original(functions, *args, **kwargs)

    model.jit_compile_choice.train_function = recording
    model.fit(digit_images[:512], batch_size=64, epochs=3, verbose=0)
    assert model.jit_compile_choice.jit_compile is False
    assert model.train_function is shared[0]
    before = model.optimizer.iterations.numpy()
    model.fit(digit_images[:128], batch_size=64, epochs=1, verbose=0)
    assert model.optimizer.iterations.numpy() == before + 2
    assert model.train_function is shared[0]


def test_xla_is_timed_first():
    counter, order = [0], []
    functions = {mode: FakeTrainFunction(counter, 0.0) for mode in (False, True)}
    choice = JitCompileChoice(4)
    function = choice.train_function(
        {mode: (lambda data, mode=mode: order.append(mode) or functions[mode](data)) for mode in functions},
        lambda: counter[0],
        lambda mode: None,
    )
    for _ in range(6):
        function(None)
    assert order == [True] * 3 + [False] * 3


@pytest.mark.parametrize("jit_compile", [True, False])
def test_an_explicit_choice_is_kept(make_glow, digit_images, jit_compile):
    model = tfnf.FlowModel(make_glow(), num_bins=17, seed=0)
    model.compile(jit_compile=jit_compile)
    assert model.jit_compile_choice is None and model.jit_compile is jit_compile
    model.fit(digit_images[:128], batch_size=64, epochs=1, verbose=0)
    assert model.jit_compile is jit_compile


@pytest.mark.parametrize("bad", [dict(jit_compile="yes"), dict(steps_per_execution=0), dict(steps_per_execution=2.5)])
def test_bad_compile_arguments_are_named(make_glow, bad):
    model = tfnf.FlowModel(make_glow(), num_bins=17)
    with pytest.raises(ValueError, match=next(iter(bad))):
        model.compile(**bad)
