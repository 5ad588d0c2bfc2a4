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

    def build_own(self, length):
        """The learned start token `[width]`."""
        self.start = self.add_weight(shape=(self.width,), initializer="zeros", name="start")

    def embed_tokens(self, tokens):
        """`[batch, T, D]` -> `[start, embed(token 0), ..., embed(token T-2)]`, `[batch, T, width]`."""
        embedded = self.embed(tokens)
        start = tf.zeros_like(embedded[:, :1]) + tf.cast(self.start, embedded.dtype)
        return tf.concat([start, embedded[:, :-1]], axis=1)
