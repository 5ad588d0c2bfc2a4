"""Quiet TensorFlow for the command line: its logging is shown only with `--verbose`.

TensorFlow's C++ logging reads `TF_CPP_MIN_LOG_LEVEL` once, when the library
loads, so the level is set before anything imports TensorFlow. A few lines are
written by C++ code before that logging starts (`All log messages before
absl::InitializeLog() ...`, `Could not find cuda drivers ...`); they go
straight to file descriptor 2, so the import runs with that descriptor sent to
a temporary file, which is shown if the import fails.
"""

import contextlib
import logging
import os
import sys
import tempfile


def configure(verbose):
    """Set TensorFlow's C++ level and the Python `tensorflow` and `absl` loggers.

    Quiet (`verbose=False`): only Python exceptions reach the user (C++ level 3,
    loggers at ERROR). Verbose: everything TensorFlow logs (C++ level 0, INFO).
    """
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0" if verbose else "3"
    level = logging.INFO if verbose else logging.ERROR
    logging.getLogger("tensorflow").setLevel(level)  # the logger tf.get_logger() returns
    logging.getLogger("absl").setLevel(level)
    absl_logging = sys.modules.get("absl.logging")
    if absl_logging is not None:
        absl_logging.set_verbosity(absl_logging.INFO if verbose else absl_logging.ERROR)


@contextlib.contextmanager
def native_stderr_captured(enabled=True):
    """Send file descriptor 2 to a temporary file inside the block; replay it if the block raises."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            os.write(2, sink.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
