"""Cutting images into patch tokens and back, and how many patches an image transformer flow uses."""

from __future__ import annotations

import tensorflow as tf

# `default_patch_size` keeps the number of tokens at most this (attention costs grow with its square).
MAX_DEFAULT_TOKENS = 64


def check_patch_size(event_shape, patch_size, owner):
    """`(grid_height, grid_width, token_size)` of `event_shape` `(H, W, C)` cut into `patch_size` squares;
    `ValueError` naming `owner` if the patches do not tile the image."""
    h, w, c = event_shape
    if patch_size < 1 or h % patch_size or w % patch_size:
        raise ValueError(
            f"{owner}: patch_size={patch_size} must divide the image's height and width, got event_shape={tuple(event_shape)}"
        )
    return h // patch_size, w // patch_size, patch_size * patch_size * c


def default_patch_size(event_shape) -> int:
    """The smallest patch size (1, 2, 4, ...) dividing `H` and `W` that gives at most
    `MAX_DEFAULT_TOKENS` patches of at least 2 values each: 2 for 8x8x1 digits (16 tokens of 4
    values), 4 for 32x32x3 (64 tokens of 48 values). Falls back to the whole image as one patch."""
    h, w, c = event_shape
    size = 1
    while h % size == 0 and w % size == 0 and size <= max(h, w):
        if (h // size) * (w // size) <= MAX_DEFAULT_TOKENS and size * size * c >= 2:
            return size
        size *= 2
    return h if h == w else 1


def transformer_patch_size(event_shape, patch_size, width: int, num_heads: int, owner: str) -> int:
    """The patch size of an image transformer flow (`default_patch_size` for None), checked to tile
    `event_shape`, with `width` a multiple of `num_heads`; `ValueError` naming `owner` otherwise."""
    patch = default_patch_size(event_shape) if patch_size is None else patch_size
    check_patch_size(event_shape, patch, owner)
    if width % num_heads:
        raise ValueError(f"{owner}: width={width} must be a multiple of num_heads={num_heads}")
    return patch


def patchify(x: tf.Tensor, patch_size: int) -> tf.Tensor:
    """`[batch, H, W, C]` -> `[batch, (H/p)(W/p), p p C]`: patches in row-major order, each a token
    of its pixels (row-major within the patch, channels last). Static `H`, `W`, `C`."""
    _, h, w, c = x.shape
    p = patch_size
    x = tf.reshape(x, [-1, h // p, p, w // p, p, c])
    x = tf.transpose(x, [0, 1, 3, 2, 4, 5])
    return tf.reshape(x, [-1, (h // p) * (w // p), p * p * c])


def unpatchify(tokens: tf.Tensor, patch_size: int, event_shape) -> tf.Tensor:
    """The inverse of `patchify`: `[batch, T, p p C]` -> `[batch, H, W, C]` for `event_shape` `(H, W, C)`."""
    h, w, c = event_shape
    p = patch_size
    x = tf.reshape(tokens, [-1, h // p, w // p, p, p, c])
    x = tf.transpose(x, [0, 1, 3, 2, 4, 5])
    return tf.reshape(x, [-1, h, w, c])
