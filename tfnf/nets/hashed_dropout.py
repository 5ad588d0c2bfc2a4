"""`HashedDropout`: dropout whose mask is an integer hash under XLA, cheap on CPU.

`keras.layers.Dropout` draws one Philox number per element. Compiled by XLA for
a CPU that costs about 12 ns per element (measured on an AMD EPYC: 32 draws of
`[64, 4, 4, 128]` took 51 ms against 4 ms for the rest of the same function),
so in Glow's coupling networks the random numbers cost as much as the whole
train step. This layer draws no random numbers at all: its key for a call is a
hash of its Keras seed generator's state (a seed and a counter that Keras
advances on every call), and the mask is `hash(hash(index xor key_0) xor key_1)`,
where `index` is the element's flat position and `hash` is a 32-bit integer
mixer (xor-shift multiply, three rounds); both keys come from one hash of a
2-vector, so a call adds about fifty small ops to the graph. The same 32 masks
under XLA cost about 1 ms, and no random-number generator reaches XLA's
compiler (two Philox draws per call in Glow's 32 dropout layers added about 3 s
to compiling its train step).

Without XLA the hash is the slow form: TensorFlow runs each of its dozen integer
operations as a separate kernel over the whole tensor, where its random kernel
is one (forward and backward of an activation `[64, 16, 16, 64]` through two
masks, as in a Glow coupling network, in a TensorFlow graph on 2 Intel cores:
13.8 ms with the hash, 8.6 ms with the kernel, 1.2 ms without dropout; a
memory-saving Glow step, which draws every mask twice, 1.48x the ordinary
step's time with the hash and 1.40x with the kernel). So the 32-bit words compared with the threshold come
from the hash only in a graph XLA compiles (`tfnf.private_apis.in_xla_context`,
or inside `hashed_masks()`: a step traced once and then run with and without
XLA, as `jit_compile="auto"` times it), and otherwise from TensorFlow's
stateless random kernel keyed by the same two keys. A given seed then gives
other masks with XLA than without, and the same masks every time in either.

The mask keeps each element with probability `1 - rate` (up to 2^-32) and
scales kept elements by `1 / (1 - rate)`, as `keras.layers.Dropout` does; masks
of different calls are independent to the quality of the mixer, which is far
more than dropout needs. Seeds follow Keras: `keras.utils.set_random_seed` or
the `seed` argument make the masks reproducible.
"""

from __future__ import annotations

import contextlib
import threading

import keras
import tensorflow as tf

from tfnf.private_apis import in_xla_context, nested_layers

_ROUNDS = ((16, 0x7FEB352D), (15, 0x846CA68B), (16, None))
# two odd constants that keep a zero seed and counter away from zero keys, one per key
_KEY_SALTS = (0x9E3779B9, 0x85EBCA6B)


def mix32(bits):
    """`bits: uint32 tensor -> uint32 tensor of the same shape`, a bijective integer mixer."""
    for shift, multiplier in _ROUNDS:
        bits = tf.bitwise.bitwise_xor(bits, tf.bitwise.right_shift(bits, tf.constant(shift, tf.uint32)))
        if multiplier is not None:
            bits = bits * tf.constant(multiplier, tf.uint32)
    return bits


_tracing = threading.local()  # how many `hashed_masks()` contexts are open on this thread


@contextlib.contextmanager
def hashed_masks():
    """Within: every `HashedDropout` traced draws its masks by the integer hash, as under XLA,
    whether or not the graph is XLA-compiled (for a step traced once and run both ways)."""
    _tracing.depth = getattr(_tracing, "depth", 0) + 1
    try:
        yield
    finally:
        _tracing.depth -= 1


def masks_by_hash():
    """Whether masks drawn now come from the integer hash (under XLA or `hashed_masks()`)."""
    return getattr(_tracing, "depth", 0) > 0 or in_xla_context()


def drops_by_hashed_masks(layers):
    """Whether any of the Keras `layers`, or a layer nested in one, is a `HashedDropout` that drops."""
    return any(
        isinstance(nested, HashedDropout) and nested.rate > 0 for layer in layers for nested in nested_layers(layer)
    )


@keras.saving.register_keras_serializable(package="tfnf")
class HashedDropout(keras.layers.Layer):
    """Dropout with a hashed mask: `x: [...] -> [...]`, identity unless training.

    Args:
      rate: fraction of elements set to zero while training, in [0, 1).
      seed: optional integer seed for the key generator.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        return config

    def compute_output_shape(self, input_shape):
        """The input's shape: dropout keeps it."""
        return input_shape

    def keep_mask(self, shape):
        """`shape` (a 1-D int tensor) -> bool tensor of that shape, True with probability `1 - rate`.
        Advances the seed generator, so every call draws a new mask."""
        seed, counter = tf.unstack(tf.cast(self.seed_generator.next(), tf.uint32))  # low 32 bits of each
        # two keys from one mix of a 2-vector: distinct salts give distinct keys for every counter
        salted = tf.bitwise.bitwise_xor(counter, tf.constant(_KEY_SALTS, tf.uint32))
        key_0, key_1 = tf.unstack(mix32(tf.bitwise.bitwise_xor(mix32(salted), seed)))
        threshold = tf.constant(min(int(round(self.rate * 2**32)), 2**32 - 1), tf.uint32)
        if not masks_by_hash():  # one kernel (see the module docstring)
            keys = tf.bitcast(tf.stack([key_0, key_1]), tf.int32)
            return tf.random.stateless_uniform(shape, keys, minval=None, maxval=None, dtype=tf.uint32) >= threshold
        index = tf.bitcast(tf.range(tf.reduce_prod(shape), dtype=tf.int32), tf.uint32)
        bits = mix32(tf.bitwise.bitwise_xor(mix32(tf.bitwise.bitwise_xor(index, key_0)), key_1))
        return tf.reshape(bits >= threshold, shape)

    def keep_masks(self, count, shape):
        """`count` independent masks of `shape` from one hash (one call's graph instead of
        `count`): a list of `count` bool tensors. Advances the seed generator once."""
        return tf.unstack(self.keep_mask(tf.concat([[count], tf.cast(shape, tf.int32)], axis=0)), num=count)

    def drop(self, inputs, keep):
        """`inputs` with the elements where `keep` is False set to zero and the rest scaled by
        `1 / (1 - rate)`; `keep`: a bool tensor of the same shape."""
        kept = inputs * tf.cast(1.0 / (1.0 - self.rate), inputs.dtype)
        return tf.where(keep, kept, tf.zeros_like(inputs))

    def call(self, inputs, training=None):
        """`inputs` (any shape) with a fresh hashed mask applied while training; unchanged otherwise."""
        if not training or self.rate == 0.0:
            return inputs
        return self.drop(inputs, self.keep_mask(tf.shape(inputs)))
