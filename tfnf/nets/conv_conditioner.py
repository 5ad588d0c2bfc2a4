"""`ConvConditioner`: the convolutional network that reads an image's conditioning part."""

from __future__ import annotations

import functools
import itertools

import keras
import numpy as np
import tensorflow as tf

from tfnf.nets.conditioner import ImageConditioner
from tfnf.nets.channel_matmul import channel_matmul
from tfnf.nets.packed_conv2d import PackedConv2D

# A 3x3 convolution on a feature map of at most this many pixels (4x4) runs as
# matmuls: about 1.3x faster training steps for Glow on 8x8 digits on CPU, where
# XLA's convolutions of narrow tensors are slow; no gain measured at 8x8 maps.
# The shifts between pixels are a matmul with a constant 0/1 matrix too: two
# matmuls in the graph where nine slices and their gradients were some eighty
# ops, so the train step traces and compiles faster.
SMALL_FEATURE_MAP = 16


@functools.lru_cache(maxsize=64)
def neighbour_matrix(height, width, kernel_height=3, kernel_width=3):
    """The taps of a "same"-padded convolution as a 0/1 array `[H W, kh kw, H W]`.

    Entry `(p, t, q)` is 1 when input pixel `q` is tap `t = i kw + j` of output
    pixel `p`, that is `q = p + (i - kh // 2, j - kw // 2)` inside the map
    (pixels are numbered row-major; taps that fall in the zero padding have no
    entry). Read-only, cached per shape.
    """
    matrix = np.zeros([height * width, kernel_height * kernel_width, height * width], np.float32)
    for y, x, i, j in itertools.product(range(height), range(width), range(kernel_height), range(kernel_width)):
        source_y, source_x = y + i - kernel_height // 2, x + j - kernel_width // 2
        if 0 <= source_y < height and 0 <= source_x < width:
            matrix[y * width + x, i * kernel_width + j, source_y * width + source_x] = 1.0
    matrix.setflags(write=False)
    return matrix


def mix_pixels(matrix, x):
    """`matrix: [K, Q]`, `x: [batch, Q, C]` -> `[batch, K, C]`, `matrix @ x[b]` for every example.

    One 2-D matmul with the pixels first (`[K, Q] @ [Q, batch C]`), so a
    constant `matrix` costs one matmul forward and one backward whatever the
    batch (a broadcast batched matmul runs one small product per example).
    """
    pixels, channels = x.shape[1], x.shape[2]
    by_pixel = tf.reshape(tf.transpose(x, [1, 0, 2]), [pixels, -1])
    mixed = tf.matmul(matrix, by_pixel)
    return tf.transpose(tf.reshape(mixed, [matrix.shape[0], -1, channels]), [1, 0, 2])


def conv3x3_by_patches(x, kernel):
    """`conv2d(x, kernel, padding="same")` as a matmul of the patches: `[B, H, W, 9 C_in] @ [9 C_in, C_out]`.

    `x: [batch, H, W, C_in]` (static H, W, C_in), `kernel: [kh, kw, C_in, C_out]`
    -> `[batch, H, W, C_out]`. The patches are gathered by one matmul with the
    constant `neighbour_matrix` (two matmuls in the graph, where nine slices
    and their gradients would be some eighty ops). The cheaper form when
    `C_in < C_out`.
    """
    kh, kw, c_in, c_out = kernel.shape
    h, w = x.shape[1], x.shape[2]
    gather = tf.constant(neighbour_matrix(h, w, kh, kw).reshape(h * w * kh * kw, h * w), x.dtype)
    patches = mix_pixels(gather, tf.reshape(x, [-1, h * w, c_in]))  # [B, H W kh kw, C_in]
    patches = tf.reshape(patches, [-1, h, w, kh * kw * c_in])
    return channel_matmul(patches, tf.reshape(kernel, [kh * kw * c_in, c_out]))


def conv3x3_by_taps(x, kernel):
    """`conv2d(x, kernel, padding="same")` as one matmul to all taps, then one matmul that sums them.

    `x: [batch, H, W, C_in]` (static H, W), `kernel: [kh, kw, C_in, C_out]` ->
    `[batch, H, W, C_out]`. Every pixel is multiplied once by
    `[C_in, kh kw C_out]`; output pixel `p` then sums tap `t` of each input
    pixel `q` with `neighbour_matrix[p, t, q] = 1`, as a matmul with that
    constant. The cheaper form when `C_out <= C_in`.
    """
    kh, kw, c_in, c_out = kernel.shape
    h, w = x.shape[1], x.shape[2]
    taps = channel_matmul(x, tf.reshape(tf.transpose(kernel, [2, 0, 1, 3]), [c_in, kh * kw * c_out]))
    neighbours = np.transpose(neighbour_matrix(h, w, kh, kw), [0, 2, 1])  # [p, q, t]
    scatter = tf.constant(neighbours.reshape(h * w, h * w * kh * kw), x.dtype)
    out = mix_pixels(scatter, tf.reshape(taps, [-1, h * w * kh * kw, c_out]))
    return tf.reshape(out, [-1, h, w, c_out])


