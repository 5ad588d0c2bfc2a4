"""`FactorOut`: the multi-scale split of RealNVP and Glow."""

import tensorflow as tf

from tfnf.bijectors.flow_bijector import FlowBijector, check_event_shape


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

    def __init__(self, event_shape, inner, num_kept=None, dtype=tf.float32, name="factor_out"):
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
