"""`JetCoupling`: Jet's affine coupling over patch tokens, its parameters from a vision transformer.

Jet (Kolesnikov et al., 2024) cuts an image `[H, W, C]` into `T` patches of
`p x p` pixels, each a token of `D = p p C` values, and splits the tokens in
two halves, either

* `split="channel"`: the values inside every patch (all `T` tokens keep
  `D / 2` values, the other `D / 2` are transformed), or
* `split="spatial"`: the patches themselves (`T / 2` kept, `T / 2` transformed),

with `pattern="split"` (first half / second half: the first values of each
patch, or the top half of the image) or `pattern="alternate"` (every other
value, or a checkerboard of patches), and `parity` swapping the halves.
A `ViTConditioner` reads the kept half as a sequence of tokens and emits a
shift and a log-scale for every transformed value:
`y_trans = x_trans * exp(s(x_kept)) + t(x_kept)`, `y_kept = x_kept`, so
`log|det J| = sum(s)` exactly. A context (`conditional_input: [batch, k]`)
reaches the transformer as for any tfnf coupling.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from tfnf.bijectors.flow_bijector import check_event_shape, flatten_batch, unflatten_batch, unflatten_log_det
from tfnf.bijectors.network_bijector import NetworkBijector
from tfnf.bijectors.patches import check_patch_size, patchify, unpatchify
from tfnf.bijectors.transformers import AffineTransformer
from tfnf.nets.precision import network_dtype_policy
from tfnf.nets.vit_conditioner import ViTConditioner

SPLITS = ("channel", "spatial")
PATTERNS = ("split", "alternate")


def jet_halves(split, pattern, parity, grid, token_size):
    """`(kept, transformed)`: index arrays into the token axis (`split="spatial"`) or the value
    axis (`"channel"`) of patch tokens over a `grid` `(rows, columns)` of patches of `token_size`
    values; equal halves, each in increasing order. `ValueError` if the axis cannot be halved."""
    if split == "channel":
        n = token_size
        first = np.arange(n) < n // 2 if pattern == "split" else np.arange(n) % 2 == 0
    else:
        n = grid[0] * grid[1]
        rows, cols = np.divmod(np.arange(n), grid[1])
        first = np.arange(n) < n // 2 if pattern == "split" else (rows + cols) % 2 == 0
    if n % 2 or first.sum() != n // 2:
        what = "values per patch" if split == "channel" else "patches"
        raise ValueError(f"a {split} split needs an even number of {what} to halve, got {n}")
    kept, transformed = np.flatnonzero(first), np.flatnonzero(~first)
    return (transformed, kept) if parity % 2 else (kept, transformed)


class JetCoupling(NetworkBijector):
    """Jet's affine coupling over images `x: [batch, H, W, C]` (latent -> data; see the module).

    Args:
      event_shape: `(H, W, C)`.
      patch_size: side `p` of the square patches (divides `H` and `W`).
      split: `"channel"` (the values inside each patch) or `"spatial"` (the patches).
      pattern: `"split"` (halves) or `"alternate"` (every other value / a checkerboard of patches).
      parity: 0 or 1; 1 swaps the kept and transformed halves.
      network: a Keras layer `[batch, T_kept, D_kept]` (and `context=[batch, k]`) ->
        `[batch, T_kept, D_transformed, 2]`; default a `ViTConditioner` of `width`,
        `depth`, `num_heads`, `dropout`, zero-initialised at the output (identity at start).
      width, depth, num_heads, dropout: the default transformer's size and dropout rate.
      scale_bound: the largest absolute log-scale (soft bound, `AffineTransformer`).
      context_size: None (unconditional), or the width `k` of the context `conditional_input: [batch, k]`.
      dtype: float32 or float64.
      name: bijector name.
    """

    def __init__(
        self, event_shape: Sequence[int], patch_size: int = 2, split: str = "channel", pattern: str = "split",
        parity: int = 0, network: Callable | None = None, width: int = 64, depth: int = 2, num_heads: int = 4,
        dropout: float = 0.0, scale_bound: float = 2.0, context_size: int | None = None,
        dtype: tf.DType | str = tf.float32, name: str = "jet_coupling",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape, min_rank=3)
        if split not in SPLITS or pattern not in PATTERNS:
            raise ValueError(f"split must be one of {SPLITS} and pattern one of {PATTERNS}, got {split!r}, {pattern!r}")
        dtype = tf.as_dtype(dtype)
        self._patch_size, self._split = int(patch_size), split
        rows, cols, token_size = check_patch_size(event_shape, self._patch_size, name)
        kept, transformed = jet_halves(split, pattern, parity, (rows, cols), token_size)
        self._axis = 2 if split == "channel" else 1
        self._kept, self._transformed = tf.constant(kept, tf.int32), tf.constant(transformed, tf.int32)
        self._merge_order = tf.constant(np.argsort(np.concatenate([kept, transformed])), tf.int32)
        tokens = rows * cols
        input_shape = (tokens, len(kept)) if split == "channel" else (len(kept), token_size)
        out_features = len(transformed) if split == "channel" else token_size
        self._transformer = AffineTransformer(scale_bound)
        if network is None:
            network = ViTConditioner(
                out_features, self._transformer.num_params, width=width, depth=depth, num_heads=num_heads,
                dropout=dropout, context_size=context_size, dtype=network_dtype_policy(dtype), name=f"{name}_vit",
            )
        super().__init__(event_shape, dtype, network, context_size, input_shape, parameters, name)

    def _apply(self, x, transform, conditional_input=None):
        x_flat, batch_shape = flatten_batch(x, self.event_shape_in)
        tokens = patchify(x_flat, self._patch_size)
        kept = tf.gather(tokens, self._kept, axis=self._axis)
        changed = tf.gather(tokens, self._transformed, axis=self._axis)
        context = self.checked_context(conditional_input, batch_shape, "coupling")
        changed, log_det = transform(changed, self.run_network(kept, context))
        tokens = tf.gather(tf.concat([kept, changed], axis=self._axis), self._merge_order, axis=self._axis)
        y = unpatchify(tokens, self._patch_size, self.event_shape_in)
        log_det = tf.reduce_sum(log_det, axis=[1, 2])
        return unflatten_batch(y, batch_shape, self.event_shape_in), unflatten_log_det(log_det, batch_shape)

    def _forward_and_log_det(self, z, conditional_input=None):
        return self._apply(z, self._transformer.forward, conditional_input)

    def _inverse_and_log_det(self, x, conditional_input=None):
        return self._apply(x, self._transformer.inverse, conditional_input)
