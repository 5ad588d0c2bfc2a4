"""The rule that a diverged model is refused: nothing is saved, exported or sampled from
weights holding NaN or Inf.

`FlowModel.save`, `FlowModel.sample` and `tfnf.export.export_saved_model` ask
the model what is broken (`DataFlow.nonfinite_parts`, a list of names) and pass
the answer here; a non-empty list is a `ValueError` naming the parts.
"""

from __future__ import annotations

from collections.abc import Sequence

RESTORE = "restore finite weights (load_weights from a checkpoint or a BackupAndRestore backup) first"


def refuse_nonfinite_weights(broken: Sequence[str], refusal: str) -> None:
    """Raise `ValueError` starting with `refusal` (e.g. `"refusing to export:"`) when `broken`
    (the names of the model's non-finite parts) is not empty."""
    if broken:
        raise ValueError(f"{refusal} NaN or Inf in {', '.join(broken[:5])} (did training diverge?); {RESTORE}")
