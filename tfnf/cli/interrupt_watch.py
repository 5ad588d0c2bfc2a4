"""`InterruptWatch`: Ctrl-C stops `tfnf train` even when Python swallows the interrupt.

Python raises `KeyboardInterrupt` wherever the main thread is when SIGINT
arrives; if that is inside a finaliser (TensorFlow deletes traced functions in
`__del__`), the exception is printed as "ignored" with a traceback and
training goes on. The watch records every SIGINT in a flag; outside a
finaliser it raises at once, inside one it raises nothing there and a callback
raises `KeyboardInterrupt` from ordinary code at the end of the next batch or
epoch, so an interrupted run always ends as interrupted, with no traceback.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import keras


def _in_finalizer(frame: Any) -> bool:
    """Whether the interrupted code runs inside a `__del__` (where a raised exception is only printed)."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


class InterruptWatch(keras.callbacks.Callback):
    """A callback, used as a context manager around `fit`, that turns any SIGINT into a stop."""

    def __init__(self) -> None:
        super().__init__()
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> "InterruptWatch":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_signal)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        if self.requested and exc_info[0] is None:
            raise KeyboardInterrupt  # training ended before any callback saw the lost interrupt

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.requested = True
        if not _in_finalizer(frame):
            raise KeyboardInterrupt
        # inside a `__del__` Python would print the exception and drop it: the next batch end raises it

    def _check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        """Raise the interrupt that a finaliser swallowed."""
        self._check()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        """Raise the interrupt that a finaliser swallowed."""
        self._check()
