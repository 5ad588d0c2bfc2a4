"""`JitCompileChoice`: XLA or not for a model's training, chosen by timing real training calls.

Whether XLA speeds up a flow's train step depends on the machine (an Intel CPU
with AMX and an AMD EPYC disagree on the same model), on the model and on the
batch, so no fixed rule is right. `FlowModel.compile(jit_compile="auto")`, the
default, builds the train function both ways and lets the first calls of `fit`
decide: every timed call is a real training call on the next batches, so the
measurement repeats no work. XLA goes first; while it compiles, the graph
without XLA is prepared on a second thread (`GraphWarmUp`), so the choice costs
little more than the difference in speed during the calls run in the slower mode,
and a mode that is clearly slower from its first timed call is not run again.

What keeps the timings fair whatever the pattern of `fit` calls (one long `fit`,
a first one-step `fit`, loops of short ones, validation each epoch):
* the plan survives across `fit` calls: a one-step `fit` runs XLA's compiling
  call and the following fits continue the timing where it stopped;
* only calls that apply as many steps as the longest call so far are timed: the
  short last call of an epoch (or of a `fit` of a few steps) carries Keras'
  per-call and end-of-epoch work over fewer steps and would favour the other mode;
  it runs in the mode being timed and the plan waits for a full call;
* no XLA call is timed while the warm-up still runs beside it on the second core;
* each mode's fastest call per step decides: a timed call that also compiled a
  new batch shape (a dataset's partial last batch under XLA) or met a burst of
  load on the machine does not decide against its mode.
"""

import math
import time
import warnings
from collections.abc import Callable

import tensorflow as tf

from tfnf.keras.graph_warm_up import GraphWarmUp, traced_on_this_thread
from tfnf.keras.input_checks import INPUT_CHECK_TAG

MIN_TIMED_CALLS = 2  # per mode, after the call that traces (and compiles)
MIN_TIMED_STEPS = 8  # per mode: with steps_per_execution=1 more calls are timed
MODES = (True, False)  # XLA first: the graph without XLA is prepared while XLA compiles
# The last mode loses after one timed call when that call's seconds per step are at least this
# many times the slowest timed call of the first mode (and wins when at most the fastest / this).
CLEAR_MARGIN = 1.25


