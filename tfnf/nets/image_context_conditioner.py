"""`ImageContextConditioner`: an image coupling's conditioner that also reads an image context.

An image flow built with `context_shape=(h, w, c)` is conditioned on a float
image (a low-resolution version of the data, a feature map). The chain passes
it to every coupling flattened, `conditional_input: [batch, h*w*c]`, so the
couplings' context plumbing is the same as for vectors; this layer turns it
back into an image and into features at its coupling's resolution:

    context [batch, h*w*c] -> [batch, h, w, c]
      -> bilinear resize to the coupling's [H, W] (skipped when equal)
      -> conv3x3 -> ReLU, `context_channels` wide      (the encoder)
      -> concatenated to x_cond: [batch, H, W, C_in + context_channels]
      -> the wrapped network (an unconditional conditioner)

Every conditioner owns its encoder: the encoders of one level see the same
resized context but learn their own features (a few hundred weights each).
"""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from tfnf.nets.conditioners import build_network
from tfnf.nets.conv_conditioner import apply_conv
from tfnf.nets.packed_conv2d import PackedConv2D
from tfnf.nets.precision import network_dtype_policy

# Width of each conditioner's context encoder.
IMAGE_CONTEXT_CHANNELS = 16


@keras.saving.register_keras_serializable(package="tfnf")
class ImageContextConditioner(keras.layers.Layer):
    """Encode an image context and feed it, with the conditioning part, to `network`.

    `x_cond: [batch, H, W, C_in]`, `context: [batch, h*w*c]` (a flattened
    `[batch, h, w, c]` image) -> `network([x_cond, encoded context])`, i.e.
    `[batch, H, W, out_channels, num_params]` for a conv conditioner.

    Args:
      network: an unconditional conditioner layer (e.g. `ConvConditioner` with
        `context_size=None`) reading `C_in + context_channels` channels.
      context_shape: `(h, w, c)` of the context image.
      context_channels: output channels of the conv3x3 + ReLU encoder.
    """

    def __init__(
        self, network: keras.layers.Layer, context_shape: Sequence[int],
        context_channels: int = IMAGE_CONTEXT_CHANNELS, **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        shape = tuple(int(d) for d in context_shape)
        if len(shape) != 3 or min(shape) < 1:
            raise ValueError(f"context_shape must be (h, w, c) with sizes >= 1, got {context_shape!r}")
        if getattr(network, "context_size", None) is not None:
            raise ValueError(
                f"the wrapped network must be unconditional (it reads the encoded context as channels), "
                f"got one with context_size={network.context_size}"
            )
        self.network = network
        self.context_shape = shape
        self.context_size = shape[0] * shape[1] * shape[2]
        self.context_channels = int(context_channels)
        if self.context_channels < 1:
            raise ValueError(f"context_channels must be >= 1, got {context_channels!r}")
        self.encoder = PackedConv2D(
            self.context_channels, 3, activation="relu", dtype=self.dtype_policy, name="context_encoder"
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            network=keras.saving.serialize_keras_object(self.network),
            context_shape=list(self.context_shape),
            context_channels=self.context_channels,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)

    def encode_context(self, context, height, width, dtype):
        """`[batch, h*w*c]` -> encoder features `[batch, height, width, context_channels]` in `dtype`."""
        if context is None:
            raise ValueError(
                f"{self.name} is conditioned on an image context {list(self.context_shape)} but received none"
            )
        if context.shape.rank is not None and context.shape[-1] not in (None, self.context_size):
            raise ValueError(
                f"{self.name} expects the image context flattened to [batch, {self.context_size}] "
                f"({list(self.context_shape)}), got shape {context.shape.as_list()}"
            )
        image = tf.reshape(tf.cast(context, dtype), [-1, *self.context_shape])
        if (height, width) != self.context_shape[:2]:
            image = tf.cast(tf.image.resize(image, (height, width), method="bilinear"), dtype)
        return apply_conv(self.encoder, image)

    def call(self, x, context=None, training=None):
        """`network`'s output (`[batch, H, W, out_channels, num_params]` for a conv conditioner) for
        `x: [batch, H, W, C_in]` and the flattened image context `[batch, h*w*c]`."""
        features = self.encode_context(context, x.shape[1], x.shape[2], x.dtype)
        return self.network(tf.concat([x, features], axis=-1), training=training)


def image_context_conditioner(
    conditioner, event_shape, input_shape, num_params, context_shape, dtype=tf.float32, name=None, **builder_options
):
    """The conditioner of one image coupling over `event_shape` (transforming `input_shape`)
    conditioned on an image of `context_shape` `(h, w, c)`: the network `conditioner`
    (resolved; None: the default conv net) built by `build_network` without a context,
    wrapped in an `ImageContextConditioner`."""
    network = build_network(
        conditioner, event_shape, input_shape, num_params, None, dtype, f"{name}_network", **builder_options
    )
    return ImageContextConditioner(network, context_shape, dtype=network_dtype_policy(tf.as_dtype(dtype)), name=name)
