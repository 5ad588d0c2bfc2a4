"""tfnf: normalizing flows for TensorFlow and Keras.

Data flow through the package (each module imports only from those to its left):

    datasets -> nets -> bijectors -> flows -> FlowModel (Keras) -> export -> cli

with three helpers every layer may use: `tfnf.rules` (each check of user input
written once: integers and seeds, temperature, pixels, finite weights, bits/dim,
dequantisation), `tfnf.files` (the one way anything is written to disk) and
`tfnf.private_apis` (the few private TensorFlow/TFP/Keras names read, with why).

`import tfnf` loads everything (and so registers tfnf's Keras classes for
`keras.models.load_model`), except when the process is the `tfnf` command
itself starting up (the console script, or `python -m tfnf`): then the names
below load on first use, so that `tfnf --help` answers before TensorFlow is
imported; the command loads what it runs after parsing its arguments.
"""

import importlib
import os
import sys

from tfnf._backend import ensure_tensorflow_backend as _ensure_tensorflow_backend
from tfnf._backend import ensure_tensorflow_backend_requested as _ensure_tensorflow_backend_requested

__all__ = ["FlowModel", "check_invertibility", "SampleGridCallback", "bijectors", "nets", "image_grid", "save_image_grids", "datasets", "flows", "__version__"]

#: The installed version of tfnf.
__version__ = "0.1.0"

_SUBPACKAGES = ("nets", "bijectors", "datasets", "flows", "keras", "export", "cli")
_NAMES = {
    "FlowModel": "tfnf.keras",
    "SampleGridCallback": "tfnf.keras",
    "image_grid": "tfnf.keras",
    "save_image_grids": "tfnf.keras",
    "check_invertibility": "tfnf.flows",
}


def __getattr__(name):
    """Load a subpackage or a public name on first use (only reached while the command starts)."""
    if name in _SUBPACKAGES:
        if name != "datasets":
            _ensure_tensorflow_backend()
        return importlib.import_module(f"{__name__}.{name}")
    if name in _NAMES:
        _ensure_tensorflow_backend()
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def _started_as_the_command():
    """Whether this process is the `tfnf` command starting: its console script, or `python -m tfnf`
    (while Python imports the package to run it, `sys.argv[0]` is `"-m"`)."""
    program = os.path.basename(sys.argv[0]) if sys.argv else ""
    return program == "-m" or os.path.splitext(program)[0] in ("tfnf", "tfnf-script")


if _started_as_the_command():
    _ensure_tensorflow_backend_requested()  # KERAS_BACKEND only; Keras itself is checked before it loads
else:
    _ensure_tensorflow_backend()
    from tfnf import bijectors, datasets, flows, nets  # noqa: E402
    from tfnf.flows import check_invertibility  # noqa: E402
    from tfnf.keras import FlowModel, SampleGridCallback, image_grid, save_image_grids  # noqa: E402
