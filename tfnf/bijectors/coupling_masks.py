"""Coupling masks: which elements of an event condition and which are transformed.

Two kinds, each with a `parity` flag that swaps the roles of the two parts:

* `SplitMask` splits the last axis in two contiguous halves: the `channel` mask
  of images `[H, W, C]` and the `half` mask of vectors `[D]`. The conditioner
  reads only the conditioning half and emits parameters only for the other.
* `CheckerboardMask` alternates elements: the `checkerboard` mask of images
  (over height and width, same for every channel) and the `alternate` mask of
  vectors. The conditioner reads the event with the transformed elements
  zeroed, emits parameters for every element, and the transform is applied
  only where the mask is 0.

Interface: `split(x) -> (x_cond, x_trans)`, `merge(x, y_trans) -> y`,
`log_det_weights` (None, or a 0/1 tensor of the event shape), and the static
shapes `conditioner_input_shape` / `transformed_shape`.
"""

import numpy as np
import tensorflow as tf

IMAGE_MASKS = ("checkerboard", "channel")
VECTOR_MASKS = ("half", "alternate")


class SplitMask:
    """Split the last axis into `[:n]` and `[n:]`, `n = size // 2`.

    With `parity=0` the first part conditions and the second is transformed;
    `parity=1` swaps them.
    """

    def __init__(self, event_shape, parity, dtype):
        self.event_shape = tuple(event_shape)
        size = self.event_shape[-1]
        if size < 2:
            raise ValueError(
                f"a split coupling needs at least 2 elements on the last axis, event_shape={self.event_shape}"
            )
        self.parity = int(parity) % 2
        first = size // 2
        self._sizes = (first, size - first)
        cond, trans = (0, 1) if self.parity == 0 else (1, 0)
        self._cond_index, self._trans_index = cond, trans
        self.conditioner_input_shape = self.event_shape[:-1] + (self._sizes[cond],)
        self.transformed_shape = self.event_shape[:-1] + (self._sizes[trans],)
        self.log_det_weights = None

    def split(self, x):
        parts = tf.split(x, self._sizes, axis=-1)
        return parts[self._cond_index], parts[self._trans_index]

    def merge(self, x, y_trans):
        x_cond = self.split(x)[0]
        parts = [x_cond, y_trans] if self.parity == 0 else [y_trans, x_cond]
        return tf.concat(parts, axis=-1)


class CheckerboardMask:
    """Alternating 0/1 mask; elements where it is 1 condition, 0 are transformed.

    For images the pattern alternates over height and width and is shared by all
    channels; for vectors it alternates over the single axis. `parity` flips it.
    """

    def __init__(self, event_shape, parity, dtype):
        self.event_shape = tuple(event_shape)
        self.parity = int(parity) % 2
        if len(self.event_shape) == 3:
            h, w, c = self.event_shape
            pattern = (np.add.outer(np.arange(h), np.arange(w)) + self.parity) % 2
            pattern = np.repeat(pattern[:, :, None], c, axis=2)
        elif len(self.event_shape) == 1:
            if self.event_shape[0] < 2:
                raise ValueError(f"an alternating coupling needs at least 2 elements, event_shape={self.event_shape}")
            pattern = (np.arange(self.event_shape[0]) + self.parity) % 2
        else:
            raise ValueError(f"checkerboard masks need an event of rank 1 or 3, got event_shape={self.event_shape}")
        self._mask = tf.constant(pattern, dtype=dtype)
        self.conditioner_input_shape = self.event_shape
        self.transformed_shape = self.event_shape
        self.log_det_weights = 1.0 - self._mask

    def split(self, x):
        return x * self._mask, x

    def merge(self, x, y_trans):
        return self._mask * x + (1.0 - self._mask) * y_trans


def make_coupling_mask(mask, event_shape, parity, dtype):
    """Build the mask object named by `mask` for `event_shape`."""
    event_shape = tuple(event_shape)
    if len(event_shape) == 3:
        allowed = IMAGE_MASKS
    elif len(event_shape) == 1:
        allowed = VECTOR_MASKS
    else:
        raise ValueError(f"couplings act on vectors [D] or images [H, W, C], got event_shape={event_shape}")
    if mask not in allowed:
        raise ValueError(f"mask={mask!r} is not valid for event_shape={event_shape}; expected one of {allowed}")
    if mask in ("channel", "half"):
        return SplitMask(event_shape, parity, dtype)
    return CheckerboardMask(event_shape, parity, dtype)
