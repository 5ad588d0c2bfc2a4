"""`PatchAutoregressive`: one TarFlow block, an affine autoregressive flow over an image's patches.

TarFlow (Zhai et al., 2024) cuts an image `[H, W, C]` into a sequence of `T`
patches (tokens of `D = p p C` values) and transforms patch `t` with a shift
and log-scale computed by a `CausalTransformer` from the patches before it on
the data side:

    x_t = z_t * exp(s_t(x_<t)) + mu_t(x_<t)        (latent -> data)

* Data -> latent (`inverse`, i.e. `log_prob`) is one parallel pass: every
  patch of `x` is known, the causal mask keeps each output on earlier patches.
* Latent -> data (`forward`, i.e. sampling) is sequential: a `tf.while_loop`
  with a static trip count `T`; step `t` runs the `CausalTransformer` on the
  one position `t` (`decode_step`), attending to the keys and values it
  cached for the patches before, and writes patch `t`. In all that is about
  one transformer pass over the sequence, in `T` small steps (a network
  without `decode_step` is re-run on the whole current estimate each step:
  `T` passes). It compiles under `tf.function` and `jit_compile=True` with a
  dynamic batch, and runs the network with dropout off (a fresh mask per
  step would break exactness).

`log|det J| = sum_t sum(s_t)` exactly. With `reverse=True` the patches are
visited last to first, so stacked blocks alternate their order. A context
(`conditional_input: [batch, k]`) reaches the transformer in both directions.
"""

from __future__ import annotations

from typing import Callable, Sequence

import tensorflow as tf

from tfnf.bijectors.flow_bijector import check_event_shape, flatten_batch, unflatten_batch, unflatten_log_det
from tfnf.bijectors.network_bijector import NetworkBijector, autoregressive_passes
from tfnf.bijectors.patches import check_patch_size, patchify, unpatchify
from tfnf.bijectors.transformers import AffineTransformer
from tfnf.nets.causal_transformer import CausalTransformer
from tfnf.nets.precision import network_dtype_policy


class PatchAutoregressive(NetworkBijector):
    """One TarFlow block over images `x: [batch, H, W, C]` (latent -> data; see the module).

    Args:
      event_shape: `(H, W, C)`.
      patch_size: side `p` of the square patches (divides `H` and `W`).
      reverse: visit the patches last to first (row-major order otherwise).
      network: a Keras layer `[batch, T, D]` (and `context=[batch, k]`) -> `[batch, T, D, 2]`
        whose output `t` depends only on tokens `< t` (not checked); default a
        `CausalTransformer` of `width`, `depth`, `num_heads`, `dropout`,
        zero-initialised at the output (identity at start).
      width, depth, num_heads, dropout: the default transformer's size and dropout rate
        (dropout acts in the parallel direction only).
      scale_bound: the largest absolute log-scale (soft bound, `AffineTransformer`).
      context_size: None (unconditional), or the width `k` of the context `conditional_input: [batch, k]`.
      dtype: float32 or float64.
      name: bijector name.
    """

    def __init__(
        self, event_shape: Sequence[int], patch_size: int = 2, reverse: bool = False, network: Callable | None = None,
        width: int = 64, depth: int = 2, num_heads: int = 4, dropout: float = 0.0, scale_bound: float = 2.0,
        context_size: int | None = None, dtype: tf.DType | str = tf.float32, name: str = "patch_autoregressive",
    ) -> None:
        parameters = dict(locals())
        event_shape = check_event_shape("event_shape", event_shape, min_rank=3)
        dtype = tf.as_dtype(dtype)
        self._patch_size, self._reverse = int(patch_size), bool(reverse)
        rows, cols, token_size = check_patch_size(event_shape, self._patch_size, name)
        self._num_tokens = rows * cols
        self._transformer = AffineTransformer(scale_bound)
        if network is None:
            network = CausalTransformer(
                token_size, self._transformer.num_params, width=width, depth=depth, num_heads=num_heads,
                dropout=dropout, context_size=context_size, dtype=network_dtype_policy(dtype), name=f"{name}_transformer",
            )
        super().__init__(event_shape, dtype, network, context_size, (self._num_tokens, token_size), parameters, name)

    @property
    def num_tokens(self):
        """The number of patches `T` (the sequential direction's trip count)."""
        return self._num_tokens

    def _tokens(self, x):
        tokens = patchify(x, self._patch_size)
        return tokens[:, ::-1] if self._reverse else tokens

    def _image(self, tokens):
        return unpatchify(tokens[:, ::-1] if self._reverse else tokens, self._patch_size, self.event_shape_in)

    def _sequential(self, u, context):
        """`T` steps: `u` latent tokens `[batch, T, D]` -> data tokens, log-det terms `[batch, T, D]`.

        A network with `decode_step` (`CausalTransformer`) computes one patch per step
        from its cached keys and values; any other network is re-run on the whole
        current estimate each step."""
        if not hasattr(self._network, "decode_step"):
            return self._sequential_full(u, context)
        length = self._num_tokens
        caches = self._network.empty_caches(tf.shape(u)[0])

        def step(t, out, log_det, caches):
            previous = tf.gather(out, tf.maximum(t - 1, 0), axis=1)[:, None]
            params, caches = self._network.decode_step(previous, t, caches, context)
            x_t, log_det_t = self._transformer.forward(tf.gather(u, t, axis=1), tf.cast(params, u.dtype))
            slot = tf.one_hot(t, length, dtype=u.dtype)[None, :, None]
            return t + 1, out + slot * x_t[:, None], log_det + slot * log_det_t[:, None], caches

        _, out, log_det, _ = tf.while_loop(
            lambda t, *_: t < length, step, (tf.constant(0), tf.zeros_like(u), tf.zeros_like(u), caches),
            maximum_iterations=length,
        )
        return out, log_det

    def _sequential_full(self, u, context):
        """`T` passes of the whole network: after pass `k`, patches `0 .. k` are exact."""

        return autoregressive_passes(
            u, self._num_tokens, lambda out: self._transformer.forward(u, self.run_network(out, context, training=False))
        )

    def _apply(self, x, parallel, conditional_input):
        x_flat, batch_shape = flatten_batch(x, self.event_shape_in)
        tokens = self._tokens(x_flat)
        context = self.checked_context(conditional_input, batch_shape, "autoregressive bijector")
        if parallel:
            out, log_det = self._transformer.inverse(tokens, self.run_network(tokens, context))
        else:
            out, log_det = self._sequential(tokens, context)
        log_det = tf.reduce_sum(log_det, axis=[1, 2])
        return unflatten_batch(self._image(out), batch_shape, self.event_shape_in), unflatten_log_det(log_det, batch_shape)

    def _forward_and_log_det(self, z, conditional_input=None):
        return self._apply(z, False, conditional_input)

    def _inverse_and_log_det(self, x, conditional_input=None):
        return self._apply(x, True, conditional_input)
