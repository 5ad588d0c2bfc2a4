"""tfnf: normalizing flows for TensorFlow and Keras.

Data flow through the package (each module imports only from those to its left):

    datasets -> bijectors -> flows -> FlowModel (Keras) -> export -> cli
"""

from tfnf._backend import ensure_tensorflow_backend as _ensure_tensorflow_backend

_ensure_tensorflow_backend()

from tfnf import bijectors, datasets, flows  # noqa: E402
from tfnf.flows import check_invertibility  # noqa: E402
from tfnf.keras import FlowModel, SampleGridCallback, image_grid, save_image_grids  # noqa: E402

__version__ = "0.1.0"

__all__ = ["FlowModel", "check_invertibility", "SampleGridCallback", "bijectors", "image_grid", "save_image_grids", "datasets", "flows", "__version__"]
