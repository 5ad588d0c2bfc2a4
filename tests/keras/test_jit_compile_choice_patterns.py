"""`jit_compile="auto"`'s decision in each pattern of `fit` calls, on an injected clock (no real timing)."""

import pytest
import tensorflow as tf

from tfnf.keras import jit_compile_choice
from tfnf.keras.jit_compile_choice import JitCompileChoice


class FakeClock:
    """A clock that moves only when a fake train function runs."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class ModeFunction:
    """A fake train function of one mode: `per_step` seconds per optimizer step plus `per_call`
    seconds per call; the first call also takes `compile_seconds`, and `extra[i]` is added to
    call number `i` (a recompilation, a burst of load)."""

    def __init__(self, clock, counter, per_step, per_call=0.0, compile_seconds=0.0, extra=None):
        self.clock, self.counter, self.per_step, self.per_call = clock, counter, per_step, per_call
        self.compile_seconds, self.extra, self.calls = compile_seconds, dict(extra or {}), []

    def __call__(self, steps):
        seconds = self.per_call + steps * self.per_step + self.extra.get(len(self.calls), 0.0)
        if not self.calls:
            seconds += self.compile_seconds
        self.calls.append(steps)
        self.clock.now += seconds
        self.counter[0] += steps
        return {"loss": tf.constant(1.0)}


class Trainer:
    """What `fit` does with the train function: calls of `steps_per_execution` steps (the last
    of a `fit` or epoch shorter), the chosen mode's function once the choice is made."""

    def __init__(self, xla, no_xla, steps_per_execution=16, per_call=0.0, xla_extra=None, no_xla_extra=None):
        self.clock, self.counter, self.chosen = FakeClock(), [0], []
        self.steps_per_execution = steps_per_execution
        self.functions = {
            True: ModeFunction(self.clock, self.counter, xla, per_call, compile_seconds=20.0, extra=xla_extra),
            False: ModeFunction(self.clock, self.counter, no_xla, per_call, compile_seconds=8.0, extra=no_xla_extra),
        }
        self.choice = JitCompileChoice(steps_per_execution, clock=self.clock)
        self.function = self.choice.train_function(self.functions, lambda: self.counter[0], self.chosen.append)

    def fit(self, steps, epochs=1):
        for _ in range(epochs):
            left = steps
            while left:
                call = min(left, self.steps_per_execution)
                (self.functions[self.chosen[-1]] if self.chosen else self.function)(call)
                left -= call
        return self


@pytest.mark.parametrize("xla_faster", [True, False])
def test_a_first_one_step_fit_then_short_fits(xla_faster):
    # per step: XLA 10 ms, no XLA 11 ms (or the reverse); 50-step fits are calls of 16, 16, 16, 2
    trainer = Trainer(0.010 if xla_faster else 0.011, 0.011 if xla_faster else 0.010, per_call=0.05)
    trainer.fit(1)  # XLA's compiling call, nothing decided
    assert trainer.chosen == [] and trainer.functions[True].calls == [1]
    for _ in range(4):
        trainer.fit(50)
    assert trainer.chosen == [xla_faster]
    # only full calls were timed: two per mode, each of 16 steps
    assert [len(trainer.choice.seconds_per_step[mode]) for mode in (True, False)] == [2, 2]
    for mode in (True, False):
        per_step = trainer.functions[mode].per_step
        for seconds in trainer.choice.seconds_per_step[mode]:
            assert seconds == pytest.approx((0.05 + 16 * per_step) / 16, rel=1e-9, abs=1e-12)


def test_the_short_last_call_of_a_fit_does_not_decide():
    # no XLA is faster per step, but Keras' per-call work spread over the 2 steps of a fit's last
    # call would make it look slower if that call counted
    trainer = Trainer(xla=0.010, no_xla=0.009, per_call=0.1)
    trainer.fit(1)
    for _ in range(4):
        trainer.fit(50)
    assert trainer.chosen == [False]
    assert min(trainer.choice.seconds_per_step[False]) == pytest.approx((0.1 + 16 * 0.009) / 16, rel=1e-9, abs=1e-12)


def test_a_recompilation_inside_a_timed_call_does_not_decide():
    # XLA's second call compiles a new batch shape (a dataset's partial batch): 5 s more
    trainer = Trainer(xla=0.010, no_xla=0.012, xla_extra={1: 5.0})
    trainer.fit(50, epochs=4)
    assert trainer.chosen == [True]


def test_a_burst_of_load_during_one_call_does_not_decide():
    # XLA's second timed call meets 0.3 s of other work on the machine
    trainer = Trainer(xla=0.010, no_xla=0.012, xla_extra={2: 0.3})
    trainer.fit(50, epochs=4)
    assert trainer.chosen == [True]


