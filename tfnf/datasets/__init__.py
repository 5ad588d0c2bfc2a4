"""Datasets for training and testing flows (filled in by tfnf.datasets modules)."""

__all__ = []