class JitCompileChoice:
    """Times the train function without and with XLA on `fit`'s first calls and keeps the faster.

    XLA first, then without. Per mode: one untimed call (tracing, and XLA's compilation), then
    `max(2, ceil(8 / steps_per_execution))` timed calls; each time is divided
    by the optimizer steps the call applied. Calls of fewer steps than the
    longest so far run untimed and leave the plan where it is. The fastest
    seconds per step of each mode decide. Without XLA the first call is timed too when `GraphWarmUp` has
    prepared its graph, and the timing stops early once the two modes are
    clearly apart: after the first timed call without XLA, a time per step of
    at least `CLEAR_MARGIN` times XLA's slowest (or at most its fastest
    divided by `CLEAR_MARGIN`) decides at once. If XLA cannot compile the
    model, the choice is no XLA and a `RuntimeWarning` says why.

    Args:
      steps_per_execution: the model's optimizer steps per call of the train function.
      clock: `() -> seconds`, monotonic; `time.perf_counter` unless a test injects one.

    Attributes:
      jit_compile: the choice (None until made).
      longest_call: the most optimizer steps one call has applied so far.
      seconds_per_step: `{False: [...], True: [...]}`, the timed calls.
      xla_error: the first line of XLA's error, when it could not compile.
      graph_warm_up: the `GraphWarmUp` started with XLA's first call (None before).
    """

    def __init__(self, steps_per_execution=1, clock=time.perf_counter):
        self.clock = clock  # seconds, monotonic (tests inject one)
        self.longest_call = 0  # the most optimizer steps one call has applied so far
        self.timed_calls = max(MIN_TIMED_CALLS, math.ceil(MIN_TIMED_STEPS / max(1, int(steps_per_execution))))
        self.jit_compile = None
        self.seconds_per_step = {mode: [] for mode in MODES}
        self.xla_error = None
        self.graph_warm_up = None

    @property
    def decided(self):
        return self.jit_compile is not None

    def describe(self):
        """One line: the choice and the fastest seconds per step of each mode."""
        if not self.decided:
            return "jit_compile='auto': not chosen yet (the first calls of fit time both modes)"
        timings = ", ".join(
            f"{'XLA' if mode else 'no XLA'} {1e3 * min(times):.1f} ms/step"
            for mode, times in self.seconds_per_step.items()
            if times
        )
        reason = f"; XLA could not compile the model: {self.xla_error}" if self.xla_error else ""
        return f"jit_compile={self.jit_compile} ({timings}{reason})"

    def train_function(self, functions, applied_steps, choose, trace_step=None):
        """The train function `fit` calls while the choice is open.

        Args:
          functions: `{False: fn, True: fn}`, Keras train functions built without and with XLA.
          applied_steps: `() -> int`, the optimizer's step counter.
          choose: `(jit_compile) -> None`, called once with the choice; it must
            make the model use `functions[jit_compile]` from then on.
          trace_step: `(element_spec) -> None`, traces the train step both
            functions call; given, the graph without XLA is prepared on a
            second thread while XLA compiles (`GraphWarmUp`).
        """
        # (mode, timed) per call: the first call of each mode traces (and compiles), untimed
        pending = [(mode, call > 0) for mode in MODES for call in range(1 + self.timed_calls)]

        def call(mode, data):
            if mode and self.graph_warm_up is None and trace_step is not None:  # XLA's first call: it compiles
                self.graph_warm_up = GraphWarmUp(functions[False], data, trace_step)
            if not mode and self.graph_warm_up is not None:
                self.graph_warm_up.wait()
            return functions[mode](data)

        def function(data):
            if self.decided:  # XLA failed: the model calls `functions[False]` from now on
                return call(False, data)
            mode, timed = pending[0]
            promoted = False
            if self.graph_warm_up is not None and (timed or not mode):  # before the clock starts
                self.graph_warm_up.wait()
                promoted = not mode and not timed and self.graph_warm_up.prepared  # then a plain call
                timed = timed or promoted
            before = applied_steps()
            start = self.clock()
            try:
                logs = call(mode, data)
                for value in tf.nest.flatten(logs):  # wait for the results (asynchronous devices)
                    if hasattr(value, "numpy"):
                        value.numpy()
            except tf.errors.OpError as error:
                if not mode or INPUT_CHECK_TAG in str(error):
                    raise
                self._give_up_xla(error)
                choose(False)
                # the failed call applied no step; with an iterator its batches are gone, and
                # training continues with the following ones
                return call(False, data)
            seconds = self.clock() - start
            steps = applied_steps() - before
            full = steps >= self.longest_call
            self.longest_call = max(self.longest_call, steps)
            if timed and not full:  # a short call (the end of an epoch): the plan waits for a full one
                return logs
            pending.pop(0)
            if promoted:  # it replaces the last timed call
                pending.pop()
            if timed and steps > 0:
                self.seconds_per_step[mode].append(seconds / steps)
                if mode == MODES[-1] and self._clearly_apart():
                    pending.clear()
            if not pending:
                self._decide()
                choose(self.jit_compile)
            return logs

        return function

    def _clearly_apart(self):
        """Whether the first timed call of the last mode already decides (see `CLEAR_MARGIN`)."""
        first, last = self.seconds_per_step[MODES[0]], self.seconds_per_step[MODES[-1]]
        if not first or len(last) != 1:
            return False
        return last[0] >= CLEAR_MARGIN * max(first) or last[0] * CLEAR_MARGIN <= min(first)

    def _give_up_xla(self, error):
        self.xla_error = (str(error).strip().splitlines() or [type(error).__name__])[0]
        self.jit_compile = False
        warnings.warn(
            f"jit_compile='auto': XLA could not compile this model's train step, so it trains without XLA "
            f"({self.xla_error})",
            RuntimeWarning,
            stacklevel=2,
        )

    def _decide(self):
        """The mode of the fastest call per step; a mode whose timed calls applied no step (all
        skipped as non-finite) cannot win, and with no timing at all the choice is no XLA."""
        timed = {mode: min(times) for mode, times in self.seconds_per_step.items() if times}
        self.jit_compile = min(timed, key=timed.get) if timed else False



def choosing_train_function(model: object, choice: JitCompileChoice, build_train_function: Callable[[], object]) -> Callable:
    """The train function of `model` (a compiled `FlowModel`) while `choice` (its
    `JitCompileChoice`) is open: Keras' train function built without and with XLA
    by `build_train_function()` (`keras.Model.make_train_function(force=True)`),
    timed on `fit`'s first calls (`JitCompileChoice.train_function`).

    Both modes call one traced train step (tracing a flow's step costs about as
    much as XLA's compilation); with XLA that call is compiled with the rest of the step."""
    functions = {}
    step = tf.function(traced_on_this_thread(model.train_step), reduce_retracing=True, autograph=False)
    model.train_step = step  # as Keras calls it
    try:
        for mode in (False, True):
            model.jit_compile = mode
            build_train_function()
            functions[mode] = model.train_function
    finally:
        del model.train_step
        model.jit_compile = False

    def choose(jit_compile):
        model.jit_compile = jit_compile
        model.train_function = functions[jit_compile]
        if jit_compile:  # evaluation and prediction follow the choice
            model.test_function = model.predict_function = None

    return choice.train_function(
        functions, lambda: int(model.optimizer.iterations.numpy()), choose, trace_step=step.get_concrete_function
    )
