"""`TransformerBlock`: one pre-LayerNorm transformer block over a sequence of tokens."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfnf.nets.hashed_dropout import HashedDropout


def causal_mask(length: int) -> tf.Tensor:
    """`[length, length]` bool, True where query `i` may attend to key `j` (`j <= i`)."""
    return tf.linalg.band_part(tf.ones([length, length], tf.bool), -1, 0)


@keras.saving.register_keras_serializable(package="tfnf")
class TransformerBlock(keras.layers.Layer):
    """`h: [batch, T, width] -> [batch, T, width]`, pre-LayerNorm:
    `h + attention(LN(h))`, then `+ mlp(LN(.))` with a GELU MLP of `mlp_width`.

    Multi-head self-attention with `num_heads` heads of `width / num_heads`
    features; with `causal=True` token `i` attends to tokens `0 .. i` only.
    While training, dropout (`HashedDropout`) is applied to the output of the
    attention and of the MLP before each is added back.

    Args:
      width: token features (a multiple of `num_heads`).
      num_heads: attention heads.
      mlp_width: hidden width of the MLP.
      dropout: dropout rate on both residual branches (training only).
      causal: mask attention to earlier tokens (autoregressive networks).
    """

    def __init__(
        self, width: int, num_heads: int, mlp_width: int, dropout: float = 0.0, causal: bool = False, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.width, self.num_heads, self.mlp_width = int(width), int(num_heads), int(mlp_width)
        if self.num_heads < 1 or self.width % self.num_heads:
            raise ValueError(f"width={self.width} must be a positive multiple of num_heads={self.num_heads}")
        self.dropout, self.causal = float(dropout), bool(causal)
        policy = self.dtype_policy
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name="attention_norm")
        self.qkv = keras.layers.Dense(3 * self.width, dtype=policy, name="qkv")
        self.attention_out = keras.layers.Dense(self.width, dtype=policy, name="attention_out")
        self.mlp_norm = keras.layers.LayerNormalization(epsilon=1e-5, dtype=policy, name="mlp_norm")
        self.mlp_in = keras.layers.Dense(self.mlp_width, activation="gelu", dtype=policy, name="mlp_in")
        self.mlp_out = keras.layers.Dense(self.width, dtype=policy, name="mlp_out")
        self.dropout_layer = HashedDropout(self.dropout, dtype=policy) if self.dropout else None

    def get_config(self):
        config = super().get_config()
        config.update(
            width=self.width, num_heads=self.num_heads, mlp_width=self.mlp_width, dropout=self.dropout,
            causal=self.causal,
        )
        return config

    def build(self, input_shape):
        """Create every weight from `[batch, T, width]`."""
        shape = tuple(input_shape)
        hidden = shape[:-1] + (self.mlp_width,)
        for layer, layer_shape in (
            (self.attention_norm, shape), (self.qkv, shape), (self.attention_out, shape),
            (self.mlp_norm, shape), (self.mlp_in, shape), (self.mlp_out, hidden),
        ):
            layer.build(layer_shape)
        if self.dropout_layer is not None:
            self.dropout_layer.build(shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        """The input's shape."""
        return input_shape

    def attend(self, h):
        """Multi-head self-attention of `h: [batch, T, width]` (causal if the block is)."""
        length, head_width = h.shape[1], self.width // self.num_heads
        qkv = tf.reshape(self.qkv(h), [-1, length, 3, self.num_heads, head_width])
        q, k, v = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4]), num=3)  # each [batch, heads, T, head_width]
        scores = tf.matmul(q, k, transpose_b=True) * tf.cast(head_width**-0.5, q.dtype)
        if self.causal:
            lowest = -1e9 if scores.dtype in (tf.float32, tf.float64) else -3e4
            scores = tf.where(causal_mask(length), scores, tf.cast(lowest, scores.dtype))
        mixed = tf.matmul(tf.nn.softmax(scores, axis=-1), v)  # [batch, heads, T, head_width]
        mixed = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [-1, length, self.width])
        return self.attention_out(mixed)

    def attend_step(self, h, t, keys, values):
        """Attention of the one token `h: [batch, 1, width]` at position `t` (a scalar int tensor) to
        positions `0 .. t`, given the keys and values `[batch, heads, T, head_width]` of the positions
        before it (zero from `t` on); returns the attention output and the caches with position `t` written."""
        length, head_width = keys.shape[2], self.width // self.num_heads
        qkv = tf.reshape(self.qkv(h), [-1, 1, 3, self.num_heads, head_width])
        q, k, v = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4]), num=3)  # each [batch, heads, 1, head_width]
        slot = tf.one_hot(t, length, dtype=k.dtype)[None, None, :, None]
        keys, values = keys + slot * k, values + slot * v
        scores = tf.matmul(q, keys, transpose_b=True) * tf.cast(head_width**-0.5, q.dtype)  # [batch, heads, 1, T]
        lowest = -1e9 if scores.dtype in (tf.float32, tf.float64) else -3e4
        scores = tf.where(tf.range(length) <= t, scores, tf.cast(lowest, scores.dtype))
        mixed = tf.matmul(tf.nn.softmax(scores, axis=-1), values)
        mixed = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [-1, 1, self.width])
        return self.attention_out(mixed), keys, values

    def step(self, h, t, keys, values):
        """The block at the one position `t` of a causal sequence, `h: [batch, 1, width]`, with the
        cached keys and values of the earlier positions (see `attend_step`); no dropout. Equals
        `call(...)[:, t]` on the whole sequence. Returns `(h, keys, values)`."""
        branch, keys, values = self.attend_step(self.attention_norm(h), t, keys, values)
        h = h + branch
        return h + self.mlp_out(self.mlp_in(self.mlp_norm(h))), keys, values

    def call(self, h, training=None):
        """`h: [batch, T, width]` -> `[batch, T, width]`."""
        branch = self.attend(self.attention_norm(h))
        if self.dropout_layer is not None:
            branch = self.dropout_layer(branch, training=training)
        h = h + branch
        branch = self.mlp_out(self.mlp_in(self.mlp_norm(h)))
        if self.dropout_layer is not None:
            branch = self.dropout_layer(branch, training=training)
        return h + branch
