"""The pixel rule: discrete data hold levels in `[0, num_bins)`.

`FlowModel`'s input checks (on NumPy values) and the SavedModel's signatures (on
tensors, as assertions) both ask `pixels_in_range` and word the refusal with
`pixel_range_message`, so a client of either is told the same thing.
"""

from __future__ import annotations

from typing import Any


def pixels_in_range(low: Any, high: Any, num_bins: int) -> Any:
    """Whether values whose minimum is `low` and maximum `high` are pixels in `[0, num_bins)`:
    a bool for Python / NumPy numbers, a boolean tensor for tensors."""
    return (low >= 0) & (high < num_bins)


def pixel_range_message(name: str, num_bins: int) -> str:
    """The refusal of values of `name` outside `[0, num_bins)`, up to the values found."""
    return f"{name} must hold pixel values in [0, {num_bins}) for num_bins={num_bins}, got values in"