def apply_conv(layer, x):
    """`layer(x)` for a stride-1, `"same"`-padded convolution layer (`PackedConv2D`, or Keras'
    `Conv2D`: anything with `kernel_size`, `kernel`, `bias`, `use_bias` and `activation`),
    with the layer's own weights.

    A 1x1 convolution is computed as a matmul over channels (its kernel
    gradient is then one matmul too, with no transposes). A 3x3 convolution
    over a map of at most `SMALL_FEATURE_MAP` pixels runs as a matmul of
    patches (`conv3x3_by_patches` or `conv3x3_by_taps`, whichever multiplies
    on the wider side); anything else is `layer(x)`.
    """
    height, width = x.shape[1], x.shape[2]
    kernel_size = tuple(layer.kernel_size)
    if height is None or width is None or kernel_size not in ((1, 1), (3, 3)):
        return layer(x)
    if kernel_size == (3, 3) and height * width > SMALL_FEATURE_MAP:
        return layer(x)
    if not layer.built:
        layer.build(x.shape)
    if hasattr(layer, "kernel_with_bias"):  # PackedConv2D: both from one split of its variable
        kernel, bias = layer.kernel_with_bias()
    else:
        kernel, bias = layer.kernel, (layer.bias if layer.use_bias else None)
    kernel = tf.cast(kernel, x.dtype)
    bias = None if bias is None else tf.cast(bias, x.dtype)
    if kernel_size == (1, 1):
        # matmul, bias, activation on the 2-D view: one fused kernel where TensorFlow has it
        y = tf.matmul(tf.reshape(x, [-1, kernel.shape[2]]), kernel[0, 0])
        y = layer.activation(y if bias is None else tf.nn.bias_add(y, bias))
        return tf.reshape(y, [-1, height, width, kernel.shape[3]])
    if kernel.shape[2] < kernel.shape[3]:
        y = conv3x3_by_patches(x, kernel)
    else:
        y = conv3x3_by_taps(x, kernel)
    return layer.activation(y if bias is None else tf.nn.bias_add(y, bias))


@keras.saving.register_keras_serializable(package="tfnf")
class ConvConditioner(ImageConditioner):
    """Glow-style conv conditioner for image couplings (channels last).

    `x_cond: [batch, H, W, C_in] -> params: [batch, H, W, out_channels, num_params]`
    through conv3x3 -> ReLU -> conv1x1 -> ReLU -> zero-initialised conv3x3
    (dropout after each ReLU while training, both masks from one `HashedDropout`
    draw of keys). With `hidden_channels=None` it is
    the single zero-initialised conv3x3 that Glow uses for its learned prior.

    Each convolution is a `PackedConv2D` (kernel and bias in one variable: half
    the optimizer updates per step). The 1x1 convolution, and the 3x3 ones on
    feature maps of at most `SMALL_FEATURE_MAP` pixels, run as matmuls
    (`apply_conv`): the same map with the same weights, faster on CPU.

    Args:
      out_channels: channels of the transformed part.
      num_params: parameters per transformed element.
      hidden_channels: width of the hidden convolutions, or None for none.
      dropout: dropout rate after each hidden activation (training only).
      context_size: None, or the width `k` of a context `[batch, k]` (a one-hot
        label or any vector), broadcast over height and width and appended to
        `x_cond` as `k` extra input channels.
    """

    def __init__(
        self, out_channels: int, num_params: int, hidden_channels: int = 128, dropout: float = 0.0,
        context_size: int | None = None, **kwargs,
    ) -> None:
        super().__init__(out_channels, num_params, dropout, context_size, **kwargs)
        self.hidden_channels = None if hidden_channels is None else int(hidden_channels)
        policy = self.dtype_policy
        if self.hidden_channels is None:
            self.hidden_layers = []
        else:
            self.hidden_layers = [
                PackedConv2D(self.hidden_channels, 3, activation="relu", dtype=policy, name="conv_in"),
                PackedConv2D(self.hidden_channels, 1, activation="relu", dtype=policy, name="conv_mid"),
            ]
        self.add_output_layer()

    def get_config(self):
        config = super().get_config()
        config.update(hidden_channels=self.hidden_channels)
        return config

    def build(self, input_shape):
        """Create every weight from `x`'s shape `[batch, H, W, C_in]` (a context adds
        `context_size` input channels): each convolution and the dropout layer are
        built here, so Keras (when it first calls the layer, or when `load_model`
        rebuilds it) finds no unbuilt sublayer."""
        shape = (*tuple(input_shape)[:-1], int(input_shape[-1]) + (self.context_size or 0))
        for layer in self.hidden_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        if self.dropout_layer is not None:
            self.dropout_layer.build(shape)  # weightless; `call` uses its masks, never calls it
        self.output_layer.build(shape)
        self.built = True

    def call(self, x, context=None, training=None):
        """Parameters `[batch, H, W, out_channels, num_params]` of `x: [batch, H, W, C_in]`
        (and a context `[batch, k]` if the conditioner reads one)."""
        h = self.first_input(x, context)
        dropping = self.dropout_layer is not None and bool(training)
        keys = self.dropout_layer.next_keys() if dropping else None  # one draw, a mask per hidden layer
        for index, layer in enumerate(self.hidden_layers):
            h = apply_conv(layer, h)
            if dropping:
                h = self.dropout_layer.drop(h, keys, index)
        return self.as_params(apply_conv(self.output_layer, h))
