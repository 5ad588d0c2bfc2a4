"""`latent_levels`: which multi-scale level each latent element of a flow's bijector belongs to.

A multi-scale flow (glow, image realnvp) sends part of its latent to the base at
each `FactorOut`; a per-level temperature scales each part by its own value.
The walk reads the bijectors themselves: a `FactorOut` labels its parts
(`FactorOut.latent_levels`), a chain passes labels from the part holding the
split back through the parts after it, which may only reorder elements
(`Squeeze`, `Reshape`, `Permute`, `Transpose`) or act elementwise (`ActNorm`,
`DiagonalScale`, `ClassConditionalGaussian`, `Logit`, `Identity`, `Shift`,
`Scale`); anything else there mixes levels and is a `ValueError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors.actnorm import ActNorm
from tfnf.bijectors.class_conditional_gaussian import ClassConditionalGaussian
from tfnf.bijectors.diagonal_scale import DiagonalScale
from tfnf.bijectors.logit import Logit
from tfnf.bijectors.squeeze import Squeeze
from tfnf.private_apis import is_chain

tfb = tfp.bijectors

REORDERING = (Squeeze, tfb.Reshape, tfb.Permute, tfb.Transpose)  # their inverse carries labels back
ELEMENTWISE = (ActNorm, DiagonalScale, ClassConditionalGaussian, Logit, tfb.Identity, tfb.Shift, tfb.Scale)


def _splits(bijector: Any) -> bool:
    """Whether `bijector` holds a multi-scale split (a bijector with its own `latent_levels`)."""
    if callable(getattr(bijector, "latent_levels", None)):
        return True
    parts = getattr(bijector, "bijectors", None)
    if parts is not None:
        return any(_splits(p) for p in tf.nest.flatten(parts))
    inner = getattr(bijector, "bijector", None)
    return inner is not None and _splits(inner)


def _pull_back(bijector: Any, labels: np.ndarray) -> np.ndarray:
    """Level labels over `bijector`'s data side -> over its latent side (it must not mix levels)."""
    inner = bijector.bijector if isinstance(bijector, tfb.Invert) else bijector
    if isinstance(inner, REORDERING):
        dtype = bijector.dtype or tf.float32
        moved = bijector.inverse(tf.constant(labels[None], dtype))
        return np.rint(moved.numpy()[0]).astype(np.int32)
    if isinstance(inner, ELEMENTWISE):
        return labels
    raise ValueError(
        f"per-level temperature: {bijector.name!r} ({type(inner).__name__}) acts on the latent before the "
        "multi-scale split, so the latent elements of each level cannot be told apart; use one temperature"
    )


def levels_of(bijector: Any, data_shape: Sequence[int], depth: int) -> np.ndarray | None:
    """Level of each element on `bijector`'s latent side (an int array of `data_shape`, the
    shape on its data side), the outermost split at `depth`; None when it holds no split."""
    if callable(getattr(bijector, "latent_levels", None)):
        return bijector.latent_levels(tuple(data_shape), depth)
    if is_chain(bijector):
        parts = list(bijector.bijectors)
        shapes = [tuple(data_shape)]
        for part in parts[:-1]:
            shapes.append(tuple(int(d) for d in part.inverse_event_shape(shapes[-1])))
        for i in reversed(range(len(parts))):  # the latent enters the last part first
            labels = levels_of(parts[i], shapes[i], depth)
            if labels is not None:
                for part in parts[i + 1 :]:
                    labels = _pull_back(part, labels)
                return labels
        return None
    if _splits(bijector):
        raise ValueError(
            f"per-level temperature: cannot read the levels of {bijector.name!r} ({type(bijector).__name__}); "
            "use one temperature"
        )
    return None


def latent_levels(bijector: Any, event_shape: Sequence[int]) -> np.ndarray:
    """The multi-scale level of every latent element of `bijector` (latent -> data over
    `event_shape`): an int array of `event_shape`.

    Level 0 is the part factored out first on the way from data to latent (the
    finest scale), the last level what the deepest scale keeps; a flow without
    a `FactorOut` has one level, 0.
    """
    labels = levels_of(bijector, tuple(event_shape), 0)
    return np.zeros(tuple(event_shape), np.int32) if labels is None else labels
