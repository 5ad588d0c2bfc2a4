"""Export of trained flows as SavedModels for TF Serving."""

from tfnf.files import is_previous_export, write_atomically
from tfnf.export.saved_model import FlowExport, export_metadata, export_saved_model, load_metadata

__all__ = ["FlowExport", "export_metadata", "export_saved_model", "is_previous_export", "load_metadata", "write_atomically"]
