"""Keras 3 integration: `FlowModel` and its callbacks."""

from tfnf.keras.flow_model import FlowModel

__all__ = ["FlowModel"]
