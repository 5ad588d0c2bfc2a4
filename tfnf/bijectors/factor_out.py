"""`FactorOut`: the multi-scale split of RealNVP and Glow."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from tfnf.bijectors.flow_bijector import FlowBijector, check_event_shape
from tfnf.bijectors.latent_levels import levels_of


class FactorOut(FlowBijector):
    """Send the first `num_kept` channels through `inner`; the rest pass unchanged.

    `x: [batch, H, W, C]` (or `[batch, D]`). Data -> latent, the passing
    channels are "factored out": they are already latent and go straight to the
    base distribution, while the kept channels continue through the deeper
    levels in `inner`. Latent -> data (`forward`) is the same split with
    `inner.forward`. `log|det J| = inner's log-det` on the kept part.

    Keyword arguments (a conditional flow's nested `bijector_kwargs`) go to
    `inner` unchanged, as `tfb.Invert` passes them to its bijector.

    Args:
      event_shape: `(H, W, C)` or `(D,)`, the shape on both sides.
      inner: a bijector over events `(H, W, num_kept)` (or `(num_kept,)`) whose
        output has the same shape.
      num_kept: channels that go through `inner` (default `C // 2`).
      dtype: floating dtype.
      name: bijector name.
    """

    def __init__(
        self, event_shape: Sequence[int], inner: tfp.bijectors.Bijector, num_kept: int | None = None,
        dtype: tf.DType | str = tf.float32, name: str = "factor_out",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape)
        channels = event_shape[-1]
        num_kept = channels // 2 if num_kept is None else int(num_kept)
        if not 0 < num_kept < channels:
            raise ValueError(f"num_kept must be in (0, {channels}) for event_shape={event_shape}, got {num_kept}")
        self._inner = inner
        self._sizes = (num_kept, channels - num_kept)
        self._inner_ndims = len(event_shape)
        super().__init__(event_shape, dtype, parameters=parameters, name=name)

    @property
    def inner(self):
        """The bijector applied to the kept channels."""
        return self._inner

    @property
    def sizes(self) -> tuple[int, int]:
        """`(num_kept, num_passed)`: the channels through `inner`, the channels passing unchanged."""
        return self._sizes

    def latent_levels(self, data_shape: Sequence[int], depth: int) -> np.ndarray:
        """The multi-scale level of each latent element, an int array of `data_shape`
        (`[H, W, C]` or `[D]`): the passing channels are level `depth`, the kept ones the
        levels of `inner` (all `depth + 1` when it splits no further)."""
        kept, passed = self._sizes
        outer = tuple(data_shape[:-1])
        inner = levels_of(self._inner, (*outer, kept), depth + 1)
        if inner is None:
            inner = np.full((*outer, kept), depth + 1, np.int32)
        return np.concatenate([inner, np.full((*outer, passed), depth, np.int32)], axis=-1)

    def _apply(self, x, direction, kwargs):
        kept, passed = tf.split(x, self._sizes, axis=-1)
        if direction == "forward":
            out = self._inner.forward(kept, **kwargs)
            log_det = self._inner.forward_log_det_jacobian(kept, event_ndims=self._inner_ndims, **kwargs)
        else:
            out = self._inner.inverse(kept, **kwargs)
            log_det = self._inner.inverse_log_det_jacobian(kept, event_ndims=self._inner_ndims, **kwargs)
        return tf.concat([out, passed], axis=-1), log_det

    def _forward_and_log_det(self, x, **kwargs):
        return self._apply(x, "forward", kwargs)

    def _inverse_and_log_det(self, y, **kwargs):
        return self._apply(y, "inverse", kwargs)
