"""`TokenTransformer`: the transformer over a sequence of patch tokens that the image transformer flows share."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfnf.nets.conditioner import Conditioner
from tfnf.nets.transformer_block import TransformerBlock


class TokenTransformer(Conditioner):
    """Tokens `[batch, T, D_in]` -> parameters `[batch, T, out_features, num_params]`.

    A linear embedding of each token to `width` features, a learned position
    embedding `[T, width]`, `depth` pre-LayerNorm `TransformerBlock`s, a final
    LayerNorm and a zero-initialised linear head (so a new flow is the
    identity). A context `[batch, k]` (one-hot label or any vector) goes
    through a linear map to `width` features added to every token. Subclasses
    say how tokens become the blocks' input (`embed_tokens`) and whether
    attention is causal (`causal`).

    Args:
      out_features: parameters are emitted for `out_features` values per token.
      num_params: parameters per value (2 for an affine map: shift, log-scale).
      width: token features inside the network (a multiple of `num_heads`).
      depth: number of transformer blocks.
      num_heads: attention heads.
      mlp_width: hidden width of each block's MLP (None: `2 * width`).
      dropout: dropout rate in the blocks (training only).
      context_size: None, or the width `k` of a context `[batch, k]`.
    """

    causal = False

    def __init__(
        self, out_features: int, num_params: int, width: int = 64, depth: int = 2, num_heads: int = 4,
        mlp_width: int | None = None, dropout: float = 0.0, context_size: int | None = None, **kwargs,
    ) -> None:
        super().__init__(num_params, dropout, context_size, **kwargs)
        self.out_features = int(out_features)
        self.width, self.depth, self.num_heads = int(width), int(depth), int(num_heads)
        self.mlp_width = 2 * self.width if mlp_width is None else int(mlp_width)
        policy = self.dtype_policy
        self.embed = keras.layers.Dense(self.width, dtype=policy, name="embed")
        self.context_embed = (
            None if self.context_size is None
            else keras.layers.Dense(self.width, use_bias=False, dtype=policy, name="context_embed")
        )
        self.blocks = [
            TransformerBlock(self.width, self.num_heads, self.mlp_width, self.dropout, self.causal, dtype=policy,
                             name=f"block{i}")
            for i in range(self.depth)
        ]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name="final_norm")
        self.head = keras.layers.Dense(
            self.out_features * self.num_params, kernel_initializer="zeros", dtype=policy, name="head"
        )
        self.param_shape = (self.out_features, self.num_params)

    def get_config(self):
        config = super().get_config()
        config.update(
            out_features=self.out_features, width=self.width, depth=self.depth, num_heads=self.num_heads,
            mlp_width=self.mlp_width,
        )
        return config

    def build(self, input_shape):
        """Create every weight from the tokens' shape `[batch, T, D_in]`."""
        batch, length, features = tuple(input_shape)
        if length is None or features is None:
            raise ValueError(f"{self.name} needs a static number of tokens and features, got {tuple(input_shape)}")
        self.embed.build((batch, length, features))
        self.position = self.add_weight(
            shape=(length, self.width), initializer=keras.initializers.RandomNormal(stddev=0.02), name="position"
        )
        self.build_own(length)
        if self.context_embed is not None:
            self.context_embed.build((batch, self.context_size))
        hidden = (batch, length, self.width)
        for block in self.blocks:
            block.build(hidden)
        self.final_norm.build(hidden)
        self.head.build(hidden)
        self.built = True

    def build_own(self, length):
        """Weights a subclass adds (called from `build` with the number of tokens)."""

    def embed_tokens(self, tokens):
        """`[batch, T, D_in]` -> `[batch, T, width]`: the blocks' input before positions are added."""
        return self.embed(tokens)

    def call(self, tokens, context=None, training=None):
        """Parameters `[batch, T, out_features, num_params]` of `tokens: [batch, T, D_in]`
        (and a context `[batch, k]` if the network reads one)."""
        context = self.check_context(context)
        h = self.embed_tokens(tokens) + tf.cast(self.position, self.compute_dtype)
        if context is not None:
            h = h + self.context_embed(tf.cast(context, self.compute_dtype))[:, None, :]
        for block in self.blocks:
            h = block(h, training=training)
        params = self.head(self.final_norm(h))
        return tf.reshape(params, [-1, tokens.shape[1], self.out_features, self.num_params])