@pytest.mark.parametrize("xla_faster", [True, False])
def test_one_long_fit_decides_within_its_first_calls(xla_faster):
    trainer = Trainer(0.010 if xla_faster else 0.02, 0.02 if xla_faster else 0.010)
    trainer.fit(500)
    assert trainer.chosen == [xla_faster]
    # XLA: compile + 2 timed; no XLA: compile + one timed call that is clearly apart
    assert len(trainer.functions[True].calls) + len(trainer.functions[False].calls) == 500 // 16 + 1
    assert trainer.functions[not xla_faster].calls[:3] in ([16, 16, 16], [16, 16])


def test_epochs_shorter_than_a_call_are_timed():
    # 8 steps per epoch with 16 steps per execution: every call is short of 16, all alike
    trainer = Trainer(xla=0.010, no_xla=0.011, steps_per_execution=16)
    trainer.fit(8, epochs=8)
    assert trainer.chosen == [True]
    assert [len(trainer.choice.seconds_per_step[mode]) for mode in (True, False)] == [2, 2]


def test_epochs_with_a_short_last_call_and_validation_between():
    # 20 steps per epoch (16 + 4): validation runs between epochs and never calls the train
    # function; only the 16-step calls are timed
    trainer = Trainer(xla=0.011, no_xla=0.010, per_call=0.05)
    trainer.fit(20, epochs=6)
    assert trainer.chosen == [False]
    assert all(t == pytest.approx((0.05 + 16 * s) / 16, rel=1e-9, abs=1e-12)
               for mode, s in ((True, 0.011), (False, 0.010)) for t in trainer.choice.seconds_per_step[mode])


def test_one_step_per_execution_times_eight_calls_per_mode():
    trainer = Trainer(xla=0.010, no_xla=0.0105, steps_per_execution=1)
    trainer.fit(50)
    assert trainer.chosen == [True]
    assert [len(trainer.choice.seconds_per_step[mode]) for mode in (True, False)] == [8, 8]


def test_repeated_one_step_fits_still_decide():
    trainer = Trainer(xla=0.010, no_xla=0.02)
    for _ in range(10):
        trainer.fit(1)
    assert trainer.chosen == [True]


def test_no_xla_call_is_timed_while_the_warm_up_runs(monkeypatch):
    events = []

    class FakeWarmUp:
        def __init__(self, train_function, data, trace_step):
            self.prepared, self.done = True, False
            events.append("warm-up started")

        def wait(self):
            if not self.done:
                events.append("warm-up waited for")
            self.done = True

    monkeypatch.setattr(jit_compile_choice, "GraphWarmUp", FakeWarmUp)
    clock, counter, chosen = FakeClock(), [0], []
    choice = JitCompileChoice(16, clock=clock)
    functions = {
        True: ModeFunction(clock, counter, 0.010, compile_seconds=20.0),
        False: ModeFunction(clock, counter, 0.015),  # its graph prepared by the warm-up
    }

    def record(mode):
        def function(steps):
            events.append(f"{'XLA' if mode else 'no XLA'} call")
            return functions[mode](steps)
        return function

    function = choice.train_function({mode: record(mode) for mode in functions}, lambda: counter[0], chosen.append,
                                     trace_step=lambda spec: None)
    for _ in range(4):
        function(16)
    assert events[:4] == ["warm-up started", "XLA call", "warm-up waited for", "XLA call"]
    assert chosen == [True]
    # the prepared graph makes the first call without XLA a timed one, which decides (50% slower)
    assert functions[False].calls == [16]


class TickingClock:
    """A clock that moves one second per reading: every timed call then measures 1 s, so its
    seconds per step say how many steps it applied."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1.0
        return self.now


def test_fit_keeps_the_plan_across_a_one_step_fit_and_short_fits(make_glow, digit_images):
    import tfnf

    model = tfnf.FlowModel(make_glow(), num_bins=17, seed=0)
    model.compile(steps_per_execution=4)
    choice = model.jit_compile_choice
    choice.clock = TickingClock()
    model.fit(digit_images[:64], batch_size=64, verbose=0)  # one step: XLA's compiling call
    assert not choice.decided and choice.longest_call == 1
    fits = 0
    while not choice.decided and fits < 6:
        # 10 steps per fit: calls of 4, 4 and 2 steps
        model.fit(digit_images[:640], batch_size=64, verbose=0, validation_data=(digit_images[640:704],))
        fits += 1
    assert choice.decided and fits <= 4
    # every timed call applied 4 steps (1 s / 4): neither the one-step fit nor a 2-step call was timed
    assert [set(choice.seconds_per_step[mode]) for mode in (True, False)] == [{0.25}, {0.25}]
    assert choice.jit_compile is True and model.jit_compile is True  # a tie keeps XLA (timed first)
    assert model.optimizer.iterations.numpy() == 1 + 10 * fits  # no step lost or repeated by the timing
