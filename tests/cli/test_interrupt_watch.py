"""A Ctrl-C that Python swallows (raised inside a finaliser) still stops `tfnf train`."""

import os
import signal

import pytest

from tfnf.cli.interrupt_watch import InterruptWatch


@pytest.fixture(autouse=True)
def python_sigint_handler():
    """Python's own SIGINT handler during each test, whatever the runner inherited (a shell
    starting pytest in the background makes it ignore SIGINT); the inherited one afterwards."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, inherited)


def swallowed_sigint():
    """Send SIGINT to this process where Python would only print it (as in a `__del__`)."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        signal.sigtimedwait([], 0.05) if hasattr(signal, "sigtimedwait") else None
    except KeyboardInterrupt:
        pass  # what Python does to an exception raised in a finaliser


def test_a_swallowed_interrupt_is_raised_at_the_next_batch_end():
    with pytest.raises(KeyboardInterrupt):
        with InterruptWatch() as watch:
            swallowed_sigint()
            assert watch.requested
            watch.on_train_batch_end(0)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_swallowed_interrupt_after_the_last_batch_is_raised_when_training_returns():
    with pytest.raises(KeyboardInterrupt):
        with InterruptWatch():
            swallowed_sigint()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_without_an_interrupt_nothing_is_raised_and_the_handler_is_restored():
    with InterruptWatch() as watch:
        watch.on_train_batch_end(0)
        watch.on_epoch_end(0)
    assert not watch.requested
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class Finalized:
    """An object whose finaliser is interrupted, as TensorFlow's traced functions are when deleted."""

    def __init__(self, watch):
        self.watch = watch

    def __del__(self):
        import sys

        self.watch._on_signal(signal.SIGINT, sys._getframe())  # what the handler sees there


def test_an_interrupt_inside_a_finaliser_prints_nothing_and_stops_at_the_next_batch(monkeypatch):
    dropped = []
    monkeypatch.setattr("sys.unraisablehook", dropped.append)  # where Python reports an exception of a `__del__`
    with pytest.raises(KeyboardInterrupt):
        with InterruptWatch() as watch:
            finalized = Finalized(watch)
            del finalized  # no exception escapes `__del__`, so Python prints nothing
            assert watch.requested
            watch.on_train_batch_end(0)
    assert dropped == []
