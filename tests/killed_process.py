"""Start a Python child, wait until it reaches a point (a file appears), then SIGKILL it."""

import contextlib
import os
import signal
import subprocess
import sys
import time


@contextlib.contextmanager
def child_process(args):
    """`python *args` with quiet TensorFlow; yields the `Popen`, killed on the way out if still running."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND="tensorflow")
    process = subprocess.Popen(
        [sys.executable, *map(str, args)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_for_file(process, path, timeout=180):
    """Block until `path` exists; fail with the child's stderr if it exits first, or after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not os.path.exists(path):
        reason = process.stderr.read()[-3000:] if process.poll() is not None else f"still missing after {timeout} s"
        raise AssertionError(f"{path} never appeared: {reason}")


def sigkill(process):
    """SIGKILL `process` and check that the signal is what ended it."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
