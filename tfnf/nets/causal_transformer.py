"""`CausalTransformer`: a transformer whose output for patch `t` reads only patches before `t` (TarFlow)."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfnf.nets.token_transformer import TokenTransformer


@keras.saving.register_keras_serializable(package="tfnf")
class CausalTransformer(TokenTransformer):
    """Autoregressive parameters over a sequence of patches: output `t` depends on tokens `< t` only.

    `tokens: [batch, T, D] -> [batch, T, out_features, num_params]`. The
    embedded tokens are shifted one place right behind a learned start token
    (so position 0 reads nothing but the start token, its position and the
    context), and attention is causal: output `t` sees embedded tokens
    `0 .. t - 1`. See `TokenTransformer` for the layers and arguments; the head
    is zero-initialised, so a new autoregressive block is the identity.
    """

    causal = True

    def empty_caches(self, batch_size):
        """Zero key / value caches for `decode_step`: one `(keys, values)` pair
        `[batch, heads, T, head_width]` per block (`batch_size` a scalar int tensor)."""
        shape = tf.stack([batch_size, self.num_heads, self.position.shape[0], self.width // self.num_heads])
        return [(tf.zeros(shape, self.compute_dtype), tf.zeros(shape, self.compute_dtype)) for _ in self.blocks]

    def decode_step(self, previous, t, caches, context=None):
        """The parameters of position `t` only, one token at a time (no dropout).

        `previous: [batch, 1, D]` is token `t - 1` (ignored at `t = 0`, which reads the
        start token), `t` a scalar int tensor, `caches` the keys and values of
        positions `< t` (`empty_caches`, then what the previous step returned).
        Returns `(params [batch, out_features, num_params], caches)`, where `params`
        equals `call(tokens)[:, t]`; sampling then costs one pass over the sequence
        in all, not one per position.
        """
        context = self.check_context(context)
        embedded = self.embed(previous)
        start = tf.zeros_like(embedded) + tf.cast(self.start, embedded.dtype)
        h = tf.where(t > 0, embedded, start) + tf.cast(tf.gather(self.position, t), embedded.dtype)
        if context is not None:
            h = h + self.context_embed(tf.cast(context, self.compute_dtype))[:, None, :]
        updated = []
        for block, (keys, values) in zip(self.blocks, caches):
            h, keys, values = block.step(h, t, keys, values)
            updated.append((keys, values))
        params = self.head(self.final_norm(h))
        return tf.reshape(params, [-1, self.out_features, self.num_params]), updated

    def build_own(self, length):
        """The learned start token `[width]`."""
        self.start = self.add_weight(shape=(self.width,), initializer="zeros", name="start")

    def embed_tokens(self, tokens):
        """`[batch, T, D]` -> `[start, embed(token 0), ..., embed(token T-2)]`, `[batch, T, width]`."""
        embedded = self.embed(tokens)
        start = tf.zeros_like(embedded[:, :1]) + tf.cast(self.start, embedded.dtype)
        return tf.concat([start, embedded[:, :-1]], axis=1)
