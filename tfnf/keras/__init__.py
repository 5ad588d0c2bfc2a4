"""Keras 3 integration: `FlowModel` and its callbacks."""

from tfnf.keras.flow_model import FlowModel
from tfnf.keras.image_grid import image_grid, save_image_grids
from tfnf.keras.sample_grid_callback import SampleGridCallback
from tfnf.keras.tensorboard_sample_grid import TensorBoardSampleGrid
from tfnf.keras.time_budget_callback import TimeBudgetCallback
from tfnf.keras.variational_dequantizer import VariationalDequantizer

__all__ = ["FlowModel", "SampleGridCallback", "TensorBoardSampleGrid", "TimeBudgetCallback", "VariationalDequantizer", "image_grid", "save_image_grids"]
