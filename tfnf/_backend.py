"""Checks that Keras runs on the TensorFlow backend before anything else loads.

tfnf's bijectors are TensorFlow Probability objects and its model is a Keras 3
model on the TensorFlow backend; any other backend cannot work, so importing
tfnf with one selected fails here with a message that says how to fix it.
"""

import os

_REQUIRED_BACKEND = "tensorflow"


def ensure_tensorflow_backend_requested():
    """Raise ImportError if `KERAS_BACKEND` names another backend (a check that imports nothing)."""
    requested = os.environ.get("KERAS_BACKEND")
    if requested is not None and requested != _REQUIRED_BACKEND:
        raise ImportError(
            f"tfnf needs the Keras 'tensorflow' backend, but KERAS_BACKEND={requested!r}. "
            "Unset KERAS_BACKEND or set KERAS_BACKEND=tensorflow before importing tfnf."
        )


def ensure_tensorflow_backend():
    """Raise ImportError unless Keras uses (or will use) the TensorFlow backend (imports Keras)."""
    ensure_tensorflow_backend_requested()
    import keras

    active = keras.backend.backend()
    if active != _REQUIRED_BACKEND:
        raise ImportError(
            f"tfnf needs the Keras 'tensorflow' backend, but Keras is running on {active!r} "
            "(see ~/.keras/keras.json or KERAS_BACKEND). Select 'tensorflow' before importing tfnf."
        )
