"""`GatedConvConditioner`: a gated residual conv net (Flow++ style) that reads an image's conditioning part."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfnf.nets.conditioner import ImageConditioner
from tfnf.nets.conv_conditioner import apply_conv
from tfnf.nets.packed_conv2d import PackedConv2D


@keras.saving.register_keras_serializable(package="tfnf")
class GatedConvConditioner(ImageConditioner):
    """Gated residual conv conditioner for image couplings (channels last).

    `x_cond: [batch, H, W, C_in] -> params: [batch, H, W, out_channels, num_params]`::

        h = conv3x3(x_cond)                                    -> hidden_channels
        repeat num_blocks times (a gated residual block):
            a = conv3x3(elu(h))
            [u, v] = conv3x3(elu(a))                           -> 2 * hidden_channels
            h = h + u * sigmoid(v)
        params = conv3x3_zero(elu(h))

    The gated activation `u * sigmoid(v)` and the residual stream are those of
    the PixelCNN++ / Flow++ coupling networks; the output convolution is
    zero-initialised so a new coupling is the identity. Dropout (training
    only) follows the first activation of each block. Convolutions are
    `PackedConv2D` run through `apply_conv` (matmuls on small maps), as in
    `ConvConditioner`.

    Args:
      out_channels: channels of the transformed part.
      num_params: parameters per transformed element.
      hidden_channels: width of the residual stream.
      num_blocks: number of gated residual blocks.
      dropout: dropout rate inside each block (training only).
      context_size: None, or the width `k` of a context `[batch, k]`,
        broadcast over height and width and appended to `x_cond` as `k` extra
        input channels.
    """

    def __init__(
        self, out_channels: int, num_params: int, hidden_channels: int = 64, num_blocks: int = 2,
        dropout: float = 0.0, context_size: int | None = None, **kwargs,
    ) -> None:
        super().__init__(out_channels, num_params, dropout, context_size, **kwargs)
        self.hidden_channels = int(hidden_channels)
        self.num_blocks = int(num_blocks)
        if self.hidden_channels < 1 or self.num_blocks < 0:
            raise ValueError(
                f"hidden_channels must be >= 1 and num_blocks >= 0, got hidden_channels={hidden_channels!r}, "
                f"num_blocks={num_blocks!r}"
            )
        policy = self.dtype_policy
        width = self.hidden_channels
        self.input_conv = PackedConv2D(width, 3, dtype=policy, name="conv_in")
        self.block_convs = [PackedConv2D(width, 3, dtype=policy, name=f"block{i}_conv") for i in range(self.num_blocks)]
        self.gate_convs = [PackedConv2D(2 * width, 3, dtype=policy, name=f"block{i}_gate") for i in range(self.num_blocks)]
        self.hidden_layers = [self.input_conv, *self.block_convs, *self.gate_convs]
        self.add_output_layer()

    def get_config(self):
        config = super().get_config()
        config.update(hidden_channels=self.hidden_channels, num_blocks=self.num_blocks)
        return config

    def call(self, x, context=None, training=None):
        """`x: [batch, H, W, C_in]` (and `context: [batch, k]`) -> `[batch, H, W, out_channels, num_params]`."""
        h = apply_conv(self.input_conv, self.first_input(x, context))
        for conv, gate in zip(self.block_convs, self.gate_convs):
            a = tf.nn.elu(apply_conv(conv, tf.nn.elu(h)))
            if self.dropout_layer is not None:
                a = self.dropout_layer(a, training=training)
            u, v = tf.split(apply_conv(gate, a), 2, axis=-1)
            h = h + u * tf.sigmoid(v)
        return self.as_params(apply_conv(self.output_layer, tf.nn.elu(h)))
